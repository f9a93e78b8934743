"""A synthetic genome in the real formats, for tests, examples and benchmarks.

`write_synthetic_genome(directory, sizes)` writes:

  * `genome.fa` and `genome.fa.fai`: chromosomes chr1, chr2, ... of i.i.d. background at a GC
    level; each starts with an assembly gap of N (1/20 of it, at most 10 kb) and every
    seventh 3-kb block is soft-masked (lower case), as in real assemblies;
  * `<cell type>.narrowPeak`: one peak per site of the cell type, its summit at the centre of
    the motif instances planted there;
  * `<cell type>.bw`: coverage, a Gaussian bump (sd `width`) on the summit of each of its
    peaks over a constant `background` (nothing in the gap, which reads as NaN);
  * `tracks.tsv`: id, file, kind (peaks or coverage), description, like baskerville's
    targets.txt (`pgx_jax.data.genome.read_tracks`).

Sites lie one per slot of `spacing` bases, within spacing / 8 of its centre (the slots drawn
at `sites_per_mb`), so peaks (100-250 bp either side of the summit) and bumps never touch; a
fraction `shared` of the sites are peaks of two or more cell types, the rest of one. At a
site, each of its cell types gets one instance of one of its JASPAR motifs
(`sample_motif_instances`, random strand), the instances side by side around the summit.
Chromosomes are written one after another in chunks of about 1 Mb, so memory stays bounded
whatever the size; the background of a chromosome is one random stream, the same for any
chunk size. Everything follows `seed`.
`python -m pgx_jax.data.genome_synthetic DIR [--size-mb N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from pgx_jax.data.jaspar import jaspar_name, jaspar_pfm
from pgx_jax.data.synthetic import sample_motif_instances
from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open

CELL_TYPES = {
    "hepatocyte": ("MA0114", "MA0102"),  # HNF4A, CEBPA
    "erythroid": ("MA0035", "MA0140"),  # GATA1, GATA1::TAL1
    "lymphoid": ("MA0080", "MA0154"),  # SPI1, EBF1
}
LINE = 60
CHUNK_LINES = 16384
"""FASTA lines written at a time (about 1 Mb)."""
_GAP = 4
"""Bases between motif instances at one site."""


@dataclasses.dataclass(frozen=True)
class SyntheticGenome:
    """What was written and planted. Sites [S]: chromosome index, summit; per site and cell
    type [S, C]: member, peak start and end, coverage amplitude (0 where not a member).
    Instances [I]: chromosome index, start, strand (+1/-1), cell type index, width, motif
    id, and the planted bases (A=0, C=1, G=2, T=3, as read on the forward strand) concatenated, one
    instance after another in `bases`."""

    directory: str
    names: tuple[str, ...]
    sizes: np.ndarray
    cell_types: tuple[str, ...]
    background: float
    width: float
    site_chrom: np.ndarray
    summit: np.ndarray
    member: np.ndarray
    peak_start: np.ndarray
    peak_end: np.ndarray
    amplitude: np.ndarray
    instance_chrom: np.ndarray
    instance_start: np.ndarray
    instance_strand: np.ndarray
    instance_cell: np.ndarray
    instance_width: np.ndarray
    instance_motif: tuple[str, ...]
    bases: np.ndarray

    @property
    def fasta(self) -> str:
        return os.path.join(self.directory, "genome.fa")

    def peaks(self, cell_type: str) -> str:
        """Path of a cell type's narrowPeak file."""
        return os.path.join(self.directory, f"{cell_type}.narrowPeak")

    def bigwig(self, cell_type: str) -> str:
        """Path of a cell type's bigWig coverage."""
        return os.path.join(self.directory, f"{cell_type}.bw")


