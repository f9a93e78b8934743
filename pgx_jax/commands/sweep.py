"""`pgx sweep --config CONFIG[:ARG] --sweep SWEEP[:ARG] --workdir DIR [--novmap_seeds]
[--config.x=y ...]`: one run per point of a list of config overrides, and one table.

SWEEP is a Python file with `get_sweep(arg)` returning a list of dicts of dotted config fields
(`configs/sweeps/`; found like `--config`). Each point runs the config's protocol in
DIR/<point name>; finished points are read back, so a stopped sweep resumes. Points that differ
only in `seed` train as one vmapped program unless `--novmap_seeds`. Writes DIR/sweep.csv and
DIR/sweep.md (overrides and test metrics).

example: pgx sweep --config configs/binding/deepbind.py --sweep configs/sweeps/deepbind_seeds.py
         --workdir runs/seeds
"""

import os

from absl import flags

from pgx_jax.commands.flags import call_file_function, parse
from pgx_jax.errors import PgxError


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string(
        "sweep", None, "sweep file with get_sweep(arg), optionally :ARG", flag_values=flag_values
    )
    flags.DEFINE_string(
        "workdir", None, "directory holding one run per sweep point", flag_values=flag_values
    )
    flags.DEFINE_bool(
        "vmap_seeds",
        True,
        "train points that differ only in seed as one vmapped program (--novmap_seeds: one by one)",
        flag_values=flag_values,
    )


def load_points(spec: str) -> list[dict]:
    """Call `get_sweep(arg)` of the sweep file `path[:arg]`."""
    return list(call_file_function(spec, "get_sweep", "sweep file"))


def main(argv: list[str]) -> int:
    flag_values, config = parse("sweep", argv, _define)
    if not flag_values.sweep or not flag_values.workdir:
        raise PgxError("pgx sweep needs --sweep and --workdir")

    import jax

    from pgx_jax import parallel
    from pgx_jax.train import sweep

    parallel.initialize_distributed()
    rows = sweep.run(
        config, load_points(flag_values.sweep), flag_values.workdir, flag_values.vmap_seeds
    )
    if jax.process_index() == 0:  # the one process that writes the table
        print(f"{len(rows)} points; table: {os.path.join(flag_values.workdir, 'sweep.md')}")
        with open(os.path.join(flag_values.workdir, "sweep.md")) as f:
            print(f.read())
    return 0
