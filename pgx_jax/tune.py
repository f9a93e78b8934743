"""`pgx tune`: a hyperparameter search with Optuna over a space file; each trial an ordinary run.

A space file defines `get_space(arg=None) -> dict` mapping dotted config fields to
`("log", low, high)`, `("float", low, high)`, `("int", low, high)` or `("choice", [values])`.
The study lives in `<workdir>/tune.db` (SQLite, Optuna's own storage): TPE by default
(random, or a grid over choices: each point enqueued once), seeded by `config.seed`, with a
median pruner. Trial k is the config with its sampled values (`sweep.apply_overrides`) run
in `<workdir>/trial_<k>`.

The objective is `metric`: a `validation/` metric at the run's best step (early stopping) or
last evaluation, reported to the pruner at every evaluation; with a protocol (`data.fold` over
folds), the mean over the folds, reported after each fold (a `test/` metric there means the
folds' held-out parts, never the independent test set, which only the protocol's `final` run
sees, and only for the best trial). The search stops when `trials` trials are complete or
pruned, counted as `optuna.study.MaxTrialsCallback(trials, states=COUNTED)` counts, so a rerun
resumes: finished trials stay, a trial a kill left RUNNING is failed and replaced.

Populations: when every field of the space keeps the model's shapes
(`SHAPE_PRESERVING`), trials are asked `population` at a time and train as one vmapped program
(`loop.fit_members`, fold by fold under a protocol), each member pruned on its own.

Outputs: `tune.csv` and `tune.md` (one row per trial), Optuna's matplotlib plots as PNG, and
`best`, a link to the best trial's workdir (after the protocol's `final` run, if it has one).
"""

import itertools
import json
import os
import warnings
from typing import Any

import jax
import ml_collections
import numpy as np
import optuna

from pgx_jax.errors import PgxError
from pgx_jax.experiment import build_experiment
from pgx_jax.train import loop, protocol, sweep
from pgx_jax.train.writers import read_metrics

COUNTED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
SHAPE_PRESERVING = ("seed", "optimizer.learning_rate", "optimizer.weight_decay")
"""Fields a population's members may differ in (`loop.fit_members`)."""
KINDS = ("log", "float", "int", "choice")
PLOTS = {
    "tune_history.png": "plot_optimization_history",
    "tune_importances.png": "plot_param_importances",
    "tune_parallel.png": "plot_parallel_coordinate",
}


