"""Splits and evaluation protocols: k-fold partitions, and runs over a config field."""

import json
import os

import numpy as np
import pytest
from conftest import run_pgx

from pgx_jax.data.splits import holdout, kfold
from pgx_jax.errors import PgxError
from pgx_jax.train.protocol import aggregate


def test_kfold_held_out_parts_partition_the_data_and_keep_class_balance():
    labels = np.array([0] * 70 + [1] * 30)
    held = [kfold(100, 5, k, seed=4, labels=labels)[1] for k in range(5)]
    assert sorted(np.concatenate(held)) == list(range(100))
    for k, part in enumerate(held):
        train, again = kfold(100, 5, k, seed=4, labels=labels)
        np.testing.assert_array_equal(again, part)
        assert not set(train) & set(part) and len(train) + len(part) == 100
        assert labels[part].sum() == 6
    with pytest.raises(PgxError, match="fold 5"):
        kfold(100, 5, 5, seed=0)


def test_holdout_fraction_is_stratified():
    labels = np.array([0] * 80 + [1] * 20)
    kept, held = holdout(100, 0.1, seed=0, labels=labels)
    assert len(held) == 10 and labels[held].sum() == 2
    assert sorted(np.concatenate([kept, held])) == list(range(100))


def test_aggregate_gives_mean_and_sample_std():
    summary = aggregate([{"test/auroc": 0.8, "motif/x": "a"}, {"test/auroc": 0.9}])
    assert summary["test/auroc"] == pytest.approx(0.85)
    assert summary["test/auroc_std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert "motif/x" not in summary


def _results(workdir: str) -> dict:
    with open(os.path.join(workdir, "results.json")) as f:
        return json.load(f)


@pytest.mark.slow
def test_protocol_over_seeds_writes_one_run_per_value(tmp_path):
    workdir = str(tmp_path)
    run_pgx(
        [
            "train",
            "--config=configs/binding/deepbind.py",
            "--config.data.num_examples=1200",
            "--config.train.num_steps=8",
            "--config.protocol.field=seed",
            "--config.protocol.choices=(0, 1)",
            f"--workdir={workdir}",
        ]
    )
    runs = [_results(os.path.join(workdir, f"seed={s}")) for s in (0, 1)]
    summary = _results(workdir)
    assert runs[0]["test/auroc"] != runs[1]["test/auroc"]
    assert summary["test/auroc"] == pytest.approx(
        (runs[0]["test/auroc"] + runs[1]["test/auroc"]) / 2
    )
    assert summary["protocol/runs"] == 2
