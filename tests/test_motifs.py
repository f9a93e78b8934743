"""Filter-to-motif conversion and JASPAR comparison."""

import time

import numpy as np
import pytest

from pgx_jax.data.alphabets import reverse_complement_one_hot
from pgx_jax.data.jaspar import jaspar_collection, jaspar_pfm
from pgx_jax.data.synthetic import plant_motifs
from pgx_jax.interpret.motifs import (
    best_jaspar_matches,
    compare_motifs,
    filter_pfms,
    information_content,
    log_odds,
    pwm_scan,
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


def test_motif_against_itself_scores_one_at_offset_zero():
    pfm = jaspar_pfm("MA0139")
    score, offset, strand = compare_motifs(pfm, pfm)
    assert score == pytest.approx(1.0)
    assert (offset, strand) == (0, "+")


def test_shifted_copy_and_reverse_complement_are_found():
    pfm = jaspar_pfm("MA0139")
    part = pfm[3:12]
    for count_overhang in (True, False):
        _, offset, strand = compare_motifs(part, pfm, count_overhang=count_overhang)
        assert (offset, strand) == (3, "+")
    score, offset, strand = compare_motifs(part, pfm, count_overhang=False)
    assert score == pytest.approx(1.0)
    score, offset, strand = compare_motifs(reverse_complement_one_hot(pfm), pfm)
    assert score == pytest.approx(1.0)
    assert (offset, strand) == (0, "-")


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
        trimmed = trim_pfm(pfm)
        assert compare_motifs(trimmed, jaspar_pfm(motif_id))[0] > 0.95
        start = time.perf_counter()
        matches = best_jaspar_matches(trimmed, collection, top=3)
        assert time.perf_counter() - start < 1.0
        assert matches[0]["matrix_id"].split(".")[0] == motif_id
        assert matches[0]["score"] >= matches[1]["score"]
        assert set(matches[0]) == {"matrix_id", "name", "score", "offset", "strand"}


def test_filter_that_never_fires_gets_uniform_pfm_and_zero_count():
    onehot = np.eye(4)[np.random.default_rng(0).integers(0, 4, (5, 30))]
    activations = -np.ones((5, 30 - WIDTH + 1, 1))
    pfms, counts = filter_pfms(onehot, activations, WIDTH)
    assert counts.tolist() == [0]
    np.testing.assert_allclose(pfms[0], 0.25)
