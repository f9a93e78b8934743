"""The dinucleotide-preserving shuffle that makes DeepBind's negatives."""

import numpy as np
import pytest

from pgx_jax.data.shuffle import dinucleotide_counts, dinucleotide_shuffle, dinucleotide_shuffles

PEAK = (
    "AACCAAGAACACAACTGAAATGGTGCGTCCCGCTGCCAAACACGTCCCCGCCCTCTCTTCCGCTTCCGGCCTGGCGCCTTCC"
    "TCCCCCTTTGCGCTCCGGT"
)


@pytest.mark.parametrize("seed", range(5))
def test_shuffle_keeps_dinucleotides_and_ends(seed):
    rng = np.random.default_rng(seed)
    sequence = "".join(rng.choice(list("ACGTN"), size=int(rng.integers(3, 300))))
    shuffled = dinucleotide_shuffle(sequence, rng)
    assert dinucleotide_counts(shuffled) == dinucleotide_counts(sequence)
    assert (shuffled[0], shuffled[-1]) == (sequence[0], sequence[-1])
    assert sorted(shuffled) == sorted(sequence)


def test_shuffles_are_seeded_and_vary():
    first, again = dinucleotide_shuffles([PEAK] * 50, seed=3), dinucleotide_shuffles([PEAK] * 50, 3)
    assert first == again
    assert first != dinucleotide_shuffles([PEAK] * 50, seed=4)
    assert len(set(first)) == 50 and PEAK not in first


def test_shuffle_reaches_every_arrangement_of_a_small_graph():
    """'ACAGA' has two Eulerian walks from A to A (ACAGA, AGACA); both must come out."""
    rng = np.random.default_rng(0)
    assert {dinucleotide_shuffle("ACAGA", rng) for _ in range(100)} == {"ACAGA", "AGACA"}


@pytest.mark.parametrize("sequence", ["", "A", "AC", "AAAA"])
def test_shuffle_of_trivial_sequences_is_identity(sequence):
    assert dinucleotide_shuffle(sequence, np.random.default_rng(0)) == sequence
