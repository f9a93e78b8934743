"""Seed groups of a sweep train as one vmapped program and give each member its own run's
results; a group stopped by SIGTERM resumes from its members' checkpoints."""

import json
import os
import signal
import subprocess
import sys
import time

import ml_collections
import numpy as np
import pytest
from conftest import REPO, run_pgx

from pgx_jax.checkpoint import load_state_tree
from pgx_jax.data import sampling
from pgx_jax.experiment import Experiment, Predictor
from pgx_jax.models import create_model
from pgx_jax.train import loop, sweep
from pgx_jax.train.writers import read_metrics

SEEDS = (0, 1, 2)
OVERRIDES = {
    "data.num_examples": 1200,
    "train.num_steps": 12,
    "train.eval_every_steps": 2,
    "train.log_every_steps": 1,
    "train.early_stopping.patience": 2,
}


def _config() -> ml_collections.ConfigDict:
    from configs.binding.deepbind import get_config

    return sweep.apply_overrides(get_config(), OVERRIDES)


def _member(workdir: str, seed: int) -> str:
    return os.path.join(workdir, f"seed={seed}")


@pytest.fixture(scope="module")
def vmapped(tmp_path_factory) -> str:
    workdir = str(tmp_path_factory.mktemp("vmapped"))
    sweep.run(_config(), [{"seed": s} for s in SEEDS], workdir, vmap_seeds=True)
    return workdir


def _results(workdir: str) -> dict:
    with open(os.path.join(workdir, "results.json")) as f:
        return json.load(f)


def _params(workdir: str, kind: str) -> np.ndarray:
    _, state = load_state_tree(workdir, kind)
    return _flat(state["params"])


@pytest.mark.slow
def test_members_equal_their_single_runs(vmapped, tmp_path, capsys):
    separate = str(tmp_path / "separate")
    sweep.run(_config(), [{"seed": s} for s in SEEDS], separate, vmap_seeds=False)
    assert "as one vmapped program" not in capsys.readouterr().out
    stop_steps = set()
    for seed in SEEDS:
        group, single = _member(vmapped, seed), _member(separate, seed)
        got, want = _results(group), _results(single)
        assert got["train/steps"] == want["train/steps"] and got["best_step"] == want["best_step"]
        stop_steps.add(want["train/steps"])
        for key in [k for k in want if k.startswith("test/")]:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5, err_msg=key)
        for kind in ("latest", "best"):
            np.testing.assert_allclose(
                _params(group, kind), _params(single, kind), rtol=1e-4, atol=1e-5
            )
        losses = [[m.get("train/loss") for m in read_metrics(w)] for w in (group, single)]
        assert [x is None for x in losses[0]] == [x is None for x in losses[1]]
        np.testing.assert_allclose(
            [x for x in losses[0] if x is not None],
            [x for x in losses[1] if x is not None],
            rtol=1e-4,
        )
        predictions = [np.load(os.path.join(w, "test_predictions.npz")) for w in (group, single)]
        np.testing.assert_allclose(
            predictions[0]["predictions"], predictions[1]["predictions"], rtol=1e-4, atol=1e-5
        )
    # Early stopping froze some members while the others trained on: the masking was exercised.
    assert len(stop_steps) > 1, stop_steps
    with open(os.path.join(vmapped, "sweep.md")) as f:
        assert f.read().count("\n") == 2 + len(SEEDS)


@pytest.mark.slow
def test_stopped_group_resumes_to_the_same_end(vmapped, tmp_path):
    sweep_file = tmp_path / "seeds.py"
    sweep_file.write_text(
        f"def get_sweep(arg=None):\n    return [{{'seed': s}} for s in {SEEDS}]\n"
    )
    args = [
        "sweep",
        "--config=configs/binding/deepbind.py",
        f"--sweep={sweep_file}",
        *[f"--config.{key}={value}" for key, value in OVERRIDES.items()],
        f"--workdir={tmp_path / 'runs'}",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "pgx_jax.cli", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    latest = os.path.join(_member(str(tmp_path / "runs"), SEEDS[-1]), "checkpoints", "latest")
    deadline = time.time() + 240
    while time.time() < deadline and not (os.path.isdir(latest) and _steps(latest)):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    stopped_at = int(stderr.split("at step ")[-1].split(";")[0])
    assert stopped_at < OVERRIDES["train.num_steps"]

    resumed = run_pgx(args)
    assert "resuming from step" in resumed.stdout
    for seed in SEEDS:
        member = _member(str(tmp_path / "runs"), seed)
        want = _results(_member(vmapped, seed))
        got = _results(member)
        assert {k: got[k] for k in want if k.startswith("test/")} == {
            k: want[k] for k in want if k.startswith("test/")
        }
        np.testing.assert_array_equal(
            _params(member, "latest"), _params(_member(vmapped, seed), "latest")
        )


def test_group_resumes_only_from_one_common_step():
    """Members still training must share their checkpoint step; stopped ones may lag."""

    def member(step: int, stopped: bool):
        meta = {"stopped_early": stopped}
        return loop._Member(None, None, f"seed={step}", None, meta, step)

    assert loop._common_step([member(8, False), member(4, True), member(8, False)]) == 8
    assert loop._common_step([member(4, True), member(6, True)]) == 6
    with pytest.raises(loop.MembersOutOfStep, match="different steps"):
        loop._common_step([member(8, False), member(0, False)])


def test_seed_groups_and_what_keeps_a_group_apart():
    config = _config()
    assert sweep._without_seed({"a": 1, "seed": 0}) == sweep._without_seed({"seed": 3, "a": 1})
    assert sweep._without_seed({"a": 1, "seed": 0}) != sweep._without_seed({"a": 2, "seed": 0})
    assert sweep._config_obstacle(config) is None
    with_protocol = sweep.apply_overrides(config, {"protocol.field": "data.fold"})
    assert "protocol" in sweep._config_obstacle(with_protocol)

    def experiment(num_filters: int, order=None) -> Experiment:
        model = create_model(name="deepbind", num_filters=num_filters)
        return Experiment(Predictor(model, "binary", None, ()), {}, order=order)

    assert sweep._experiment_obstacle([experiment(4), experiment(4)]) is None
    assert "depends on the seed" in sweep._experiment_obstacle([experiment(4), experiment(5)])
    order = sampling.shuffled(10)
    own_order = [experiment(4, order=order), experiment(4, order=order)]
    assert "its own training order" in sweep._experiment_obstacle(own_order)


def _steps(directory: str) -> list[str]:
    return [name for name in os.listdir(directory) if name.isdigit()]


def _flat(tree: dict) -> np.ndarray:
    """All leaves of a nested dict, in sorted key order, as one vector."""
    parts = [_flat(v) if isinstance(v, dict) else np.ravel(v) for _, v in sorted(tree.items())]
    return np.concatenate(parts)
