"""Ablation sweeps: a list of config overrides, one run (and workdir) per point, one table.

A sweep file defines `get_sweep(arg=None) -> list[dict]`, each dict mapping dotted config
fields to values (`{"model.reverse_complement": True, "model.filter_width": 12}`); `grid`
builds the product of several axes. Every point runs the config's protocol in
`<workdir>/<point name>`; finished points are read back, so a sweep resumes where it stopped.

Seed groups: points that differ only in `seed` (initialisation, dropout and data order) train
as one vmapped program (`loop.fit_members`, on by default, `vmap_seeds=False` turns it off):
the states stacked on a member axis, member k fed the batches its own run reads, early stopping
per member by masking (a stopped member's state is frozen while the others go on). Each member
keeps its own workdir with the files and checkpoints a single run writes, so the table is the
same, and its results equal its single run's to float tolerance (`tests/test_seed_sweep.py`).
A stopped group resumes from its members' checkpoints; if those hold different steps (a kill
between two members' saves), or a group does not qualify (a config with a protocol or
`train.init_from`, an experiment with its own training order, a model that depends on the
seed), the members run one by one and the reason is printed.
"""

import csv
import itertools
import os
from collections.abc import Sequence
from typing import Any

import jax
import ml_collections

from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, build_experiment
from pgx_jax.train import loop, protocol


def grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """The product of axes: `grid(**{"model.filter_width": [12, 24], "seed": [0, 1]})`."""
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())]


def point_name(overrides: dict[str, Any]) -> str:
    """A workdir-safe name such as `model.filter_width=12,seed=0`."""
    return ",".join(f"{key}={value}" for key, value in overrides.items()).replace("/", "_")


def apply_overrides(
    config: ml_collections.ConfigDict, overrides: dict[str, Any]
) -> ml_collections.ConfigDict:
    """A copy of `config` with dotted fields set; an unknown field is an error naming it."""
    config = ml_collections.ConfigDict(config.to_dict())
    for field, value in overrides.items():
        *path, leaf = field.split(".")
        node = config
        for part in path:
            if part not in node:
                raise PgxError(f"sweep: {field!r} is not a field of the config")
            node = node[part]
        if leaf not in node:
            raise PgxError(f"sweep: {field!r} is not a field of the config")
        node[leaf] = value
    return config


def run(
    config: ml_collections.ConfigDict,
    points: list[dict[str, Any]],
    workdir: str,
    vmap_seeds: bool = True,
) -> list[dict[str, Any]]:
    """Run every point and write `sweep.csv` and `sweep.md` (overrides and test metrics).

    With `vmap_seeds`, the points of a seed group train together first (`run_seed_group`).
    """
    if not points:
        raise PgxError("sweep: the sweep file gave no points")
    groups: dict[str, list[dict[str, Any]]] = {}
    for overrides in points:
        groups.setdefault(_without_seed(overrides), []).append(overrides)
    rows = []
    for index, overrides in enumerate(points):
        group = groups.pop(_without_seed(overrides), None)
        if vmap_seeds and group is not None and len(group) > 1:
            run_seed_group(config, group, workdir)
        name = point_name(overrides)
        print(f"== sweep point {index + 1}/{len(points)}: {name}")
        results = protocol.run(apply_overrides(config, overrides), os.path.join(workdir, name))
        metrics = {k: v for k, v in results.items() if k.startswith("test/")}
        rows.append({**overrides, **metrics})
    if jax.process_index() == 0:
        write_table(rows, os.path.join(workdir, "sweep"))
    return rows


def _without_seed(overrides: dict[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in overrides.items() if k != "seed"))


def run_seed_group(
    config: ml_collections.ConfigDict, group: list[dict[str, Any]], workdir: str
) -> None:
    """Train the unfinished points of a seed group as one vmapped program, if they qualify.

    Points it leaves unfinished (fewer than two to run, or a printed reason) run one by one
    afterwards, as every point does.
    """
    todo = [o for o in group if not os.path.exists(_workdir(workdir, o, "results.json"))]
    if len(todo) < 2:
        return
    configs = [apply_overrides(config, overrides) for overrides in todo]
    seeds = ";".join(str(c.seed) for c in configs)
    reason = _config_obstacle(configs[0])
    if reason is None:
        experiments = [build_experiment(c) for c in configs]
        reason = _experiment_obstacle(experiments)
    if reason is None:
        print(f"== sweep seed group {seeds} as one vmapped program: {point_name(todo[0])} ...")
        try:
            loop.fit_members(configs, experiments, [_workdir(workdir, o) for o in todo])
        except loop.MembersOutOfStep as err:
            reason = str(err)
    if reason is not None:
        print(f"sweep: seeds {seeds} of {point_name(todo[0])} run one by one: {reason}")


def _workdir(workdir: str, overrides: dict[str, Any], *parts: str) -> str:
    return os.path.join(workdir, point_name(overrides), *parts)


def _config_obstacle(config: ml_collections.ConfigDict) -> str | None:
    """Why runs of this config cannot train as one vmapped program; None if they can."""
    field = (config.get("protocol") or {}).get("field")
    if field:
        return f"the config runs a protocol over {field!r}"
    if config.train.get("init_from"):
        return "config.train.init_from starts each run from another run"
    return None


def _experiment_obstacle(experiments: list[Experiment]) -> str | None:
    """Why these experiments cannot train as one vmapped program; None if they can."""
    if experiments[0].order is not None:
        return "the experiment has its own training order (batch shapes may differ by seed)"
    try:
        model = experiments[0].predictor.model
        same = all(e.predictor.model == model for e in experiments[1:])
    except ValueError:  # array fields (initial embeddings) compare elementwise
        same = False
    if not same:
        return "the model depends on the seed"
    return None


def write_table(rows: list[dict[str, Any]], stem: str) -> None:
    """`stem.csv` and `stem.md` with one row per point and one column per field or metric."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    with open(f"{stem}.md", "w") as f:
        f.write("\n".join(lines) + "\n")
