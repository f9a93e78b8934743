"""Motif grammar on hand-built scorers with known answers: a motif counter gains exactly one
site per background when the motif is planted; a pair rule (A, 5 bases, B on the + strand)
gives a spacing curve of 1 at gap 5 in orientation ++ and 0 everywhere else. Backgrounds are
dinucleotide shuffles of the given sequences. `pgx grammar` on a trained run: test_design.py."""

import re
from collections import Counter

import numpy as np
import pytest

from pgx_jax.data.alphabets import DNA, reverse_complement
from pgx_jax.errors import PgxError
from pgx_jax.interpret import grammar

MOTIF = grammar.motif_sequence("MA0139")  # CTCF's consensus
FIRST, SECOND = "GATTACA", "CCGGAAG"


def _sequences(count: int = 5, length: int = 80) -> list[str]:
    rng = np.random.default_rng(0)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(count)]


def count_sites(sequences: list[str]) -> np.ndarray:
    """[N, 1]: occurrences of MOTIF on either strand."""
    rc = reverse_complement([MOTIF], DNA)[0]
    return np.array([[s.count(MOTIF) + s.count(rc)] for s in sequences], float)


def pair_rule(sequences: list[str]) -> np.ndarray:
    """[N, 1]: 1 where FIRST, 5 bases, SECOND reads on the + strand."""
    pattern = re.compile(f"{FIRST}.{{5}}{SECOND}")
    return np.array([[float(bool(pattern.search(s)))] for s in sequences])


def test_backgrounds_are_shuffles_of_the_sequences_in_turn():
    sequences = _sequences()
    got = grammar.backgrounds(sequences, 12, np.random.default_rng(1))
    for i, background in enumerate(got):
        source = sequences[i % len(sequences)]
        pairs = [Counter(zip(s[:-1], s[1:], strict=True)) for s in (background, source)]
        assert pairs[0] == pairs[1] and background != source


def test_planting_a_motif_adds_exactly_one_site_to_every_background():
    background = grammar.backgrounds(_sequences(), 40, np.random.default_rng(2))
    result = grammar.marginalize(count_sites, background, MOTIF)
    assert result["before"].shape == (40, 1)
    np.testing.assert_array_equal(result["after"] - result["before"], 1.0)


def test_spacing_curve_of_a_pair_rule_peaks_at_its_gap_and_orientation():
    background = grammar.backgrounds(_sequences(), 20, np.random.default_rng(3))
    gaps = list(range(10))
    curves = grammar.spacing(pair_rule, background, FIRST, SECOND, gaps)
    expected = np.zeros((10, 1))
    expected[5] = 1.0
    np.testing.assert_array_equal(curves["++"], expected)
    for orientation in ("+-", "-+", "--"):
        np.testing.assert_array_equal(curves[orientation], 0.0)
    planted = grammar.pair_sequences(["N" * 30], FIRST, SECOND, 2)[0]
    assert planted == "N" * 7 + FIRST + "NN" + SECOND + "N" * 7  # the pair centred


def test_motifs_are_jaspar_consensus_or_bases():
    assert MOTIF == "GCCACCAGGGGGCGC"
    assert grammar.motif_sequence("acgt") == "ACGT"
    with pytest.raises(PgxError, match="neither a JASPAR id"):
        grammar.motif_sequence("MA01")
