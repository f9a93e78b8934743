"""`pgx tune`: members of a population equal their trials run alone; a stopped search resumes
without repeating finished trials (an exception in a trial, a trial a kill left RUNNING);
the pruner stops trials; a protocol's folds are the objective; the command writes its table,
plots, `best` (a run `pgx predict` restores) and report."""

import json
import os

import numpy as np
import optuna
import pytest
from conftest import read_json

from pgx_jax import runs, tune
from pgx_jax.checkpoint import load_state_tree
from pgx_jax.errors import PgxError
from pgx_jax.experiment import build_experiment
from pgx_jax.interpret.report import write_report
from pgx_jax.train import loop, protocol, sweep
from pgx_jax.train.writers import read_metrics

OVERRIDES = {
    "data.num_examples": 1200,
    "train.num_steps": 12,
    "train.eval_every_steps": 2,
    "train.log_every_steps": 1,
    "train.early_stopping.patience": 2,
}
SPACE = {
    "optimizer.learning_rate": ("log", 1e-3, 1e-2),
    "optimizer.weight_decay": ("log", 1e-6, 1e-3),
}


def _config(**more):
    from configs.binding.deepbind import get_config

    return sweep.apply_overrides(get_config(), {**OVERRIDES, **more})


def _flat(tree) -> np.ndarray:
    import jax

    return np.concatenate([np.ravel(x) for x in jax.tree.leaves(tree)])


def test_population_members_equal_their_trials_alone(tmp_path):
    points = [(3e-3, 1e-4, 0), (1e-2, 1e-5, 1)]
    configs = [
        _config(**{"optimizer.learning_rate": lr, "optimizer.weight_decay": wd, "seed": seed})
        for lr, wd, seed in points
    ]
    together = [str(tmp_path / f"population/{k}") for k in range(len(configs))]
    loop.fit_members(configs, [build_experiment(c) for c in configs], together)
    for config, member in zip(configs, together, strict=True):
        alone = member.replace("population", "alone")
        want, got = (
            loop.fit(config, build_experiment(config), alone),
            read_json(os.path.join(member, "results.json")),
        )
        assert got["train/steps"] == want["train/steps"] and got["best_step"] == want["best_step"]
        for key in [k for k in want if k.startswith("test/")]:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5, err_msg=key)
        for kind in ("latest", "best"):
            np.testing.assert_allclose(
                _flat(load_state_tree(member, kind)[1]["params"]),
                _flat(load_state_tree(alone, kind)[1]["params"]),
                rtol=1e-4,
                atol=1e-5,
            )
        losses = [
            [m["train/loss"] for m in read_metrics(w) if "train/loss" in m] for w in (member, alone)
        ]
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4, atol=1e-5)
        runs.load_run(member)  # a member's checkpoints have its own run's layout
    first = read_json(os.path.join(together[0], "results.json"))
    assert first["test/auroc"] != read_json(os.path.join(together[1], "results.json"))["test/auroc"]


def test_members_may_differ_only_in_shape_preserving_fields():
    configs = [_config(), _config(**{"optimizer.learning_rate": 1e-2, "model.num_filters": 8})]
    with pytest.raises(PgxError, match="may differ only in seed"):
        loop._population_values(configs)


class FakeFit:
    """`loop.fit` that trains nothing: it reports a validation AUROC rising towards a value set
    by the learning rate, writes the files `tune` reads, and can fail once for a trial."""

    def __init__(self, root: str):
        self.root, self.workdirs, self.fail_in = root, [], ""

    def __call__(self, config, experiment, workdir, on_validation=None):
        self.workdirs.append(os.path.relpath(workdir, self.root))
        if self.fail_in and self.fail_in in workdir:
            self.fail_in = ""
            raise RuntimeError("killed")
        os.makedirs(workdir, exist_ok=True)
        target = 0.5 + 10 * config.optimizer.learning_rate + 0.01 * config.data.get("fold", 0)
        lines = []
        for step in (2, 4, 6):
            value = target * step / 6
            lines.append({"step": step, "validation/auroc": value})
            if on_validation is not None and on_validation(0, step, lines[-1]):
                break
        with open(os.path.join(workdir, "metrics.jsonl"), "w") as f:
            f.writelines(json.dumps(line) + "\n" for line in lines)
        results = {"best_step": lines[-1]["step"], "test/auroc": lines[-1]["validation/auroc"]}
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(results, f)
        return results


@pytest.fixture
def fake_fit(monkeypatch, tmp_path):
    fake = FakeFit(str(tmp_path))
    monkeypatch.setattr(tune.loop, "fit", fake)
    monkeypatch.setattr(tune, "build_experiment", lambda config: None)
    return fake


def _states(workdir: str) -> list[str]:
    study = optuna.load_study(study_name="tune", storage=f"sqlite:///{workdir}/tune.db")
    return [t.state.name for t in study.get_trials()]


