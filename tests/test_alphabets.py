"""Tests for the sequence alphabets and encoders."""

import jax.numpy as jnp
import numpy as np
import pytest

from pgx_jax.data.alphabets import (
    DNA,
    PROTEIN,
    RNA,
    decode_one_hot,
    decode_tokens,
    one_hot,
    reverse_complement,
    reverse_complement_one_hot,
    tokens,
    vocab_size,
)
from pgx_jax.errors import PgxError


def _random_strings(rng, letters, count, max_len):
    chars = np.array(list(letters))
    return ["".join(rng.choice(chars, size=rng.integers(1, max_len + 1))) for _ in range(count)]


def test_one_hot_known_matrix_and_padding():
    x, mask = one_hot(["ACGT", "ga"], DNA)
    assert x.dtype == np.float32 and mask.dtype == bool
    assert x.shape == (2, 4, 4)
    np.testing.assert_array_equal(x[0], np.eye(4))
    np.testing.assert_array_equal(x[1], [[0, 0, 1, 0], [1, 0, 0, 0], [0] * 4, [0] * 4])
    np.testing.assert_array_equal(mask, [[True] * 4, [True, True, False, False]])


def test_one_hot_unknown_modes():
    uniform, _ = one_hot(["NaR"], DNA)
    np.testing.assert_allclose(uniform[0, 0], [0.25] * 4)
    np.testing.assert_allclose(uniform[0, 2], [0.25] * 4)
    zero, mask = one_hot(["NaR"], DNA, unknown="zero")
    np.testing.assert_array_equal(zero[0, [0, 2]], np.zeros((2, 4)))
    assert mask.all()
    prot, _ = one_hot(["X"], PROTEIN)
    np.testing.assert_allclose(prot[0, 0], np.full(20, 0.05), rtol=1e-6)
    with pytest.raises(PgxError, match="unknown"):
        one_hot(["A"], DNA, unknown="drop")


def test_fixed_length_and_truncation():
    x, mask = one_hot(["AC"], DNA, length=5)
    assert x.shape == (1, 5, 4) and mask.sum() == 2
    right, _ = tokens(["ACGTAC"], DNA, length=3)
    np.testing.assert_array_equal(right, [[1, 2, 3]])
    center, mask = tokens(["AACGTT", "TTTGCAAAA", "G"], DNA, length=3, truncate="center")
    assert decode_tokens(center, DNA) == ["ACG", "GCA", "G"]
    np.testing.assert_array_equal(mask.sum(axis=1), [3, 3, 1])
    with pytest.raises(PgxError, match="truncate"):
        tokens(["A"], DNA, truncate="left")
    with pytest.raises(PgxError, match="at least 1"):
        tokens(["A"], DNA, length=0)


def test_tokens_values_and_vocab():
    ids, mask = tokens(["ACGTN", "c"], DNA)
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, [[1, 2, 3, 4, 5], [2, 0, 0, 0, 0]])
    np.testing.assert_array_equal(mask, ids != 0)
    assert vocab_size(DNA) == 6 and vocab_size(PROTEIN) == 22


def test_empty_batch():
    x, mask = one_hot([], DNA)
    assert x.shape == (0, 0, 4) and mask.shape == (0, 0)


@pytest.mark.parametrize("alphabet", [DNA, RNA, PROTEIN])
def test_round_trips_random(alphabet):
    rng = np.random.default_rng(0)
    letters = alphabet.letters + alphabet.letters.lower()
    seqs = _random_strings(rng, letters, 300, 40)
    x, mask = one_hot(seqs, alphabet)
    upper = [s.upper() for s in seqs]
    assert decode_one_hot(x, mask, alphabet) == upper
    assert decode_one_hot(jnp.asarray(x), jnp.asarray(mask), alphabet) == upper
    assert decode_tokens(tokens(seqs, alphabet)[0], alphabet) == upper


def test_decode_unknown_letters():
    for unknown in ("uniform", "zero"):
        x, mask = one_hot(["ANnC"], DNA, unknown=unknown)
        assert decode_one_hot(x, mask, DNA) == ["ANNC"]
    x, mask = one_hot(["mbx"], PROTEIN)
    assert decode_one_hot(x, mask, PROTEIN) == ["MXX"]
    with pytest.raises(PgxError, match="token ids"):
        decode_tokens(np.array([[7]]), DNA)


def test_t_u_mixing():
    mixed = ["ACUTu", "uuTT"]
    rna, _ = tokens(mixed, RNA)
    dna, _ = tokens(mixed, DNA)
    np.testing.assert_array_equal(rna, dna)
    assert decode_tokens(rna, RNA) == ["ACUUU", "UUUU"]
    assert decode_tokens(dna, DNA) == ["ACTTT", "TTTT"]


def test_reverse_complement_strings():
    assert reverse_complement(["ACGTN", "aacR", "U"], DNA) == ["NACGT", "Ygtt", "A"]
    assert reverse_complement(["ACGU", "T"], RNA) == ["ACGU", "A"]
    with pytest.raises(PgxError, match="no complement"):
        reverse_complement(["ACD"], PROTEIN)
    with pytest.raises(PgxError, match="position 2"):
        reverse_complement(["AZ"], DNA)


@pytest.mark.parametrize("alphabet", [DNA, RNA])
def test_reverse_complement_one_hot_matches_strings(alphabet):
    rng = np.random.default_rng(1)
    seqs = _random_strings(rng, alphabet.letters + "N", 100, 30)
    length = max(len(s) for s in seqs)
    padded = [s + "N" * (length - len(s)) for s in seqs]
    x, _ = one_hot(padded, alphabet)
    expected, _ = one_hot(reverse_complement(padded, alphabet), alphabet)
    np.testing.assert_array_equal(reverse_complement_one_hot(x), expected)
    np.testing.assert_array_equal(np.asarray(reverse_complement_one_hot(jnp.asarray(x))), expected)


def test_reverse_complement_one_hot_with_padding_mask():
    x, mask = one_hot(["AAC", "G"], DNA)
    rc, rc_mask = reverse_complement_one_hot(x), mask[..., ::-1]
    assert decode_one_hot(rc, rc_mask, DNA) == ["GTT", "C"]


def test_invalid_character_messages():
    with pytest.raises(
        PgxError, match=r"sequence '#1' position 3 \(1-based\): invalid character 'Z' for DNA"
    ):
        one_hot(["ACGT", "ACZ", "Q"], DNA)
    with pytest.raises(PgxError, match=r"sequence 'chr7' position 17 .*'J' for DNA"):
        tokens(["A", "ACGTACGTACGTACGTJ"], DNA, names=["rs1", "chr7"])
    with pytest.raises(PgxError, match=r"'#0' position 4 .*'é' for RNA"):
        tokens(["ACU\u00e9"], RNA)
    with pytest.raises(PgxError, match=r"position 2 .*'\?' for PROTEIN"):
        tokens(["A?"], PROTEIN)
    with pytest.raises(PgxError, match="position 1 "):
        tokens(["\x00A"], DNA)
    with pytest.raises(PgxError, match="names"):
        tokens(["A"], DNA, names=["a", "b"])


def test_invalid_character_after_non_ascii_keeps_position():
    with pytest.raises(PgxError, match=r"position 2 .*'ü'"):
        tokens(["Aü", "Z"], DNA)
    with pytest.raises(PgxError, match=r"'#1' position 3 .*'Z'"):
        tokens(["A", "ACZ"], DNA)


def test_truncated_part_is_still_validated():
    with pytest.raises(PgxError, match="position 5"):
        tokens(["ACGTZ"], DNA, length=2)
