"""The planted-motif data set: determinism, balance, and that the motif really is planted."""

import numpy as np
import pytest

from pgx_jax.data.jaspar import jaspar_name, jaspar_pfm
from pgx_jax.data.synthetic import plant_motifs, planted_motif_examples, split_examples
from pgx_jax.errors import PgxError
from pgx_jax.interpret.motifs import log_odds, pwm_scan


def _onehot(sequences: list[str]) -> np.ndarray:
    """One-hot [N, L, 4] in A, C, G, T order."""
    codes = np.array([list(s) for s in sequences])
    return (codes[..., None] == np.array(list("ACGT"))).astype(np.float64)


def test_jaspar_lookup_accepts_base_and_versioned_ids():
    latest, v1 = jaspar_pfm("MA0139"), jaspar_pfm("MA0139.1")
    assert latest.shape[1] == 4 and v1.shape[1] == 4
    np.testing.assert_allclose(latest.sum(axis=1), 1.0)
    assert jaspar_name("MA0139") == "CTCF"


def test_unknown_jaspar_id_is_named_in_the_error():
    with pytest.raises(PgxError, match="MA9999"):
        jaspar_pfm("MA9999")


def test_same_seed_same_data_different_seed_different_data():
    a = planted_motif_examples("MA0139", 50, 80, seed=3)
    b = planted_motif_examples("MA0139", 50, 80, seed=3)
    c = planted_motif_examples("MA0139", 50, 80, seed=4)
    assert a == b
    assert a != c


def test_records_shape_and_label_balance():
    records = planted_motif_examples("MA0139", 101, 60, seed=0, positive_fraction=0.3)
    assert len(records) == 101
    assert all(set(r) == {"id", "sequence", "label"} for r in records)
    assert all(len(r["sequence"]) == 60 and set(r["sequence"]) <= set("ACGT") for r in records)
    assert sum(r["label"] for r in records) == 30
    assert len({r["id"] for r in records}) == 101


def test_planted_site_is_the_sampled_instance_on_its_strand():
    pfm = jaspar_pfm("MA0139")
    width = len(pfm)
    data = plant_motifs(pfm, 40, 50, np.random.default_rng(1), instances=2)
    for row in np.flatnonzero(data.labels):
        start, strand = data.positions[row, -1], data.strands[row, -1]
        np.testing.assert_array_equal(
            data.tokens[row, start : start + width], data.instances[row, -1]
        )
        assert strand in "+-"
    assert set(data.strands[data.labels == 1].ravel()) == {"+", "-"}
    assert (data.positions[data.labels == 0] == -1).all()


def test_positives_score_higher_under_the_motif_pwm():
    records = planted_motif_examples("MA0139", 200, 100, seed=2)
    pwm = log_odds(jaspar_pfm("MA0139"))
    x = _onehot([r["sequence"] for r in records])
    best = np.maximum(pwm_scan(x, pwm), pwm_scan(x, pwm[::-1, ::-1])).max(axis=1)
    labels = np.array([r["label"] for r in records])
    assert best[labels == 1].mean() > best[labels == 0].mean() + 5.0


def test_background_composition_is_respected():
    records = planted_motif_examples(
        "MA0139", 20, 500, seed=0, positive_fraction=0.0, background=(0.4, 0.1, 0.1, 0.4)
    )
    text = "".join(r["sequence"] for r in records)
    assert abs(text.count("A") / len(text) - 0.4) < 0.02


@pytest.mark.parametrize(
    "kwargs",
    [
        {"length": 5},
        {"positive_fraction": 1.5},
        {"background": (0.5, 0.5, 0.5, 0.5)},
        {"instances": 0},
    ],
)
def test_bad_arguments_raise_pgx_error(kwargs):
    args = {"motif_id": "MA0139", "num_examples": 10, "length": 50, "seed": 0} | kwargs
    with pytest.raises(PgxError):
        planted_motif_examples(**args)


def test_split_is_a_stratified_partition():
    records = planted_motif_examples("MA0139", 200, 40, seed=0)
    splits = split_examples(records, (0.8, 0.1, 0.1), seed=5)
    assert [len(splits[k]) for k in ("train", "validation", "test")] == [160, 20, 20]
    ids = [r["id"] for part in splits.values() for r in part]
    assert sorted(ids) == sorted(r["id"] for r in records)
    assert all(sum(r["label"] for r in part) == len(part) // 2 for part in splits.values())
    assert split_examples(records, seed=5) == splits
