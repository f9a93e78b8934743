"""Reference and alternative sequence windows centred on a variant.

A variant is (0-based position of its first changed base, reference bases, alternative
bases) after `normalize`: VCF's anchored deletions (`CA` > `C`) and MPRA's `-` alleles both
become a plain deletion (`A` > ``). Windows beyond the ends of a contig are padded with `N`.
"""

from collections.abc import Callable

from pgx_jax.errors import PgxError

Fetch = Callable[[int, int], str]
"""`fetch(start, end)`: the contig's bases [start, end), 0-based, upper or lower case."""


def slicer(sequence: str) -> Fetch:
    """A `Fetch` over an in-memory contig, `N` outside it."""

    def fetch(start: int, end: int) -> str:
        left = "N" * max(0, -start)
        right = "N" * max(0, end - max(len(sequence), start))
        return left + sequence[max(start, 0) : max(min(end, len(sequence)), 0)] + right

    return fetch


def normalize(pos0: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Strip the anchor bases REF and ALT share (and `-` for an empty allele)."""
    ref = "" if ref == "-" else ref.upper()
    alt = "" if alt == "-" else alt.upper()
    while ref and alt and ref[0] == alt[0]:
        pos0, ref, alt = pos0 + 1, ref[1:], alt[1:]
    if not ref and not alt:
        raise PgxError(f"position {pos0 + 1}: REF and ALT are the same allele")
    if not ref:
        raise PgxError(f"position {pos0 + 1}: insertions are not scored (ALT adds {alt!r})")
    return pos0, ref, alt


def variant_windows(fetch: Fetch, pos0: int, ref: str, alt: str, length: int) -> tuple[str, str]:
    """(reference, alternative) windows of `length` bases centred on the variant at `pos0`.

    The first changed base sits at index `length // 2` of both windows; a deletion pulls the
    bases after it into the alternative window from the right, so both keep `length` bases.
    `ref` must match the contig there (checked by the caller, see `ref_matches`).
    """
    start = pos0 - length // 2
    left = fetch(start, pos0)
    right_needed = length - len(left) - len(alt)
    reference = fetch(start, start + length)
    after = pos0 + len(ref)
    alternative = left + alt + fetch(after, after + max(right_needed, 0))
    return reference, alternative[:length]


def ref_matches(fetch: Fetch, pos0: int, ref: str) -> str | None:
    """None when the contig holds `ref` at `pos0`, else the bases it holds there."""
    found = fetch(pos0, pos0 + len(ref)).upper()
    return None if found == ref.upper() else found
