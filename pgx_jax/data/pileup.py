"""Candidate variants from aligned reads, and their pileups as model inputs.

A region's reads are decoded once into reference coordinates (`read_region`): every read's
CIGAR expanded with numpy over all reads at once into dense [reads, span] arrays of base
codes (deletions included), base qualities and insertion marks, and its indels as
left-aligned (POS, REF, ALT) events. From them, without a loop over bases:

  * `find_candidates`: SNVs where a non-reference base, and indels where an event, has at
    least `min_count` reads and `min_fraction` of the depth (bases of quality at least
    `min_base_quality`);
  * `pileup_images`: DeepVariant's pileup image per candidate, [height, width, 6] uint8: the
    reference in row 0, then up to height - 1 reads overlapping the window (a fixed
    pseudo-random choice when there are more, kept in start order); channels base (A, C, G,
    T = 1/4 .. 4/4 of 255, N 25, a deletion 12), base quality (min(Q, 40) / 40), mapping
    quality (min(MQ, 60) / 60), strand (forward 255, reverse 127), read supports the
    candidate's ALT (255, else 127), differs from the reference (255: another base, a
    deletion or an insertion after the base; else 0); no read: 0 throughout;
  * `base_frequencies`: NeuSomatic's per-position summary, [width, 7] float32: the fractions
    of reads with A, C, G, T, a deletion or an insertion after the base, and the depth / 100.

Indels are matched by their left-aligned form (`left_align`), as truth VCFs and callers
report them.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from pgx_jax.errors import PgxError

CHANNELS = ("base", "base_quality", "mapping_quality", "strand", "supports_alt", "differs")
BASE_LEVELS = np.array([0, 63, 127, 191, 255, 25, 12], np.uint8)
"""Base channel value of code 0 (no read), A, C, G, T, N, deletion."""
DELETION = 6
_CODE = np.full(256, 5, np.uint8)
for _i, _b in enumerate(b"ACGT", 1):
    _CODE[_b] = _CODE[_b + 32] = _i
_CONSUMES_QUERY = np.array([1, 1, 0, 0, 1, 0, 0, 1, 1, 0])
_CONSUMES_REF = np.array([1, 0, 1, 1, 0, 0, 0, 1, 1, 0])
_FREQUENCY_ROW = np.array([-1, 0, 1, 2, 3, -1, 4])
"""Row of `base_frequencies` per base code (N not counted)."""
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
"""Unmapped, secondary, QC-failed, duplicate, supplementary."""


def left_align(reference, chrom: str, pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """An indel (0-based POS of REF's first base) shifted left while its last bases agree and
    trimmed to one shared anchor base (Tan et al. 2015); SNVs unchanged. `reference.fetch(
    chrom, start, end)` gives the bases."""
    if len(ref) == len(alt):
        return pos, ref, alt
    while True:
        while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
        if ref[-1] == alt[-1] and pos > 0:
            base = reference.fetch(chrom, pos - 1, pos)
            ref, alt, pos = base + ref, base + alt, pos - 1
            continue
        break
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


@dataclasses.dataclass(frozen=True)
class RegionReads:
    """The reads of a region in reference coordinates. Per read [R] (BAM order, by start):
    start, end, reverse strand, MAPQ, a fixed pseudo-random key (CRC32 of its name); per read
    and reference offset from its start [R, S]: base code (0 none, 1-4 ACGT, 5 N, 6 deletion),
    base quality, and whether an insertion follows. `indels` maps each left-aligned
    (pos, REF, ALT) to the reads showing it."""

    chrom: str
    start: np.ndarray
    end: np.ndarray
    reverse: np.ndarray
    mapq: np.ndarray
    key: np.ndarray
    base: np.ndarray
    qual: np.ndarray
    inserted: np.ndarray
    indels: dict[tuple[int, str, str], np.ndarray]

    def __len__(self) -> int:
        return len(self.start)


def read_region(
    bam, reference, chrom: str, start: int, end: int, min_mapq: int = 10
) -> RegionReads:
    """The primary, mapped, non-duplicate reads of MAPQ at least `min_mapq` overlapping
    [start, end) of an open `pysam.AlignmentFile`, decoded (`RegionReads`)."""
    reads = [
        a
        for a in bam.fetch(chrom, max(start, 0), end)
        if not a.flag & _SKIP_FLAGS and a.mapping_quality >= min_mapq and a.cigartuples
    ]
    n = len(reads)
    first = np.array([a.reference_start for a in reads], np.int64)
    last = np.array([a.reference_end for a in reads], np.int64)
    cigars = [a.cigartuples for a in reads]
    seq = np.frombuffer(b"".join(a.query_sequence.encode() for a in reads), np.uint8)
    qual = np.frombuffer(b"".join(bytes(a.query_qualities) for a in reads), np.uint8)
    read_len = np.array([a.query_length for a in reads], np.int64)
    seq_at = np.cumsum(read_len) - read_len
    span = int((last - first).max()) if n else 1
    base = np.zeros((n, span), np.uint8)
    quality = np.zeros((n, span), np.uint8)
    inserted = np.zeros((n, span), bool)
    count = np.array([len(c) for c in cigars], np.int64)
    ops = np.array([x for c in cigars for x in c], np.int64).reshape(-1, 2)
    read = np.repeat(np.arange(n), count)
    op, length = ops[:, 0], ops[:, 1]
    q_at = _within_read_offsets(length * _CONSUMES_QUERY[op], count)
    r_at = _within_read_offsets(length * _CONSUMES_REF[op], count)
    matched = np.isin(op, (0, 7, 8))
    row, col, k = _expand(read, r_at, length, matched)
    qi = seq_at[row] + q_at[matched].repeat(length[matched]) + k
    base[row, col] = _CODE[seq[qi]]
    quality[row, col] = qual[qi]
    row, col, _ = _expand(read, r_at, length, op == 2)
    base[row, col] = DELETION
    ins = (op == 1) & (r_at > 0)
    inserted[read[ins], r_at[ins] - 1] = True
    indels = _indel_events(reference, chrom, first, read, op, length, r_at, q_at, seq, seq_at)
    names = [zlib.crc32(a.query_name.encode()) for a in reads]
    return RegionReads(
        chrom,
        first,
        last,
        np.array([a.is_reverse for a in reads], bool),
        np.array([a.mapping_quality for a in reads], np.uint8),
        np.array(names, np.uint32),
        base,
        quality,
        inserted,
        indels,
    )


def _within_read_offsets(advance: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per CIGAR op, how far its read has advanced before it (an exclusive cumulative sum
    restarting at each read's first op)."""
    total = np.cumsum(advance) - advance
    first = np.cumsum(count) - count
    return total - np.repeat(total[first[count > 0]], count[count > 0])


def _expand(read, r_at, length, chosen) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column (reference offset in the read) and offset within the op of every base of
    the chosen ops."""
    lengths = length[chosen]
    k = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return read[chosen].repeat(lengths), r_at[chosen].repeat(lengths) + k, k


def _indel_events(reference, chrom, first, read, op, length, r_at, q_at, seq, seq_at) -> dict:
    """Left-aligned (pos, REF, ALT) -> reads, for the insertions and deletions of CIGARs
    (each distinct event aligned once)."""
    chosen = np.flatnonzero(np.isin(op, (1, 2)) & (r_at > 0))
    raw: dict[tuple[int, str, str], list[int]] = {}
    for i in chosen.tolist():
        anchor = int(first[read[i]] + r_at[i] - 1)
        if op[i] == 1:
            q = int(seq_at[read[i]] + q_at[i])
            key = (anchor, int(op[i]), seq[q : q + length[i]].tobytes().decode())
        else:
            key = (anchor, int(op[i]), str(length[i]))
        raw.setdefault(key, []).append(int(read[i]))
    events: dict[tuple[int, str, str], list[int]] = {}
    for (anchor, kind, text), rows in raw.items():
        if kind == 1:
            ref = reference.fetch(chrom, anchor, anchor + 1)
            alt = ref + text
        else:
            ref = reference.fetch(chrom, anchor, anchor + 1 + int(text))
            alt = ref[0]
        if "N" in ref or "N" in alt:
            continue
        events.setdefault(left_align(reference, chrom, anchor, ref, alt), []).extend(rows)
    return {key: np.unique(rows) for key, rows in events.items()}


@dataclasses.dataclass(frozen=True)
class Candidates:
    """Candidate alleles: chromosome, 0-based POS (of REF's first base), REF, ALT, reads
    with the ALT and the depth there."""

    chrom: tuple[str, ...]
    pos: np.ndarray
    ref: tuple[str, ...]
    alt: tuple[str, ...]
    count: np.ndarray
    depth: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)

    def alleles(self) -> list[tuple[str, int, str, str]]:
        """(chrom, pos, REF, ALT) per candidate."""
        return list(zip(self.chrom, self.pos.tolist(), self.ref, self.alt, strict=True))


def allele_counts(region: RegionReads, lo: int, hi: int, min_base_quality: int) -> np.ndarray:
    """Reads per position of [lo, hi) and base code [hi - lo, 7] (code 0 unused); bases below
    `min_base_quality` are not counted, deletions are."""
    row, col = np.nonzero(region.base)
    code = region.base[row, col]
    where = region.start[row] + col - lo
    keep = (where >= 0) & (where < hi - lo)
    keep &= (code == DELETION) | (region.qual[row, col] >= min_base_quality)
    flat = where[keep] * 7 + code[keep]
    return np.bincount(flat, minlength=(hi - lo) * 7).reshape(hi - lo, 7)


def find_candidates(
    region: RegionReads,
    reference,
    lo: int,
    hi: int,
    min_count: int = 2,
    min_fraction: float = 0.12,
    min_base_quality: int = 10,
) -> Candidates:
    """Candidate alleles with POS in [lo, hi), sorted by position then ALT (see the module
    docstring for the rule)."""
    counts = allele_counts(region, lo, hi, min_base_quality)
    depth = counts[:, 1:].sum(axis=1)
    ref_text = reference.fetch(region.chrom, lo, hi)
    ref_code = _CODE[np.frombuffer(ref_text.encode(), np.uint8)]
    rows = []
    for b in range(1, 5):
        hit = (
            (ref_code <= 4)
            & (ref_code != b)
            & _enough(counts[:, b], depth, min_count, min_fraction)
        )
        for p in np.flatnonzero(hit).tolist():
            rows.append((lo + p, ref_text[p], "ACGT"[b - 1], int(counts[p, b]), int(depth[p])))
    for (pos, ref, alt), reads in region.indels.items():
        if lo <= pos < hi and _enough(len(reads), depth[pos - lo], min_count, min_fraction):
            rows.append((pos, ref, alt, len(reads), int(depth[pos - lo])))
    rows.sort(key=lambda r: (r[0], r[2]))
    return Candidates(
        tuple(region.chrom for _ in rows),
        np.array([r[0] for r in rows], np.int64),
        tuple(r[1] for r in rows),
        tuple(r[2] for r in rows),
        np.array([r[3] for r in rows], np.int64),
        np.array([r[4] for r in rows], np.int64),
    )


def _enough(count, depth, min_count: int, min_fraction: float):
    return (count >= min_count) & (count >= min_fraction * np.maximum(depth, 1))


def _overlaps(region: RegionReads, window_start: np.ndarray, width: int):
    """(candidate, read) pairs whose read overlaps the candidate's window, by candidate then
    read."""
    span = region.base.shape[1]
    lo = np.searchsorted(region.start, window_start - span, "left")
    hi = np.searchsorted(region.start, window_start + width, "left")
    count = np.maximum(hi - lo, 0)
    cand = np.repeat(np.arange(len(window_start)), count)
    read = lo[cand] + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    keep = region.end[read] > window_start[cand]
    return cand[keep], read[keep]


def _columns(region: RegionReads, window_start, cand, read, width: int):
    """Each pair's read's base code, quality and insertion mark over the window [P, width]."""
    col = window_start[cand, None] + np.arange(width) - region.start[read, None]
    inside = (col >= 0) & (col < region.base.shape[1])
    col = np.clip(col, 0, region.base.shape[1] - 1)
    rows = read[:, None]
    return (
        np.where(inside, region.base[rows, col], 0),
        np.where(inside, region.qual[rows, col], 0),
        inside & region.inserted[rows, col],
    )


def _supports(region: RegionReads, candidates: Candidates, cand, read, centre_code) -> np.ndarray:
    """Whether each pair's read carries its candidate's ALT: the base at an SNV, the same
    left-aligned event for an indel."""
    alt_code = _CODE[np.frombuffer("".join(a[0] for a in candidates.alt).encode(), np.uint8)]
    snv = np.array([len(r) == len(a) for r, a in zip(candidates.ref, candidates.alt, strict=True)])
    found = snv[cand] & (centre_code == alt_code[cand])
    pairs = []
    for c in np.flatnonzero(~snv).tolist():
        key = (int(candidates.pos[c]), candidates.ref[c], candidates.alt[c])
        pairs.append(c * len(region) + region.indels.get(key, np.zeros(0, np.int64)))
    if pairs:
        found |= np.isin(cand * len(region) + read, np.concatenate(pairs))
    return found


def pileup_images(
    region: RegionReads, reference, candidates: Candidates, width: int = 33, height: int = 64
) -> np.ndarray:
    """DeepVariant pileup images [C, height, width, 6] uint8 centred on each candidate's POS
    (see the module docstring)."""
    out = np.zeros((len(candidates), height, width, len(CHANNELS)), np.uint8)
    if not len(candidates):
        return out
    window_start = candidates.pos - width // 2
    ref_code = _CODE[_reference_codes(reference, region.chrom, window_start, width)]
    out[:, 0, :, 0] = BASE_LEVELS[ref_code]
    out[:, 0, :, 1:4] = 255
    cand, read = _overlaps(region, window_start, width)
    order = np.lexsort((region.key[read], cand))  # a fixed random choice of height - 1 reads
    cand, read = cand[order], read[order]
    rank = np.arange(len(cand)) - np.searchsorted(cand, cand, "left")
    keep = rank < height - 1
    cand, read = cand[keep], read[keep]
    order = np.lexsort((read, cand))  # kept reads in start order
    cand, read = cand[order], read[order]
    row = 1 + np.arange(len(cand)) - np.searchsorted(cand, cand, "left")
    base, qual, inserted = _columns(region, window_start, cand, read, width)
    present = base > 0
    supports = _supports(region, candidates, cand, read, base[:, width // 2])
    differs = present & ((base != ref_code[cand]) | inserted)
    channels = (
        BASE_LEVELS[base],
        np.minimum(qual, 40).astype(np.uint16) * 255 // 40,
        np.broadcast_to(
            np.minimum(region.mapq[read], 60)[:, None].astype(np.uint16) * 255 // 60, base.shape
        ),
        np.broadcast_to(np.where(region.reverse[read], 127, 255)[:, None], base.shape),
        np.broadcast_to(np.where(supports, 255, 127)[:, None], base.shape),
        np.where(differs, 255, 0),
    )
    for k, values in enumerate(channels):
        out[cand, row, :, k] = np.where(present, values, 0)
    return out


def _reference_codes(reference, chrom: str, window_start: np.ndarray, width: int) -> np.ndarray:
    """The reference's ASCII bases of each window [C, width] (N outside the chromosome)."""
    return reference.read(np.full(len(window_start), reference.index(chrom)), window_start, width)


def base_frequencies(region: RegionReads, candidates: Candidates, width: int = 33) -> np.ndarray:
    """NeuSomatic's summary [C, width, 7] float32: per position the fraction of the reads
    there with A, C, G, T, a deletion, an insertion after the base, and the depth / 100."""
    out = np.zeros((len(candidates), width, 7), np.float32)
    if not len(candidates):
        return out
    window_start = candidates.pos - width // 2
    cand, read = _overlaps(region, window_start, width)
    base, _, inserted = _columns(region, window_start, cand, read, width)
    c, w = np.nonzero(base)
    row = _FREQUENCY_ROW[base[c, w]]
    known = row >= 0
    np.add.at(out, (cand[c][known], w[known], row[known]), 1.0)
    ci, wi = np.nonzero(inserted)
    np.add.at(out, (cand[ci], wi, 5), 1.0)
    depth = np.zeros((len(candidates), width), np.float32)
    np.add.at(depth, (cand[c], w), 1.0)
    out[..., :6] /= np.maximum(depth, 1)[..., None]
    out[..., 6] = depth / 100.0
    return out


def reference_one_hot(reference, chrom: str, window_start: np.ndarray, width: int) -> np.ndarray:
    """The reference over each window as one-hot A, C, G, T [C, width, 4] float32."""
    code = _CODE[_reference_codes(reference, chrom, window_start, width)]
    return (code[..., None] == np.arange(1, 5)).astype(np.float32)


def examples(
    bam: str,
    reference,
    chroms: Sequence[str],
    settings: Mapping,
    normal: str | None = None,
) -> dict[str, np.ndarray]:
    """The candidates of `chroms` (regions of `settings["region_size"]` bases, reads read
    `width` bases past either end) with their inputs: `pileup` images (germline), or with a
    `normal` BAM `frequencies` [C, width, 18] (the reference one-hot, the tumour's and the
    normal's `base_frequencies`). Columns: id (chrom:POS:REF>ALT, POS 1-based), chrom, pos,
    ref, alt, count, depth and the input."""

    s = settings
    files = [_open_bam(p, chroms) for p in ([bam] + ([normal] if normal else []))]
    parts = []
    try:
        for chrom in chroms:
            size = int(reference.sizes[reference.index(chrom)])
            for lo in range(0, size, s["region_size"]):
                hi = min(lo + s["region_size"], size)
                span = (chrom, lo - s["width"], hi + s["width"])
                regions = [read_region(f, reference, *span, min_mapq=s["min_mapq"]) for f in files]
                found = find_candidates(
                    regions[0],
                    reference,
                    lo,
                    hi,
                    s["min_count"],
                    s["min_fraction"],
                    s["min_base_quality"],
                )
                parts.append(_inputs(regions, reference, found, s["width"], s["height"]))
    finally:
        for f in files:
            f.close()
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _open_bam(path: str, chroms: Sequence[str]):
    """An indexed BAM holding `chroms`; PgxError naming the file otherwise."""
    import pysam

    try:
        found = pysam.AlignmentFile(path)
    except (OSError, ValueError) as err:
        raise PgxError(f"{path}: not a readable BAM ({err})") from None
    if not found.has_index():
        found.close()
        raise PgxError(f"{path}: no index (.bai or .csi); make one with `samtools index {path}`")
    missing = [c for c in chroms if c not in found.references]
    if missing:
        found.close()
        raise PgxError(f"{path}: no contig {missing[0]!r} (is it aligned to this FASTA?)")
    return found


def _inputs(regions, reference, found: Candidates, width: int, height: int) -> dict:
    """One region's candidates as columns (see `examples`)."""
    columns = {
        "id": np.array(
            [f"{c}:{p + 1}:{r}>{a}" for c, p, r, a in found.alleles()], dtype=object
        ).reshape(-1),
        "chrom": np.array(found.chrom, dtype=object).reshape(-1),
        "pos": found.pos,
        "ref": np.array(found.ref, dtype=object).reshape(-1),
        "alt": np.array(found.alt, dtype=object).reshape(-1),
        "count": found.count,
        "depth": found.depth,
    }
    if len(regions) == 1:
        columns["pileup"] = pileup_images(regions[0], reference, found, width, height)
    else:
        window_start = found.pos - width // 2
        columns["frequencies"] = np.concatenate(
            [reference_one_hot(reference, regions[0].chrom, window_start, width)]
            + [base_frequencies(r, found, width) for r in regions],
            axis=-1,
        )
    return columns