def suggest(trial: optuna.Trial, space: dict[str, tuple]) -> dict[str, Any]:
    """The trial's values of every field of the space."""
    values = {}
    for field, spec in space.items():
        kind = spec[0] if isinstance(spec, tuple | list) and spec else None
        if kind in ("log", "float") and len(spec) == 3:
            values[field] = trial.suggest_float(field, spec[1], spec[2], log=kind == "log")
        elif kind == "int" and len(spec) == 3:
            values[field] = trial.suggest_int(field, spec[1], spec[2])
        elif kind == "choice" and len(spec) == 2 and len(spec[1]):
            values[field] = trial.suggest_categorical(field, list(spec[1]))
        else:
            raise PgxError(
                f"space: {field}: {spec!r}; give (kind, low, high) or ('choice', [values]) "
                f"with kind one of {', '.join(KINDS)}"
            )
    return values


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """TPE, or random (also behind the grid, whose points are enqueued: `enqueue_grid`)."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name in ("random", "grid"):
        return optuna.samplers.RandomSampler(seed=seed)
    raise PgxError(f"--sampler: {name!r}; one of tpe, random, grid")


def enqueue_grid(study: optuna.Study, space: dict[str, tuple]) -> None:
    """Enqueue every point of the grid of choices not yet complete, pruned or waiting (Optuna's
    GridSampler stops the study from inside, which only `study.optimize` allows; the trials
    asked here are `ask`ed and `tell`ed, as populations need)."""
    ranged = [f for f, spec in space.items() if spec[0] != "choice"]
    if ranged:
        raise PgxError(f"--sampler grid: {', '.join(ranged)} not a choice; grid needs lists")
    states = (*COUNTED, optuna.trial.TrialState.WAITING)
    taken = [
        t.params or t.system_attrs.get("fixed_params") for t in study.get_trials(states=states)
    ]
    for values in itertools.product(*(spec[1] for spec in space.values())):
        point = dict(zip(space, values, strict=True))
        if point not in taken:
            study.enqueue_trial(point)


def open_study(
    workdir: str, config, space, sampler: str, direction: str, pruning: bool = True
) -> optuna.Study:
    """The study of `workdir/tune.db`, made or resumed (with a median pruner, or none); trials
    left RUNNING by a kill are failed. PgxError when the workdir's study searched another
    config or space."""
    os.makedirs(workdir, exist_ok=True)
    study = optuna.create_study(
        storage=f"sqlite:///{os.path.abspath(os.path.join(workdir, 'tune.db'))}",
        study_name="tune",
        load_if_exists=True,
        direction="maximize" if direction == "max" else "minimize",
        sampler=make_sampler(sampler, config.seed),
        pruner=optuna.pruners.MedianPruner() if pruning else optuna.pruners.NopPruner(),
    )
    own = {"config": config.to_json_best_effort(sort_keys=True), "space": repr(space)}
    for key, value in own.items():
        if study.user_attrs.get(key, value) != value:
            raise PgxError(f"{workdir}/tune.db searched another {key}; use a new --workdir")
        study.set_user_attr(key, value)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        print(f"tune: trial {trial.number} was stopped while running; marked failed")
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    if sampler == "grid":
        enqueue_grid(study, space)
    return study


def counted(study: optuna.Study) -> int:
    """Trials that count towards the total (MaxTrialsCallback's rule)."""
    return len(study.get_trials(deepcopy=False, states=COUNTED))


def _results(workdir: str) -> dict:
    with open(os.path.join(workdir, "results.json")) as f:
        return json.load(f)


def run_value(workdir: str, metric: str) -> float:
    """A run's `metric`: a `validation/` one at its best step (or last evaluation), any other
    from its results.json."""
    results = _results(workdir)
    if not metric.startswith("validation/"):
        if metric not in results:
            raise PgxError(f"--metric: {metric!r} not in {workdir}/results.json")
        return float(results[metric])
    lines = [line for line in read_metrics(workdir) if metric in line]
    if not lines:
        raise PgxError(f"--metric: {metric!r} never evaluated in {workdir}/metrics.jsonl")
    at = [line for line in lines if line["step"] == results.get("best_step")] or lines
    return float(at[-1][metric])


class _Batch:
    """Trials trained together (a population) or one: their configs, workdirs and pruning."""

    def __init__(self, trials, config, space, workdir: str, metric: str):
        self.trials = trials
        self.params = [suggest(trial, space) for trial in trials]
        self.configs = [sweep.apply_overrides(config, p) for p in self.params]
        self.workdirs = [os.path.join(workdir, f"trial_{t.number}") for t in trials]
        self.metric = metric
        self.pruned = [False] * len(trials)
        self.folds: list[list[float]] = [[] for _ in trials]  # each run's metric
        self.fold_names: list[list[str]] = [[] for _ in trials]

    def run(self, population: bool) -> None:
        """Train every trial (fold by fold under a protocol), reporting to the pruner."""
        field = (self.configs[0].get("protocol") or {}).get("field")
        for index, value in enumerate(self.configs[0].protocol.choices if field else [None]):
            alive = [k for k in range(len(self.trials)) if not self.pruned[k]]
            name = f"{field}={value}"  # the folder protocol.run gives that fold
            configs = [
                sweep.apply_overrides(self.configs[k], {field: value}) if field else self.configs[k]
                for k in alive
            ]
            dirs = [
                os.path.join(self.workdirs[k], name) if field else self.workdirs[k] for k in alive
            ]
            self._fit(alive, configs, dirs, population, within=not field)
            for k, run_dir in zip(alive, dirs, strict=True):
                self.folds[k].append(run_value(run_dir, self.metric))
                self.fold_names[k].append(name)
                if field:
                    self.trials[k].report(float(np.mean(self.folds[k])), index)
                    self.pruned[k] = self.trials[k].should_prune()
        for k, run_dir in enumerate(self.workdirs):
            if field:  # the protocol's results.json over the folds this trial ran
                runs = [_results(os.path.join(run_dir, n)) for n in self.fold_names[k]]
                results = {**protocol.aggregate(runs), "protocol/field": field}
                _write_json(os.path.join(run_dir, "results.json"), results)

    def _fit(self, alive, configs, dirs, population: bool, within: bool) -> None:
        def on_validation(m: int, step: int, values: dict) -> bool:
            if not within:
                return False
            if self.metric not in values:
                raise PgxError(f"--metric: {self.metric!r} not evaluated; {sorted(values)}")
            trial = self.trials[alive[m]]
            trial.report(float(values[self.metric]), step)
            self.pruned[alive[m]] = trial.should_prune()
            return self.pruned[alive[m]]

        experiments = [build_experiment(c) for c in configs]
        if population and len(alive) > 1 and sweep._experiment_obstacle(experiments) is None:
            print(f"== tune: trials {[self.trials[k].number for k in alive]} as one population")
            loop.fit_members(configs, experiments, dirs, on_validation)
            return
        for m, (c, e, d) in enumerate(zip(configs, experiments, dirs, strict=True)):
            print(f"== tune: trial {self.trials[alive[m]].number}")
            loop.fit(c, e, d, lambda _, step, values, m=m: on_validation(m, step, values))

    def tell(self, study: optuna.Study) -> None:
        for k, trial in enumerate(self.trials):
            if self.pruned[k]:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, float(np.mean(self.folds[k])))


