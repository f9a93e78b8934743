"""Ablation sweeps: a list of config overrides, one run (and workdir) per point, one table.

A sweep file defines `get_sweep(arg=None) -> list[dict]`, each dict mapping dotted config
fields to values (`{"model.reverse_complement": True, "model.filter_width": 12}`); `grid`
builds the product of several axes. Every point runs the config's protocol in
`<workdir>/<point name>`; finished points are read back, so a sweep resumes where it stopped.
"""

import csv
import itertools
import os
from collections.abc import Sequence
from typing import Any

import jax
import ml_collections

from pgx_jax.errors import PgxError
from pgx_jax.train import protocol


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
    config: ml_collections.ConfigDict, points: list[dict[str, Any]], workdir: str
) -> list[dict[str, Any]]:
    """Run every point and write `sweep.csv` and `sweep.md` (overrides and test metrics)."""
    if not points:
        raise PgxError("sweep: the sweep file gave no points")
    rows = []
    for index, overrides in enumerate(points):
        name = point_name(overrides)
        print(f"== sweep point {index + 1}/{len(points)}: {name}")
        results = protocol.run(apply_overrides(config, overrides), os.path.join(workdir, name))
        metrics = {k: v for k, v in results.items() if k.startswith("test/")}
        rows.append({**overrides, **metrics})
    if jax.process_index() == 0:
        write_table(rows, os.path.join(workdir, "sweep"))
    return rows


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
