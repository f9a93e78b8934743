"""Two processes under `jax.distributed` (CPU collectives on localhost) train like one."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, run_pgx

from pgx_jax.checkpoint import load_state_tree
from pgx_jax.train.writers import read_metrics

ARGS = [
    "train",
    "--config=configs/binding/deepbind.py",
    "--config.data.num_examples=3000",
    "--config.train.num_steps=30",
    "--config.train.log_every_steps=2",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    single = str(tmp_path / "single")
    run_pgx([*ARGS, f"--workdir={single}"])

    shared = str(tmp_path / "two")
    port = _free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "pgx_jax.cli", *ARGS, f"--workdir={shared}"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={
                **os.environ,
                "PGX_COORDINATOR": f"127.0.0.1:{port}",
                "PGX_NUM_PROCESSES": "2",
                "PGX_PROCESS_ID": str(rank),
            },
        )
        for rank in range(2)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]

    step_single, state_single = load_state_tree(single)
    step_two, state_two = load_state_tree(shared)
    assert step_single == step_two == 30
    np.testing.assert_allclose(
        _flat(state_two["params"]), _flat(state_single["params"]), rtol=1e-4, atol=1e-5
    )
    curve = [(m["step"], m["train/loss"]) for m in read_metrics(single) if "train/loss" in m]
    curve_two = [(m["step"], m["train/loss"]) for m in read_metrics(shared) if "train/loss" in m]
    assert [s for s, _ in curve] == [s for s, _ in curve_two]
    np.testing.assert_allclose([v for _, v in curve], [v for _, v in curve_two], rtol=1e-4)


def _flat(tree: dict) -> np.ndarray:
    """All leaves of a nested dict, in sorted key order, as one vector."""
    parts = [_flat(v) if isinstance(v, dict) else np.ravel(v) for _, v in sorted(tree.items())]
    return np.concatenate(parts)
