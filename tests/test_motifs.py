"""Filter-to-motif conversion; TomTom (memelite) against JASPAR with Benjamini-Hochberg
q-values, checked against a hand computation, a motif against itself, shifted parts and
reverse complements."""

import numpy as np

from pgx_jax.data.alphabets import reverse_complement_one_hot
from pgx_jax.data.jaspar import jaspar_collection, jaspar_pfm
from pgx_jax.data.synthetic import plant_motifs
from pgx_jax.interpret.motifs import (
    best_jaspar_matches,
    bh_qvalues,
    filter_pfms,
    information_content,
    log_odds,
    pwm_scan,
    tomtom_matches,
    trim_pfm,
)

WIDTH = 24


def test_information_content_bounds():
    pfm = np.array([[1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0]])
    np.testing.assert_allclose(information_content(pfm), [2.0, 0.0, 1.0])


def test_trim_removes_uninformative_flanks_only():
    uniform = np.full((3, 4), 0.25)
    core = np.array([[1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0, 0, 0, 1.0]])
    trimmed = trim_pfm(np.concatenate([uniform, core, uniform]))
    np.testing.assert_array_equal(trimmed, core)
    assert trim_pfm(uniform).shape == (0, 4)


def test_bh_qvalues_against_a_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # sorted: 0.005, 0.01, 0.03, 0.04, 0.5 -> p * 5 / rank: 0.025, 0.025, 0.05, 0.05, 0.5
    np.testing.assert_allclose(bh_qvalues(p), [0.025, 0.05, 0.05, 0.025, 0.5])
    # a later smaller ratio lowers the earlier ones (running minimum from the top)
    np.testing.assert_allclose(bh_qvalues(np.array([0.02, 0.021])), [0.021, 0.021])
    assert bh_qvalues(np.array([[0.9, 0.8]])).max() <= 1.0


def test_a_jaspar_motif_finds_itself_and_its_parts_with_small_q():
    collection = jaspar_collection()
    pfm = jaspar_pfm("MA0139")
    queries = [
        pfm,
        pfm[3:12],
        reverse_complement_one_hot(pfm),
        reverse_complement_one_hot(pfm)[2:13],
    ]
    found = tomtom_matches(queries, collection, top=3)
    assert [(m[0]["offset"], m[0]["strand"]) for m in found] == [
        (0, "+"),
        (3, "+"),
        (0, "-"),
        (2, "-"),
    ]
    for matches in found:
        assert matches[0]["matrix_id"] == "MA0139.2" and matches[0]["q_value"] < 1e-10
        assert matches[0]["p_value"] <= matches[1]["p_value"] <= matches[2]["p_value"]
    assert set(found[0][0]) == {
        "matrix_id",
        "name",
        "p_value",
        "q_value",
        "score",
        "offset",
        "strand",
    }


def _recovered_pfms(motif_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Plant each motif, scan with its PWM centred in a 24-wide filter, return filter PFMs."""
    rng = np.random.default_rng(0)
    filters, blocks = [], []
    for motif_id in motif_ids:
        pfm = jaspar_pfm(motif_id)
        data = plant_motifs(pfm, 300, 100, rng)
        blocks.append(data.tokens)
        start = (WIDTH - len(pfm)) // 2
        filt = np.zeros((WIDTH, 4))
        filt[start : start + len(pfm)] = log_odds(pfm)
        filters.append(filt)
    onehot = np.eye(4)[np.concatenate(blocks)]
    activations = np.stack([pwm_scan(onehot, f) for f in filters], axis=-1)
    return filter_pfms(onehot, activations, WIDTH)


def test_filter_pfms_recover_planted_motifs_and_name_them():
    motif_ids = ["MA0139", "MA0138"]
    pfms, counts = _recovered_pfms(motif_ids)
    assert pfms.shape == (2, WIDTH, 4)
    assert (counts > 30).all()
    np.testing.assert_allclose(pfms.sum(axis=2), 1.0)
    collection = jaspar_collection()
    for motif_id, pfm in zip(motif_ids, pfms, strict=True):
        matches = best_jaspar_matches(trim_pfm(pfm), collection, top=3)
        assert matches[0]["matrix_id"].split(".")[0] == motif_id
        assert matches[0]["q_value"] < 0.05


def test_filter_that_never_fires_gets_uniform_pfm_and_zero_count():
    onehot = np.eye(4)[np.random.default_rng(0).integers(0, 4, (5, 30))]
    activations = -np.ones((5, 30 - WIDTH + 1, 1))
    pfms, counts = filter_pfms(onehot, activations, WIDTH)
    assert counts.tolist() == [0]
    np.testing.assert_allclose(pfms[0], 0.25)