def _write_json(path: str, data: dict) -> None:
    if jax.process_index() == 0:
        with open(path, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)


def search(
    config: ml_collections.ConfigDict,
    space: dict[str, tuple],
    workdir: str,
    trials: int,
    *,
    sampler: str = "tpe",
    metric: str = "",
    direction: str = "",
    population: int = 8,
    pruning: bool = True,
) -> optuna.Study:
    """Run the search until `trials` trials are complete or pruned, then write the table,
    the plots and `best` (module docstring). `metric` and `direction` default to the
    config's early stopping."""
    stopping = config.train.get("early_stopping") or {}
    metric = metric or stopping.get("metric", "")
    direction = direction or stopping.get("mode", "max")
    if not metric:
        raise PgxError("pgx tune: the config has no early stopping metric; give --metric")
    field = (config.get("protocol") or {}).get("field")
    if not metric.startswith("validation/") and not field:
        raise PgxError(f"--metric {metric}: without a protocol's folds, tune on validation/")
    if not space:
        raise PgxError("space: get_space gave no fields")
    shapes_kept = set(space) <= set(SHAPE_PRESERVING) and not config.train.get("init_from")
    size = population if shapes_kept and population > 1 else 1
    study = open_study(workdir, config, space, sampler, direction, pruning)
    while (left := trials - counted(study)) > 0:
        batch = _Batch(
            [study.ask() for _ in range(min(size, left))], config, space, workdir, metric
        )
        try:
            batch.run(population=size > 1)
        except BaseException:
            for trial in batch.trials:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        batch.tell(study)
        write_table(study, workdir)
    finish(study, config, workdir)
    return study


def write_table(study: optuna.Study, workdir: str) -> list[dict]:
    """`tune.csv` and `tune.md`: each trial's number, state, values, objective and test
    metrics."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        params = {k: f"{v:.3g}" if isinstance(v, float) else v for k, v in trial.params.items()}
        row = {"trial": trial.number, "state": trial.state.name, **params}
        row["objective"] = trial.value if trial.value is not None else ""
        path = os.path.join(workdir, f"trial_{trial.number}", "results.json")
        if trial.state in COUNTED and os.path.exists(path):
            found = _results(os.path.dirname(path))
            row.update({k: v for k, v in found.items() if k.startswith(("test/", "final/"))})
        rows.append(row)
    if jax.process_index() == 0 and rows:
        sweep.write_table(rows, os.path.join(workdir, "tune"))
    return rows


def finish(study: optuna.Study, config: ml_collections.ConfigDict, workdir: str) -> None:
    """The best trial's protocol `final` run (if any), `best` and the plots."""
    best = study.best_trial
    best_dir = os.path.join(workdir, f"trial_{best.number}")
    if (config.get("protocol") or {}).get("final") is not None:
        print(f"== tune: best trial {best.number}: the protocol's final run")
        protocol.run(sweep.apply_overrides(config, best.params), best_dir)
    write_table(study, workdir)
    if jax.process_index() != 0:
        return
    link = os.path.join(workdir, "best")
    if os.path.islink(link):
        os.remove(link)
    os.symlink(f"trial_{best.number}", link)
    write_plots(study, workdir)
    print(f"tune: best trial {best.number} ({best.value:.4f}): {best.params}; {link}")


def write_plots(study: optuna.Study, workdir: str) -> list[str]:
    """Optuna's matplotlib plots as PNG (a plot Optuna cannot draw yet, such as importances
    of one trial, is skipped with a line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    written = []
    for name, function in PLOTS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                axes = getattr(optuna_plots, function)(study)
            except (ValueError, RuntimeError) as err:
                print(f"tune: no {name}: {err}")
                continue
        figure = np.ravel(axes)[0].figure
        figure.savefig(os.path.join(workdir, name), dpi=110, bbox_inches="tight")
        plt.close(figure)
        written.append(name)
    return written
