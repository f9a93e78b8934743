"""Reference and alternative sequence windows centred on a variant, for every variant kind.

A variant is (0-based position of its first changed base, reference bases, alternative
bases) after `normalize`, which strips the bases REF and ALT share at the start and then at
the end: VCF's anchored deletions (`CA` > `C`) and insertions (`C` > `CAT`) and MPRA's `-`
alleles become plain deletions (`A` > ``) and insertions (`` > `AT`), where an insertion's
position is the base it goes before. Its kind (`variant_kind`) is an SNV, an MNV (a
substitution of several bases), a deletion, an insertion or a complex change (REF and ALT of
different non-zero lengths).

The centring rule (selene's `_process_alt`, `selene_sdk/predict/_variant_effect_prediction.py`,
which tangermeme's variant-effect functions follow): each window holds its own allele in its
middle, the allele's first base at index `length // 2 - len(allele) // 2`, with reference
bases on both sides. So the reference window is centred on REF and the alternative window on
ALT; an insertion pushes bases out of both ends of the alternative window and a deletion pulls
bases in from both sides, and both windows keep `length` bases (an allele longer than the
window keeps its middle `length` bases). For an SNV, and a 1-bp deletion, the changed base
sits at index `length // 2` of both windows. Windows beyond a contig's ends are padded with N.
"""

from collections.abc import Callable

from pgx_jax.errors import PgxError

Fetch = Callable[[int, int], str]
"""`fetch(start, end)`: the contig's bases [start, end), 0-based, upper or lower case."""

KINDS = ("snv", "mnv", "deletion", "insertion", "complex")


def slicer(sequence: str) -> Fetch:
    """A `Fetch` over an in-memory contig, `N` outside it."""

    def fetch(start: int, end: int) -> str:
        left = "N" * max(0, -start)
        right = "N" * max(0, end - max(len(sequence), start))
        return left + sequence[max(start, 0) : max(min(end, len(sequence)), 0)] + right

    return fetch


def normalize(pos0: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Strip the bases REF and ALT share, first at the start (moving `pos0`), then at the end;
    `-` is an empty allele."""
    ref = "" if ref == "-" else ref.upper()
    alt = "" if alt == "-" else alt.upper()
    while ref and alt and ref[0] == alt[0]:
        pos0, ref, alt = pos0 + 1, ref[1:], alt[1:]
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    if not ref and not alt:
        raise PgxError(f"position {pos0 + 1}: REF and ALT are the same allele")
    return pos0, ref, alt


def variant_kind(ref: str, alt: str) -> str:
    """One of `KINDS` for a normalized (ref, alt)."""
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    if not alt:
        return "deletion"
    return "insertion" if not ref else "complex"


def allele_window(fetch: Fetch, pos0: int, ref_length: int, allele: str, length: int) -> str:
    """`length` bases with `allele` in place of the contig's [pos0, pos0 + ref_length), the
    allele's first base at index `length // 2 - len(allele) // 2` (the module's rule)."""
    around = (
        fetch(pos0 - length, pos0) + allele + fetch(pos0 + ref_length, pos0 + ref_length + length)
    )
    start = length + len(allele) // 2 - length // 2
    return around[start : start + length]


def variant_windows(fetch: Fetch, pos0: int, ref: str, alt: str, length: int) -> tuple[str, str]:
    """(reference, alternative) windows of `length` bases, each centred on its own allele.

    `ref` must match the contig at `pos0` (checked by the caller, see `ref_matches`).
    """
    reference = allele_window(fetch, pos0, len(ref), fetch(pos0, pos0 + len(ref)), length)
    return reference, allele_window(fetch, pos0, len(ref), alt, length)


def ref_matches(fetch: Fetch, pos0: int, ref: str) -> str | None:
    """None when the contig holds `ref` at `pos0`, else the bases it holds there."""
    found = fetch(pos0, pos0 + len(ref)).upper()
    return None if found == ref.upper() else found
