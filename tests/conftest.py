"""Shared test setup: a per-session TFDS cache and helpers to run `pgx` in a subprocess."""

import json
import os
import subprocess
import sys

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
