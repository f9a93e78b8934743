"""Two processes under `jax.distributed` (CPU collectives on localhost) train like one, and a
two-process run stopped by SIGTERM writes a checkpoint from both processes and resumes from it."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, run_pgx

from pgx_jax.checkpoint import load_state_tree
from pgx_jax.train.writers import read_metrics

pytestmark = pytest.mark.slow

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


def _start_two(workdir: str) -> list[subprocess.Popen]:
    """`pgx ARGS` in two processes that form one `jax.distributed` job."""
    port = _free_port()
    return [
        subprocess.Popen(
            [sys.executable, "-m", "pgx_jax.cli", *ARGS, f"--workdir={workdir}"],
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


def _finish(processes: list[subprocess.Popen], returncode: int = 0) -> list[tuple[str, str]]:
    """Wait for both processes; each must exit with `returncode`. Returns (stdout, stderr)."""
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == returncode, stderr[-3000:]
        outputs.append((stdout, stderr))
    return outputs


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> str:
    """The uninterrupted one-process run both tests compare with."""
    workdir = str(tmp_path_factory.mktemp("single"))
    run_pgx([*ARGS, f"--workdir={workdir}"])
    return workdir


def test_two_processes_match_one(single, tmp_path):
    shared = str(tmp_path / "two")
    _finish(_start_two(shared))

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


def test_two_processes_stopped_by_sigterm_resume_from_their_checkpoint(single, tmp_path):
    """SIGTERM to one process: the processes compare stop flags at logging steps, both stop and save
    it together (orbax multi-process save); the same command restores it in both processes and
    ends where the uninterrupted one-process run ends."""
    shared = str(tmp_path / "two")
    latest = os.path.join(shared, "checkpoints", "latest")
    processes = _start_two(shared)
    deadline = time.time() + 240
    while time.time() < deadline and not _steps(latest):
        assert all(p.poll() is None for p in processes), "a process ended before its first save"
        time.sleep(0.1)
    processes[1].send_signal(signal.SIGTERM)
    outputs = _finish(processes, returncode=143)
    stopped = [int(err.split("at step ")[-1].split(";")[0]) for _, err in outputs]
    assert stopped[0] == stopped[1] < 30 and _steps(latest)[-1] == stopped[0]
    state_dir = os.path.join(latest, str(stopped[0]), "state")
    for rank in range(2):  # each process wrote its part of the orbax (OCDBT) checkpoint
        assert os.listdir(os.path.join(state_dir, f"ocdbt.process_{rank}", "d"))
        assert os.path.exists(os.path.join(state_dir, "array_metadatas", f"process_{rank}"))

    resumed = _finish(_start_two(shared))
    assert all(f"resuming from step {stopped[0]}" in out for out, _ in resumed)
    step_single, state_single = load_state_tree(single)
    step_two, state_two = load_state_tree(shared)
    assert step_two == step_single == 30
    np.testing.assert_allclose(
        _flat(state_two["params"]), _flat(state_single["params"]), rtol=1e-4, atol=1e-5
    )
    steps = [m["step"] for m in read_metrics(shared) if "train/loss" in m]
    assert steps == list(range(2, 31, 2))


def _steps(directory: str) -> list[int]:
    """The steps of the complete checkpoints in an orbax manager's directory."""
    if not os.path.isdir(directory):
        return []
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def _flat(tree: dict) -> np.ndarray:
    """All leaves of a nested dict, in sorted key order, as one vector."""
    parts = [_flat(v) if isinstance(v, dict) else np.ravel(v) for _, v in sorted(tree.items())]
    return np.concatenate(parts)
