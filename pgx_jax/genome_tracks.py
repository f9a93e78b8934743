"""A trained sequence model run over regions of a genome, written as one bedGraph or bigWig
track per task (`pgx predict --genome FASTA --regions BED|chr:start-end`).

Windows of the model's input length step through each region `step` bases at a time; each
window's prediction is written over its central `step` bases, so the bins tile the region
(windows that would run off a chromosome end are left out). A profile model (BPNet) writes
its predicted coverage base by base over its central profile, stepping by the profile's
length.
"""

import dataclasses
import os

import numpy as np

from pgx_jax.data import genome
from pgx_jax.errors import PgxError


@dataclasses.dataclass(frozen=True)
class Bins:
    """Where each window's predictions go: chromosome index, the first base written and how
    many bases each prediction covers (1 for profiles)."""

    names: tuple[str, ...]
    chrom: np.ndarray
    start: np.ndarray
    step: int


def regions(spec: str, reference: genome.Genome) -> genome.Intervals:
    """The regions of a BED file, or of `chr:start-end` (1-based, inclusive, as genome
    browsers write them; commas allowed), or a whole chromosome `chr`."""
    if os.path.isfile(spec):
        return genome.read_intervals(spec, reference, narrow_peak=False)
    name, _, span = spec.replace(",", "").partition(":")
    if name not in reference.names:
        raise PgxError(f"--regions {spec!r}: neither a BED file nor a chromosome of the genome")
    size = int(reference.sizes[reference.index(name)])
    first, _, last = span.partition("-")
    try:
        start, end = (int(first) - 1, int(last)) if span else (0, size)
    except ValueError:
        raise PgxError(f"--regions {spec!r}: expected chr:start-end, 1-based") from None
    if not 0 <= start < end <= size:
        raise PgxError(f"--regions {spec!r}: outside {name} (1-{size})")
    one = np.ones(1, np.int64)
    return genome.Intervals(
        spec, reference.names, np.full(1, reference.index(name), np.int32), start * one,
        end * one, -one,
    )  # fmt: skip


def region_windows(
    found: genome.Intervals, reference: genome.Genome, length: int, step: int
) -> tuple[genome.Windows, Bins]:
    """Windows of `length` whose central `step` bases tile each region, and their bins."""
    offset = (length - step) // 2
    bins = [np.arange(a, b, step) for a, b in zip(found.start, found.end, strict=True)]
    chrom = np.repeat(found.chrom, [len(b) for b in bins])
    start = np.concatenate([np.zeros(0, np.int64), *bins]) - offset
    inside = (start >= 0) & (start + length <= reference.sizes[chrom])
    keys = np.unique(np.stack([chrom[inside], start[inside]], axis=1), axis=0)  # sorted, once
    chrom, start = keys[:, 0].astype(np.int32), keys[:, 1]
    windows = genome.Windows(reference.names, chrom, start, length, length)
    return windows, Bins(reference.names, chrom, start + offset, step)


def write_tracks(
    path: str, bins: Bins, values: np.ndarray, tasks: list[str], sizes: np.ndarray
) -> list[str]:
    """One file per task: `path` itself for one task, else `<stem>.<task><suffix>`; bedGraph
    (`.bedGraph`, `.bg`) or bigWig (`.bw`, `.bigWig`). `values` is [N, T] (one value per bin)
    or [N, step, T] (one per base). Returns the paths written."""
    stem, suffix = os.path.splitext(path)
    if suffix.lower() not in (".bedgraph", ".bg", ".bw", ".bigwig"):
        raise PgxError(f"--output {path}: a genome track is .bedGraph, .bg, .bw or .bigWig")
    per_base = values.ndim == 3
    width = 1 if per_base else bins.step
    chrom = np.repeat(bins.chrom, bins.step) if per_base else bins.chrom
    start = (bins.start[:, None] + np.arange(bins.step)).reshape(-1) if per_base else bins.start
    flat = values.reshape(len(chrom), -1)
    written = []
    for t, task in enumerate(tasks):
        out = path if len(tasks) == 1 else f"{stem}.{task}{suffix}"
        if suffix.lower() in (".bw", ".bigwig"):
            _write_bigwig(out, bins.names, sizes, chrom, start, width, flat[:, t])
        else:
            _write_bedgraph(out, bins.names, chrom, start, width, flat[:, t])
        written.append(out)
    return written


def _write_bedgraph(path, names, chrom, start, width, values) -> None:
    from pgx_jax.files import atomic_open

    with atomic_open(path) as f:
        for c, s, v in zip(chrom.tolist(), start.tolist(), values.tolist(), strict=True):
            f.write(f"{names[c]}\t{s}\t{s + width}\t{v:.6g}\n")


def _write_bigwig(path, names, sizes, chrom, start, width, values) -> None:
    import pyBigWig

    track = pyBigWig.open(path + ".tmp", "w")
    try:
        track.addHeader([(n, int(s)) for n, s in zip(names, sizes, strict=True)])
        track.addEntries(
            [names[c] for c in chrom.tolist()],
            start.tolist(),
            ends=(start + width).tolist(),
            values=values.astype(float).tolist(),
        )
    finally:
        track.close()
    os.replace(path + ".tmp", path)


def predict_regions(
    run, fasta: str, spec: str, output: str, stride: int = 0, batch_size: int = 0
) -> list[str]:
    """Score the regions `spec` names with a run's model and write its tracks to `output`
    (`write_tracks`); the bins step `stride` bases (default the run's label bin, else its
    window length; a profile model's profile length)."""
    from tqdm import tqdm

    from pgx_jax.data import lengths

    reference = genome.Genome(fasta)
    field, length = lengths.sequence_window(
        run.predictor.input_lengths, 0, f"the run in {run.workdir}"
    )
    profile = run.predictor.task == "profile"
    data = run.config.data
    step = data.profile_length if profile else stride or data.get("bin_size") or length
    if not 1 <= step <= length:
        raise PgxError(f"--stride={step}: must be between 1 and the window length {length}")
    windows, bins = region_windows(regions(spec, reference), reference, length, step)
    if not len(windows):
        raise PgxError(f"--regions {spec!r}: no window of {length} bp fits inside the genome")
    size = run.batch_size(batch_size)

    def batches():
        for first in range(0, len(windows), size):
            part = windows.take(slice(first, first + size))
            codes = reference.read(part.chrom, part.start, length)
            ids = np.arange(first, first + len(part)).astype(str)
            yield run.predictor.encode({"id": ids, field: np.array(genome.sequences(codes))})

    with tqdm(total=len(windows), desc="predict", unit="window") as bar:
        values = run.predict(batches(), size, progress=bar).predictions
    values = values[:, None] if values.ndim == 1 else values
    tasks = list(run.predictor.fitted.get("tasks", [])) or [
        f"prediction_{k}" for k in range(values.shape[-1])
    ]
    return write_tracks(output, bins, values, tasks, reference.sizes)
