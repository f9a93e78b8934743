"""`pgx tune --config CONFIG[:ARG] --space SPACE[:ARG] --workdir DIR --trials N
[--sampler tpe|random|grid] [--metric M] [--direction max|min] [--population K] [--nopruning]
[--config.x=y ...]`: a hyperparameter search with Optuna, each trial an ordinary run.

SPACE is a Python file with `get_space(arg)` returning a dict of dotted config fields to
`("log", low, high)`, `("float", low, high)`, `("int", low, high)` or `("choice", [values])`
(`configs/spaces/`; found like `--config`). The study is DIR/tune.db; a rerun resumes it until N
trials are complete or pruned. The metric (default: the config's early stopping metric) is a
`validation/` one, or with the config's protocol a `test/` one of the folds' held-out parts.
Trials that differ only in learning rate, weight decay and seed train K at a time as one
vmapped program (`--population 1`: one by one). Writes DIR/trial_<k>, DIR/tune.csv,
DIR/tune.md, DIR/tune_*.png and DIR/best (the best trial).

example: pgx tune --config configs/binding/deepbind.py:tf=GABPA
         --space configs/spaces/deepbind.py --workdir runs/tune_gabpa --trials 30
"""

import os

from absl import flags

from pgx_jax.commands.flags import call_file_function, parse
from pgx_jax.errors import PgxError


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string(
        "space", None, "space file with get_space(arg), optionally :ARG", flag_values=flag_values
    )
    flags.DEFINE_string(
        "workdir", None, "directory of the study and its trials", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "trials", None, "complete or pruned trials in all (a rerun resumes)",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_enum(
        "sampler", "tpe", ["tpe", "random", "grid"], "Optuna sampler", flag_values=flag_values
    )
    flags.DEFINE_string(
        "metric", "", "objective (default: config.train.early_stopping.metric)",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_enum(
        "direction", "", ["", "max", "min"], "objective direction (default: early stopping's)",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_integer(
        "population", 8, "trials trained as one vmapped program when the space keeps shapes",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_bool(
        "pruning", True, "stop trials below the median (--nopruning: every trial runs out)",
        flag_values=flag_values,
    )  # fmt: skip


def load_space(spec: str) -> dict:
    """Call `get_space(arg)` of the space file `path[:arg]`."""
    return dict(call_file_function(spec, "get_space", "space file"))


def main(argv: list[str]) -> int:
    flag_values, config = parse("tune", argv, _define)
    if not flag_values.space or not flag_values.workdir or not flag_values.trials:
        raise PgxError("pgx tune needs --space, --workdir and --trials")

    from pgx_jax import tune

    tune.search(
        config,
        load_space(flag_values.space),
        flag_values.workdir,
        flag_values.trials,
        sampler=flag_values.sampler,
        metric=flag_values.metric,
        direction=flag_values.direction,
        population=flag_values.population,
        pruning=flag_values.pruning,
    )
    with open(os.path.join(flag_values.workdir, "tune.md")) as f:
        print(f.read())
    return 0
