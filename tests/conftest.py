"""Shared test setup: a per-session TFDS cache, helpers to run `pgx` in a subprocess, and a
tiny DeepBind with random one-hot batches for train-step tests."""

import contextlib
import json
import os
import signal
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.environ.get("PGX_DATA_DIR") or os.path.join(
    os.path.dirname(REPO), "shared", "data"
)


@pytest.fixture(scope="session", autouse=True)
def tfds_cache(tmp_path_factory):
    """Prepared data sets go to a fresh directory per test session, never the user's cache."""
    path = str(tmp_path_factory.mktemp("tfds"))
    os.environ["PGX_TFDS_DIR"] = path
    os.environ.setdefault("PGX_DATA_DIR", SHARED_DATA)
    return path


def run_pgx(args: list[str], env: dict | None = None, check: bool = True, **kwargs):
    """Run `pgx ARGS` with the current interpreter; returns the CompletedProcess."""
    result = subprocess.run(
        [sys.executable, "-m", "pgx_jax.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"pgx {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def read_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


TINY_LENGTH = 30


def tiny_deepbind():
    """A DeepBind small enough for unit tests of the train step (no dropout)."""
    from pgx_jax.models import create_model

    return create_model("deepbind", num_filters=4, filter_width=6, hidden=8, dropout_rate=0.0)


def tiny_batch(seed: int = 0) -> dict:
    """16 random one-hot sequences of TINY_LENGTH with random binary labels."""
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (16, TINY_LENGTH))]
    return {
        "inputs": {"x": jnp.asarray(x), "mask": jnp.ones((16, TINY_LENGTH), bool)},
        "label": jnp.asarray(rng.integers(0, 2, 16).astype(np.float32)),
        "weight": jnp.ones(16, jnp.float32),
    }


@contextlib.contextmanager
def interrupted_at(step: int):
    """Within the block, the training loop receives SIGINT (Ctrl-C) as it starts step `step`
    (1-based), as a user pressing Ctrl-C mid-run would send it."""
    from pgx_jax.train import loop

    step_once = loop._Training._step

    def interrupted(self, state, done):
        if done + 1 == step:
            os.kill(os.getpid(), signal.SIGINT)
        return step_once(self, state, done)

    loop._Training._step = interrupted
    try:
        yield
    finally:
        loop._Training._step = step_once
