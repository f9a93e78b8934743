"""`pgx sweep`: grids of overrides, one run per point, one table."""

import csv
import os

import ml_collections
import pytest
from conftest import run_pgx

from pgx_jax.errors import PgxError
from pgx_jax.train.sweep import apply_overrides, grid, point_name


def test_grid_is_the_product_of_axes_in_order():
    points = grid(a=[1, 2], b=["x", "y", "z"])
    assert len(points) == 6 and points[0] == {"a": 1, "b": "x"} and points[-1] == {"a": 2, "b": "z"}
    assert point_name(points[1]) == "a=1,b=y"


def test_overrides_set_nested_fields_and_refuse_unknown_ones():
    config = ml_collections.ConfigDict({"model": {"width": 24}, "seed": 0})
    changed = apply_overrides(config, {"model.width": 12, "seed": 3})
    assert changed.model.width == 12 and changed.seed == 3 and config.model.width == 24
    with pytest.raises(PgxError, match="model.widht"):
        apply_overrides(config, {"model.widht": 1})


@pytest.mark.slow
def test_sweep_runs_each_point_and_writes_one_table(tmp_path):
    sweep_file = tmp_path / "sweep.py"
    sweep_file.write_text(
        "def get_sweep(arg=None):\n"
        "    return [{'model.reverse_complement': False}, {'model.reverse_complement': True}]\n"
    )
    workdir = tmp_path / "runs"
    run_pgx(
        [
            "sweep",
            "--config=configs/binding/deepbind.py",
            f"--sweep={sweep_file}",
            "--config.data.num_examples=1200",
            "--config.train.num_steps=6",
            f"--workdir={workdir}",
        ]
    )
    with open(workdir / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model.reverse_complement"] for r in rows] == ["False", "True"]
    assert all(0.0 <= float(r["test/auroc"]) <= 1.0 for r in rows)
    for name in ("model.reverse_complement=False", "model.reverse_complement=True"):
        assert os.path.exists(workdir / name / "results.json")
    assert (workdir / "sweep.md").read_text().count("\n") == 4
