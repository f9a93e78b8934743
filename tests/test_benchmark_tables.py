"""benchmarks/benchmark_tables.py: Davis fold 0 written as a table holds the split and the
affinities of the dedicated loader, and `configs/table.py` reads that split from the file."""

import importlib.util
import os

import numpy as np
import pytest
from conftest import REPO, SHARED_DATA

from configs import table as table_config
from experiments import table as table_experiment
from pgx_jax.data import tables
from pgx_jax.data.builders import dti_matrix

DATA = os.environ.get("PGX_DATA_DIR", SHARED_DATA)
DAVIS = os.path.join(DATA, "davis")


def writer():
    """The script as a module (benchmarks/ is not a package)."""
    path = os.path.join(REPO, "benchmarks", "benchmark_tables.py")
    spec = importlib.util.spec_from_file_location("benchmark_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not os.path.isdir(DAVIS) and os.environ.get("CI") != "true", reason="shared/data/davis absent"
)
def test_davis_table_holds_the_dedicated_loaders_split(tmp_path, monkeypatch):
    monkeypatch.setenv("PGX_DATA_DIR", DATA)
    path = writer().davis_table(str(tmp_path))
    table = tables.read_table(path)
    data = table_config.get_config(f"path={path}").data
    names = table_experiment.split_names(table, data, "pair", np.zeros(len(table)))
    matrix = dti_matrix.read_matrix(DAVIS, log_transform=True)
    splits, counts = dti_matrix.split_pairs(matrix, DAVIS, "setting1", 0)
    assert counts == {"train": 20036, "validation": 5010, "test": 5010, "dropped": 0}
    values = table.columns["affinity"].astype(np.float32)
    affinity = dict(zip(table.columns["id"], values, strict=True))
    for split, source in splits.items():
        drugs, proteins = source.columns["drug_index"], source.columns["protein_index"]
        ids = [
            f"{matrix.drug_ids[d]}:{matrix.protein_ids[p]}"
            for d, p in zip(drugs, proteins, strict=True)
        ]
        assert set(ids) == set(table.columns["id"][names == split])
        np.testing.assert_array_equal([affinity[i] for i in ids], source.columns["label"])