def gap_length(size: int) -> int:
    """The N bases that open a chromosome of `size`."""
    return min(10_000, size // 20)


def write_synthetic_genome(
    directory: str,
    sizes: Sequence[int],
    cell_types: dict[str, Sequence[str]] | None = None,
    seed: int = 0,
    gc: float = 0.41,
    sites_per_mb: float = 200.0,
    spacing: int = 2000,
    shared: float = 0.3,
    background: float = 0.05,
    width: float = 30.0,
) -> SyntheticGenome:
    """Write the genome, peaks, coverage and tracks table into `directory` (see the module
    docstring); chromosome k + 1 has `sizes[k]` bases."""
    cell_types = dict(CELL_TYPES if cell_types is None else cell_types)
    cells = tuple(cell_types)
    if not cells or not all(cell_types.values()):
        raise PgxError("synthetic genome: give at least one cell type, each with a motif")
    if not 0.0 < gc < 1.0 or not 0.0 <= shared <= 1.0:
        raise PgxError(
            f"synthetic genome: need 0 < gc < 1 and 0 <= shared <= 1, got {gc}, {shared}"
        )
    if spacing < 700 or spacing * 3 // 4 <= 2 * int(4 * width) + 1:
        raise PgxError(f"synthetic genome: spacing {spacing} leaves neighbouring peaks overlapping")
    if not sizes or min(sizes) < 1:
        raise PgxError(f"synthetic genome: chromosome sizes must be positive, got {sizes!r}")
    os.makedirs(directory, exist_ok=True)
    names = tuple(f"chr{k + 1}" for k in range(len(sizes)))
    pfms = {m: jaspar_pfm(m) for motifs in cell_types.values() for m in motifs}
    rng = np.random.default_rng([seed, 1])
    sites = [
        _sites(rng, c, size, len(cells), sites_per_mb, spacing, shared)
        for c, size in enumerate(sizes)
    ]
    planted = [_instances(rng, s, cell_types, pfms) for s in sites]
    _write_fasta(directory, names, sizes, planted, gc, seed)
    for k, cell in enumerate(cells):
        _write_peaks(directory, cell, k, names, sites)
        _write_bigwig(directory, cell, k, names, sizes, sites, background, width)
    _write_tracks(directory, cell_types)
    joined = {key: np.concatenate([s[key] for s in sites]) for key in sites[0]}
    inst = {key: np.concatenate([p[key] for p in planted]) for key in planted[0]}
    return SyntheticGenome(
        directory,
        names,
        np.asarray(sizes, dtype=np.int64),
        cells,
        background,
        width,
        joined["chrom"],
        joined["summit"],
        joined["member"],
        joined["peak_start"],
        joined["peak_end"],
        joined["amplitude"],
        inst["chrom"],
        inst["start"],
        inst["strand"],
        inst["cell"],
        inst["width"],
        tuple(inst["motif"].tolist()),
        inst["bases"],
    )


def _sites(rng, chrom: int, size: int, cells: int, per_mb: float, spacing: int, shared: float):
    """One chromosome's sites: summits, member cell types, peaks and amplitudes."""
    gap = gap_length(size)
    slots = max((size - gap) // spacing, 0)
    count = min(slots, int(round(size / 1e6 * per_mb)))
    slot = np.sort(rng.choice(slots, size=count, replace=False)) if count else np.zeros(0, int)
    jitter = rng.integers(-(spacing // 8), spacing // 8 + 1, size=count)
    summit = gap + slot * spacing + spacing // 2 + jitter
    many = (rng.random(count) < shared) & (cells > 1)
    k = np.where(many, rng.integers(2, cells + 1, size=count), 1)
    rank = np.argsort(np.argsort(rng.random((count, cells)), axis=1), axis=1)
    member = rank < k[:, None]
    left = rng.integers(100, 251, size=(count, cells))
    right = rng.integers(100, 251, size=(count, cells))
    amplitude = np.where(member, np.exp(rng.normal(np.log(20.0), 0.5, size=(count, cells))), 0)
    return {
        "chrom": np.full(count, chrom, dtype=np.int32),
        "summit": summit.astype(np.int64),
        "member": member,
        "peak_start": (summit[:, None] - left).astype(np.int64),
        "peak_end": (summit[:, None] + right).astype(np.int64),
        "amplitude": amplitude,
    }


def _instances(rng, sites: dict, cell_types: dict[str, Sequence[str]], pfms: dict) -> dict:
    """Motif instances at one chromosome's sites: one per member cell type, side by side
    around the summit, each of a motif of that cell type on a random strand."""
    cells = list(cell_types)
    rows = []
    for chrom, summit, member in zip(sites["chrom"], sites["summit"], sites["member"], strict=True):
        chosen = [(k, rng.choice(cell_types[cells[k]])) for k in np.flatnonzero(member)]
        widths = [len(pfms[m]) for _, m in chosen]
        start = int(summit) - (sum(widths) + _GAP * (len(chosen) - 1)) // 2
        for (k, motif), w in zip(chosen, widths, strict=True):
            bases = sample_motif_instances(pfms[motif], 1, rng)[0]
            strand = 1 if rng.random() < 0.5 else -1
            rows.append(
                (chrom, start, strand, k, str(motif), bases if strand > 0 else 3 - bases[::-1])
            )
            start += w + _GAP
    return {
        "chrom": np.array([r[0] for r in rows], dtype=np.int32),
        "start": np.array([r[1] for r in rows], dtype=np.int64),
        "strand": np.array([r[2] for r in rows], dtype=np.int8),
        "cell": np.array([r[3] for r in rows], dtype=np.int32),
        "width": np.array([len(r[5]) for r in rows], dtype=np.int64),
        "motif": np.array([r[4] for r in rows], dtype=object),
        "bases": np.concatenate([np.zeros(0, np.int64)] + [r[5] for r in rows]).astype(np.uint8),
    }


def _write_fasta(directory: str, names, sizes, planted: list[dict], gc: float, seed: int) -> None:
    """genome.fa in 60-base lines, chunk by chunk, and its .fai."""
    cumulative = np.cumsum([(1 - gc) / 2, gc / 2, gc / 2])
    letters = np.frombuffer(b"ACGTacgtN", dtype=np.uint8)
    chunk = LINE * CHUNK_LINES
    fai = []
    path = os.path.join(directory, "genome.fa")
    with atomic_open(path, "wb") as out:
        for c, (name, size) in enumerate(zip(names, sizes, strict=True)):
            out.write(f">{name}\n".encode())
            fai.append(f"{name}\t{size}\t{out.tell()}\t{LINE}\t{LINE + 1}\n")
            rng = np.random.default_rng([seed, 0, c])
            inst = planted[c]
            position = np.concatenate(
                [np.zeros(0, np.int64)]
                + [s + np.arange(w) for s, w in zip(inst["start"], inst["width"], strict=True)]
            )
            for first in range(0, size, chunk):
                n = min(chunk, size - first)
                base = np.searchsorted(cumulative, rng.random(n), side="right")
                lo, hi = np.searchsorted(position, [first, first + n])
                base[position[lo:hi] - first] = inst["bases"][lo:hi]
                where = first + np.arange(n)
                base = np.where((where // 3000) % 7 == 3, base + 4, base)
                base[where < gap_length(size)] = 8
                out.write(_lines(letters[base]))
    with atomic_open(path + ".fai") as out:
        out.write("".join(fai))


def _lines(codes: np.ndarray) -> bytes:
    """Bases as 60-character lines, each ending in a newline."""
    full = len(codes) // LINE * LINE
    rows = np.empty((full // LINE, LINE + 1), dtype=np.uint8)
    rows[:, :LINE] = codes[:full].reshape(-1, LINE)
    rows[:, LINE] = ord("\n")
    tail = codes[full:].tobytes() + b"\n" if full < len(codes) else b""
    return rows.tobytes() + tail


def _write_peaks(directory: str, cell: str, k: int, names, sites: list[dict]) -> None:
    """`<cell>.narrowPeak`: the cell type's peaks in genome order, summits at the sites."""
    with atomic_open(os.path.join(directory, f"{cell}.narrowPeak")) as out:
        number = 0
        for s in sites:
            for i in np.flatnonzero(s["member"][:, k]):
                start, end = s["peak_start"][i, k], s["peak_end"][i, k]
                amplitude = s["amplitude"][i, k]
                score = min(1000, int(amplitude * 10))
                out.write(
                    f"{names[s['chrom'][i]]}\t{start}\t{end}\t{cell}_peak{number}\t{score}\t.\t"
                    f"{amplitude:.4f}\t-1\t-1\t{s['summit'][i] - start}\n"
                )
                number += 1


def bump(summit: int, amplitude: float, width: float) -> tuple[int, np.ndarray]:
    """Start and values of the coverage bump over a peak: amplitude x a Gaussian of sd
    `width` on the summit, out to 4 sd (the background is added where it is written)."""
    reach = int(4 * width)
    x = np.arange(-reach, reach + 1)
    return summit - reach, amplitude * np.exp(-0.5 * (x / width) ** 2)


def _write_bigwig(directory, cell, k, names, sizes, sites, background, width) -> None:
    """`<cell>.bw`: the constant background outside the gap, a bump over each of its peaks."""
    import pyBigWig

    path = os.path.join(directory, f"{cell}.bw")
    track = pyBigWig.open(path + ".tmp", "w")
    try:
        track.addHeader([(n, int(s)) for n, s in zip(names, sizes, strict=True)], maxZooms=10)
        for name, size, s in zip(names, sizes, sites, strict=True):
            at = gap_length(size)
            for i in np.flatnonzero(s["member"][:, k]):
                start, values = bump(int(s["summit"][i]), float(s["amplitude"][i, k]), width)
                if start > at:
                    track.addEntries([name], [at], ends=[start], values=[background])
                track.addEntries(name, start, values=values + background, span=1, step=1)
                at = start + len(values)
            if size > at:
                track.addEntries([name], [at], ends=[int(size)], values=[background])
    finally:
        track.close()
    os.replace(path + ".tmp", path)


def _write_tracks(directory: str, cell_types: dict[str, Sequence[str]]) -> None:
    """tracks.tsv: a peaks and a coverage row per cell type."""
    rows = ["id\tfile\tkind\tdescription\n"]
    for cell, motifs in cell_types.items():
        factors = ", ".join(f"{jaspar_name(m)} ({m})" for m in motifs)
        rows.append(f"{cell}_peaks\t{cell}.narrowPeak\tpeaks\t{cell} peaks: {factors}\n")
        rows.append(f"{cell}_coverage\t{cell}.bw\tcoverage\t{cell} coverage: {factors}\n")
    with atomic_open(os.path.join(directory, "tracks.tsv")) as out:
        out.write("".join(rows))


def chromosome_sizes(total_mb: float, count: int = 10) -> list[int]:
    """`count` chromosome sizes adding up to about `total_mb` Mb, the first the largest
    (weights count + 4 down to 5)."""
    weights = np.arange(count + 4, 4, -1, dtype=np.float64)
    return [max(int(total_mb * 1e6 * w / weights.sum()), 1) for w in weights]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: write a synthetic genome of about --size-mb Mb into DIR."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--size-mb", type=float, default=10.0, help="genome size (Mb)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    made = write_synthetic_genome(args.directory, chromosome_sizes(args.size_mb), seed=args.seed)
    peaks = made.member.sum(axis=0)
    print(
        f"wrote {made.fasta} ({int(made.sizes.sum()):,} bases, {len(made.names)} chromosomes), "
        + ", ".join(f"{c} ({p} peaks)" for c, p in zip(made.cell_types, peaks, strict=True))
        + f", tracks.tsv in {made.directory}"
    )


if __name__ == "__main__":
    main()
