"""End-to-end training through `pgx train`: the default run, determinism across device counts,
exact resume after a stop, and the command's handling of bad configs."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, read_json, run_pgx

from pgx_jax.checkpoint import load_state_tree
from pgx_jax.train.writers import read_metrics

CONFIG = "configs/binding/deepbind.py"
SMALL = [
    f"--config={CONFIG}",
    "--config.data.num_examples=3000",
    "--config.train.log_every_steps=2",
]


def _train_curve(workdir: str) -> list[tuple[int, float]]:
    return [(m["step"], m["train/loss"]) for m in read_metrics(workdir) if "train/loss" in m]


def _assert_same_params(a: str, b: str, **tolerance) -> None:
    step_a, tree_a = load_state_tree(a)
    step_b, tree_b = load_state_tree(b)
    assert step_a == step_b
    flat_a = dict(_flatten(tree_a["params"]))
    flat_b = dict(_flatten(tree_b["params"]))
    assert flat_a.keys() == flat_b.keys()
    for key in flat_a:
        np.testing.assert_allclose(flat_a[key], flat_b[key], err_msg=key, **tolerance)


def _count_lines(path: str) -> int:
    with open(path) as f:
        return f.read().count("\n")


def _flatten(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.slow
def test_default_run_learns_planted_motif(tmp_path):
    """`pgx train` with no config: test AUROC >= 0.95 and the planted JASPAR motif is named."""
    workdir = str(tmp_path / "default")
    result = run_pgx(["train", f"--workdir={workdir}"])
    results = read_json(os.path.join(workdir, "results.json"))
    assert results["test/auroc"] >= 0.95
    assert results["motif/best_match"] == results["motif/planted"] == "MA0139.2 CTCF"
    assert "test/auroc:" in result.stdout and "motif/best_match: MA0139.2 CTCF" in result.stdout
    for name in ("config.json", "metrics.jsonl", "checkpoints", "motifs.tsv", "tensorboard"):
        assert os.path.exists(os.path.join(workdir, name)), name
    config = read_json(os.path.join(workdir, "config.json"))
    assert config["model"]["name"] == "deepbind" and config["data"]["motif_id"] == "MA0139"


@pytest.mark.slow
def test_one_and_eight_devices_train_alike(tmp_path):
    """The same config on 1 and on 8 host devices gives the same parameters and curve."""
    workdirs = {}
    for devices in (1, 8):
        workdirs[devices] = str(tmp_path / f"d{devices}")
        env = {"XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
        run_pgx(
            ["train", *SMALL, "--config.train.num_steps=30", f"--workdir={workdirs[devices]}"],
            env=env,
        )
    _assert_same_params(workdirs[1], workdirs[8], rtol=1e-4, atol=1e-5)
    curve_1, curve_8 = _train_curve(workdirs[1]), _train_curve(workdirs[8])
    assert [s for s, _ in curve_1] == [s for s, _ in curve_8]
    np.testing.assert_allclose([v for _, v in curve_1], [v for _, v in curve_8], rtol=1e-4)


@pytest.mark.slow
def test_stopped_run_resumes_exactly(tmp_path):
    """SIGTERM mid-run saves a checkpoint; rerunning the command ends where an uninterrupted
    run ends, bit for bit, with the same training curve."""
    args = [*SMALL, "--config.train.num_steps=400"]
    whole = str(tmp_path / "whole")
    run_pgx(["train", *args, f"--workdir={whole}"])

    stopped = str(tmp_path / "stopped")
    process = subprocess.Popen(
        [sys.executable, "-m", "pgx_jax.cli", "train", *args, f"--workdir={stopped}"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = os.path.join(stopped, "metrics.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if os.path.exists(metrics) and _count_lines(metrics) >= 10:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "rerun the same command to resume" in stderr
    stopped_at, _ = load_state_tree(stopped)
    assert 0 < stopped_at < 400

    resumed = run_pgx(["train", *args, f"--workdir={stopped}"])
    assert f"resuming from step {stopped_at}" in resumed.stdout
    _assert_same_params(whole, stopped, rtol=0, atol=0)
    assert _train_curve(whole) == _train_curve(stopped)
    assert read_json(os.path.join(whole, "results.json")) == read_json(
        os.path.join(stopped, "results.json")
    )
    once, twice = (read_json(os.path.join(w, "provenance.json")) for w in (whole, stopped))
    assert "resumes" not in once and [r["step"] for r in twice["resumes"]] == [stopped_at]
    assert twice["started"] <= twice["resumes"][0]["at"] <= twice["finished"]
    assert twice["session_seconds"] <= twice["run_seconds"]
    data = read_json(os.path.join(stopped, "data_summary.json"))
    assert {k: v["records"] for k, v in data["splits"].items()} == {
        "train": 2400, "validation": 300, "test": 300
    }  # fmt: skip


def test_unknown_config_key_is_one_clear_line(tmp_path):
    result = run_pgx(
        [
            "train",
            f"--config={CONFIG}",
            "--config.optimizer.learnin_rate=0.1",
            f"--workdir={tmp_path}",
        ],
        check=False,
    )
    assert result.returncode == 1
    assert "learnin_rate" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_config_argument_and_model_field(tmp_path):
    result = run_pgx(
        ["train", f"--config={CONFIG}:motiff=MA0138", f"--workdir={tmp_path}"], check=False
    )
    assert result.returncode == 1 and "motiff" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_prints_usage():
    result = run_pgx(["trian"], check=False)
    assert result.returncode == 2 and "usage: pgx" in result.stderr
