"""Reference/alternative windows against windows built by hand for every variant kind (SNV,
MNV, deletion, insertion, complex; each window centred on its own allele), contig ends, allele
normalisation."""

import pytest

from pgx_jax.errors import PgxError
from pgx_jax.variants.windows import (
    normalize,
    ref_matches,
    slicer,
    variant_kind,
    variant_windows,
)

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
    with pytest.raises(PgxError, match="same allele"):
        normalize(4, "A", "A")


@pytest.mark.parametrize(
    "pos0, ref, alt, kind, windows",
    [
        (4, "A", "G", "snv", ("GTACG", "GTGCG")),
        (4, "AC", "GG", "mnv", ("TACGT", "TGGGT")),  # REF/ALT's first base at index 1
        (4, "AC", "", "deletion", ("TACGT", "GTGTA")),  # GT | GTA: flanks from both sides
        (4, "", "TT", "insertion", ("GTACG", "TTTAC")),  # T | TT | AC
        (4, "", "GGGCCCAAA", "insertion", ("GTACG", "GCCCA")),  # the middle of a long ALT
        (4, "AC", "T", "complex", ("TACGT", "GTTGT")),
    ],
)
def test_each_kind_matches_windows_built_by_hand(pos0, ref, alt, kind, windows):
    assert variant_kind(ref, alt) == kind
    assert variant_windows(slicer(CONTIG), pos0, ref, alt, 5) == windows


def test_vcf_anchors_are_stripped_at_both_ends():
    assert normalize(3, "T", "TGG") == (4, "", "GG")  # insertion before position 4
    assert normalize(3, "TAC", "TGC") == (4, "A", "G")  # an SNV written with context
    assert normalize(4, "AC", "C") == (4, "A", "")  # a deletion anchored on the base after
    assert normalize(4, "A", "-") == (4, "A", "")
    assert normalize(4, "-", "T") == (4, "", "T")