def test_a_stopped_search_resumes_without_repeating_finished_trials(tmp_path, fake_fit):
    workdir = str(tmp_path)
    fake_fit.fail_in = "trial_2"
    with pytest.raises(RuntimeError, match="killed"):
        tune.search(_config(), SPACE, workdir, 4, sampler="random", population=1)
    assert _states(workdir) == ["COMPLETE", "COMPLETE", "FAIL"]
    first = read_json(os.path.join(workdir, "trial_0", "results.json"))
    storage = f"sqlite:///{workdir}/tune.db"
    optuna.load_study(study_name="tune", storage=storage).ask()  # trial 3: a kill mid-run
    fake_fit.workdirs.clear()
    study = tune.search(_config(), SPACE, workdir, 4, sampler="random", population=1)
    assert fake_fit.workdirs == ["trial_4", "trial_5"]
    assert _states(workdir) == ["COMPLETE", "COMPLETE", "FAIL", "FAIL", "COMPLETE", "COMPLETE"]
    assert read_json(os.path.join(workdir, "trial_0", "results.json")) == first
    assert study.best_trial.value == max(t.value for t in study.trials if t.value is not None)
    fake_fit.workdirs.clear()
    tune.search(_config(), SPACE, workdir, 4, sampler="random", population=1)
    assert fake_fit.workdirs == []  # 4 counted already: nothing to run
    assert os.path.realpath(os.path.join(workdir, "best")).endswith(
        f"trial_{study.best_trial.number}"
    )
    with pytest.raises(PgxError, match="another space"):
        tune.search(_config(), {**SPACE, "seed": ("int", 0, 3)}, workdir, 5)


def test_the_pruner_stops_trials_below_the_median(tmp_path, fake_fit):
    study = tune.search(_config(), SPACE, str(tmp_path), 12, sampler="random", population=1)
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned and all(max(t.intermediate_values) < 6 for t in pruned)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert all(sorted(t.intermediate_values) == [2, 4, 6] for t in complete)
    unpruned = tune.search(_config(), SPACE, str(tmp_path / "all"), 8, population=1, pruning=False)
    assert {t.state.name for t in unpruned.trials} == {"COMPLETE"}


def test_the_grid_runs_each_point_once(tmp_path, fake_fit):
    space = {k: ("choice", [1e-3, 2e-3]) for k in SPACE}
    study = tune.search(_config(), space, str(tmp_path), 4, sampler="grid", population=1)
    points = {tuple(t.params.values()) for t in study.trials}
    assert len(study.trials) == 4 and len(points) == 4


def test_with_a_protocol_the_objective_is_the_mean_over_folds(tmp_path, fake_fit, monkeypatch):
    monkeypatch.setattr(protocol, "fit", fake_fit)
    monkeypatch.setattr(protocol, "build_experiment", lambda config: None)
    config = _config(**{"protocol.field": "data.seed", "protocol.choices": (0, 1, 2)})
    config.protocol.final = -1
    study = tune.search(config, SPACE, str(tmp_path), 2, metric="test/auroc", population=1)
    for trial in study.trials:
        lr = trial.params["optimizer.learning_rate"]
        assert trial.value == pytest.approx(0.5 + 10 * lr)
        assert read_json(str(tmp_path / f"trial_{trial.number}/results.json"))["protocol/field"]
    best = f"trial_{study.best_trial.number}"
    assert fake_fit.workdirs[-1] == f"{best}/data.seed=-1"  # the final run: the best trial only
    assert "final/test/auroc" in read_json(str(tmp_path / "best/results.json"))
    with pytest.raises(PgxError, match="tune on validation"):
        tune.search(_config(), SPACE, str(tmp_path / "x"), 1, metric="test/auroc")


def test_pgx_tune_writes_table_plots_best_and_report(tmp_path, capsys):
    from pgx_jax import cli

    workdir = str(tmp_path / "tune")
    overrides = [f"--config.{k}={v}" for k, v in OVERRIDES.items()]
    argv = ["tune", "--config", "configs/binding/deepbind.py", "--space", "spaces/deepbind.py"]
    assert (
        cli.main([*argv, "--workdir", workdir, "--trials", "2", "--population", "2", *overrides])
        == 0
    )
    out = capsys.readouterr().out
    assert "as one population" in out and "| trial | state |" in out
    for name in ("tune.csv", "tune.md", "tune_history.png", "tune_parallel.png", "best"):
        assert os.path.exists(os.path.join(workdir, name)), name
    run = runs.load_run(os.path.join(workdir, "best"))
    assert run.kind == "best"
    with open(write_report(workdir)) as f:
        page = f.read()
    assert "2 search trials" in page and "Search (pgx tune)" in page and "tune_history.png" in page
