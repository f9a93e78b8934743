"""Reference/alternative windows: centring, deletions, contig ends, allele normalisation."""

import pytest

from pgx_jax.errors import PgxError
from pgx_jax.variants.windows import normalize, ref_matches, slicer, variant_windows

CONTIG = "ACGTACGTAC"


def test_snv_window_is_centred_and_differs_in_one_base():
    ref, alt = variant_windows(slicer(CONTIG), 4, "A", "G", 5)
    assert (ref, alt) == ("GTACG", "GTGCG")


def test_window_past_contig_ends_is_padded_with_n():
    ref, alt = variant_windows(slicer(CONTIG), 0, "A", "T", 5)
    assert (ref, alt) == ("NNACG", "NNTCG")
    ref, alt = variant_windows(slicer(CONTIG), 9, "C", "T", 5)
    assert (ref, alt) == ("TACNN", "TATNN")


def test_deletion_pulls_in_the_next_base():
    pos0, r, a = normalize(3, "TA", "T")
    assert (pos0, r, a) == (4, "A", "")
    ref, alt = variant_windows(slicer(CONTIG), pos0, r, a, 5)
    assert (ref, alt) == ("GTACG", "GTCGT")
    assert normalize(4, "A", "-") == (4, "A", "")


def test_ref_mismatch_and_bad_alleles():
    assert ref_matches(slicer(CONTIG), 4, "a") is None
    assert ref_matches(slicer(CONTIG), 4, "C") == "A"
    with pytest.raises(PgxError, match="insertions"):
        normalize(4, "A", "AT")
    with pytest.raises(PgxError, match="same allele"):
        normalize(4, "A", "A")
