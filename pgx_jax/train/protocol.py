"""Evaluation protocols: one run, or several runs over the values of one config field.

`config.protocol.field` names a dotted config field (`data.fold` for k-fold cross-validation
or a paper's fold scheme, `seed` for repeated runs) and `config.protocol.choices` its values.
Each run gets its own workdir `<workdir>/<field>=<value>` (resumed or skipped if finished);
the top-level `results.json` holds the mean of each `test/<metric>` over runs and its sample
standard deviation as `test/<metric>_std`. With `config.protocol.final` set (e.g. `-1` for
"train on the whole training set, test on the independent set"), one more run with the field at
that value follows, and its test metrics are added as `final/test/<metric>`.
"""

import json
import os

import jax
import ml_collections
import numpy as np

from pgx_jax.errors import PgxError
from pgx_jax.experiment import build_experiment
from pgx_jax.files import write_atomically
from pgx_jax.runs import check_same_config
from pgx_jax.train.loop import fit


def run_once(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Build the experiment `config.experiment` names and fit it in `workdir`."""
    results_path = os.path.join(workdir, "results.json")
    check_same_config(config, workdir)
    if os.path.exists(results_path):
        with open(results_path) as f:
            return json.load(f)
    return fit(config, build_experiment(config), workdir)


def _with_field(config: ml_collections.ConfigDict, field: str, value) -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict(config.to_dict())
    *path, leaf = field.split(".")
    node = config
    for part in path:
        node = node[part]
    if leaf not in node:
        raise PgxError(f"config.protocol.field: {field!r} is not a field of the config")
    node[leaf] = value
    return config


def aggregate(runs: list[dict]) -> dict:
    """Mean and sample standard deviation of every numeric `test/` entry over runs."""
    keys = sorted(
        {
            k
            for r in runs
            for k, v in r.items()
            if k.startswith("test/") and isinstance(v, (int, float))
        }
    )
    summary = {}
    for key in keys:
        values = np.array([r[key] for r in runs if key in r], float)
        summary[key] = float(np.mean(values))
        summary[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return summary


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Run the protocol of `config` and return (and write) its results."""
    protocol = config.get("protocol") or ml_collections.ConfigDict()
    field = protocol.get("field")
    if not field:
        return run_once(config, workdir)
    runs = []
    for value in protocol.choices:
        name = f"{field}={value}"
        print(f"== {name}")
        runs.append(run_once(_with_field(config, field, value), os.path.join(workdir, name)))
    results = {**aggregate(runs), "protocol/field": field, "protocol/runs": len(runs)}
    final = protocol.get("final")
    if final is not None:
        name = f"{field}={final}"
        print(f"== {name} (final)")
        once = run_once(_with_field(config, field, final), os.path.join(workdir, name))
        results.update({f"final/{k}": v for k, v in once.items() if k.startswith("test/")})
    if jax.process_index() == 0:
        path = os.path.join(workdir, "results.json")
        write_atomically(path, json.dumps(results, indent=2, sort_keys=True))
    return results
