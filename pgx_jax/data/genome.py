"""Genome-scale data: windows of an indexed reference FASTA, interval files, labels, coverage.

A data set is a set of `Windows` (chromosome index int32, start int64, one length) over a
`Genome`, the way selene's IntervalsSampler, DeepSEA and bpnet-lite cut theirs:

  * positives centred on peaks (`peak_windows`: the narrowPeak summit when there is one), or
    the genome tiled with a stride (`tile_windows`: DeepSEA's 200-bp label bin at the centre
    of a 1000-bp input window); windows running off a chromosome end are dropped, so every
    window is real sequence (`Genome.read` pads N for any window given by hand);
  * a blacklist removes windows that overlap it (`drop_overlapping`);
  * chromosome holdouts (`split_by_chromosome`): a window lies within one chromosome, so no
    window crosses into another part;
  * targets: binary multi-task labels from peak files (`peak_labels`), coverage counts and
    profiles from bigWig tracks (`coverage`);
  * negatives: the flanks of peaks (`flank_windows`) or background windows drawn to match the
    positives' GC content (`gc_matched_windows`, seeded).

Intervals are compared on one axis, chromosome c's position p at c * 2**40 + p, through the
sorted union of each interval set and np.searchsorted: no loop over windows or peaks. Nothing
grows with the genome beyond the FASTA index and the window arrays.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import shutil
import sys
import tempfile
import threading
import zlib
from collections.abc import Sequence

import numpy as np

from pgx_jax.data.readers import open_text
from pgx_jax.errors import PgxError

_AXIS = np.int64(1 << 40)
"""Spacing of chromosomes on the one axis interval sets are compared on."""
_UPPER = bytes(range(256)).upper()
_N = ord("N")
SPLITS = ("train", "validation", "test")
_BATCH = 4096
"""Windows read at a time where only a summary of each is kept (GC, coverage)."""


def _is_bgzip(path: str) -> bool:
    """True for a BGZF file, False for plain text; PgxError for plain gzip (not indexable)."""
    with open(path, "rb") as f:
        head = f.read(18)
    if head[:2] != b"\x1f\x8b":
        return False
    if len(head) >= 14 and head[3] & 4 and head[12:14] == b"BC":
        return True
    raise PgxError(f"FASTA file {path}: gzip but not bgzip; recompress it with `bgzip`")


class Genome:
    """An indexed reference FASTA, plain or bgzipped: chromosome names and sizes, and windows.

    The `.fai` (and for bgzip `.gzi`) index is read from next to the FASTA, built there with
    `samtools faidx` (pysam) when missing or older than the FASTA, or built in a temporary
    directory (said on stderr) when that directory is read-only. Plain FASTA is read with
    `os.pread` at byte offsets computed from the index (thread-safe; nothing cached but the
    kernel's page cache); bgzipped FASTA through pysam under a lock. Random 1-kb windows of a
    100-Mb FASTA on this project's 2-core CPU (2026-12-07, load average 2-3): `read` 190-280k
    windows/s in batches of 256 to 4096; one fetch per window, pyfaidx 71k and pysam 63k;
    bgzipped, pysam 4.3k and pyfaidx 3.6k. Pickles as its path (grain worker processes).
    """

    def __init__(self, path: str):
        import pysam

        if not os.path.isfile(path):
            raise PgxError(f"file not found: {path}")
        self.path = path
        self._tmpdir: str | None = None
        self._fd: int | None = None
        self._fasta = None
        self._bgzip = _is_bgzip(path)
        fai, gzi = self._index()
        names, table = _read_fai(fai)
        self.names: tuple[str, ...] = names
        self.sizes: np.ndarray = table[:, 0]
        self._offset, self._line_bases, self._line_width = table[:, 1], table[:, 2], table[:, 3]
        self._index_of = {name: i for i, name in enumerate(names)}
        if self._bgzip:
            self._fasta = pysam.FastaFile(path, filepath_index=fai, filepath_index_compressed=gzi)
            self._lock = threading.Lock()
        else:
            self._fd = os.open(path, os.O_RDONLY)

    def _index(self) -> tuple[str, str]:
        """Paths of a current `.fai` (and `.gzi`), building them when missing or stale."""
        import pysam

        fai, gzi = self.path + ".fai", self.path + ".gzi"
        built = [fai, gzi] if self._bgzip else [fai]
        mtime = os.path.getmtime(self.path)
        if all(os.path.isfile(p) and os.path.getmtime(p) >= mtime for p in built):
            return fai, gzi
        if not os.access(os.path.dirname(self.path) or ".", os.W_OK):
            self._tmpdir = tempfile.mkdtemp(prefix="pgx_fai_")
            base = os.path.join(self._tmpdir, os.path.basename(self.path))
            fai, gzi = base + ".fai", base + ".gzi"
            print(
                f"{self.path}: directory is read-only; index built in {self._tmpdir}",
                file=sys.stderr,
            )
        pysam.set_verbosity(0)
        try:
            pysam.faidx(self.path, "--fai-idx", fai, *(["--gzi-idx", gzi] if self._bgzip else []))
        except pysam.SamtoolsError:
            self.close()
            raise PgxError(
                f"FASTA file {self.path}: cannot index it ({_why_unindexable(self.path)})"
            ) from None
        return fai, gzi

    def index(self, chrom: str) -> int:
        """The index of chromosome `chrom` in `names`; PgxError naming the FASTA if absent."""
        if chrom not in self._index_of:
            raise PgxError(f"FASTA file {self.path}: no chromosome {chrom!r}")
        return self._index_of[chrom]

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases [start, end) of `chrom`, 0-based, upper case, N outside the chromosome."""
        if end < start:
            raise PgxError(f"fetch {chrom}:{start}-{end}: end is before start")
        row = self.read([self.index(chrom)], [start], end - start)[0]
        return row.tobytes().decode("latin-1")

    def read(self, chrom, start, length: int) -> np.ndarray:
        """Windows [start, start + length) of chromosomes `chrom` (indices into `names`) as
        upper-case ASCII codes uint8 [N, length], N outside the chromosome.

        `sequences(codes)` gives the strings `alphabets.one_hot` / `tokens` encode."""
        chrom = np.asarray(chrom, dtype=np.int64).reshape(-1)
        start = np.asarray(start, dtype=np.int64).reshape(-1)
        if chrom.shape != start.shape:
            raise PgxError(f"read: {chrom.size} chromosome indices for {start.size} starts")
        if length < 0:
            raise PgxError(f"read: window length must not be negative, got {length}")
        if chrom.size and (chrom.min() < 0 or chrom.max() >= len(self.names)):
            raise PgxError(f"read: chromosome indices must lie in [0, {len(self.names)})")
        size = self.sizes[chrom]
        lo = np.clip(start, 0, size)
        hi = np.clip(start + length, lo, size)
        flat = self._bases(chrom, lo, hi)
        if np.all(lo == start) and np.all(hi == start + length):
            return flat.reshape(len(chrom), length)
        out = np.full((len(chrom), length), _N, dtype=np.uint8)
        cols = np.arange(length)
        out[(cols >= (lo - start)[:, None]) & (cols < (hi - start)[:, None])] = flat
        return out

    def _bases(self, chrom: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The bases [lo, hi) of each window, concatenated and upper-cased (uint8)."""
        if self._fasta is not None:
            with self._lock:
                parts = [
                    self._fasta.fetch(reference=self.names[c], start=a, end=b) if b > a else ""
                    for c, a, b in zip(chrom.tolist(), lo.tolist(), hi.tolist(), strict=True)
                ]
            raw = "".join(parts).encode("latin-1").translate(_UPPER)
        else:
            offset, bases, width = (
                self._offset[chrom],
                self._line_bases[chrom],
                self._line_width[chrom],
            )
            first = offset + lo // bases * width + lo % bases
            last = offset + hi // bases * width + hi % bases
            fd = self._fd
            raw = b"".join(
                [
                    os.pread(fd, b - a, a).translate(_UPPER, b"\r\n")
                    for a, b in zip(first.tolist(), last.tolist(), strict=True)
                ]
            )
        if len(raw) != int((hi - lo).sum()):
            raise PgxError(f"FASTA file {self.path}: its index does not match it; delete the .fai")
        return np.frombuffer(raw, dtype=np.uint8)

    def close(self) -> None:
        """Close the FASTA and remove a temporary index."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._fasta is not None:
            self._fasta.close()
            self._fasta = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Genome:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __reduce__(self):
        return Genome, (self.path,)


def _why_unindexable(path: str) -> str:
    """pyfaidx's account (with a line number) of why samtools could not index a FASTA."""
    import pyfaidx

    with tempfile.TemporaryDirectory() as tmp:
        try:
            pyfaidx.Faidx(path, indexname=os.path.join(tmp, "index.fai")).close()
        except Exception as err:  # whatever pyfaidx objects to says more than samtools
            return str(err)
    return "samtools faidx failed: not a FASTA file, or lines of unequal length in a record"


def _read_fai(path: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Names and [size, offset, line bases, line width] int64 rows of a `.fai` index."""
    names, rows = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip("\n").split("\t")
            try:
                rows.append([int(x) for x in fields[1:5]])
                if len(rows[-1]) != 4 or min(rows[-1][2:]) < 1:
                    raise ValueError
            except ValueError:
                raise PgxError(f"FASTA index {path} line {number}: not a .fai line") from None
            names.append(fields[0])
    if not names:
        raise PgxError(f"FASTA index {path}: no chromosomes")
    return tuple(names), np.array(rows, dtype=np.int64).reshape(-1, 4)


def sequences(codes: np.ndarray) -> list[str]:
    """Rows of ASCII codes [N, L] (from `Genome.read`) as strings, for `alphabets.one_hot`."""
    return [row.tobytes().decode("latin-1") for row in np.asarray(codes, dtype=np.uint8)]


@dataclasses.dataclass(frozen=True)
class Intervals:
    """The intervals of a BED or narrowPeak file: chromosome index into `names` (int32),
    0-based half-open [start, end) (int64), and the absolute summit position (int64; -1 when
    the file gives none, and always for BED). `names` is the genome's chromosomes when read
    against a Genome, else the file's in order of first appearance."""

    path: str
    names: tuple[str, ...]
    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    summit: np.ndarray

    def __len__(self) -> int:
        return len(self.chrom)


def read_intervals(
    path: str, genome: Genome | None = None, narrow_peak: bool | None = None
) -> Intervals:
    """Read a BED (3+ columns) or narrowPeak (10 columns) file, plain or gzipped.

    narrowPeak when `narrow_peak`, or by default when the file name contains "narrowPeak"; its
    column 10 is the summit's offset from the start (-1: none). Blank, `#`, `track` and
    `browser` lines are skipped; columns are tab-separated (whitespace when a line has no tab).
    A bad line is a PgxError naming the file and line: too few columns, a coordinate that is
    not a non-negative integer, start after end, a summit outside its peak and, given a
    genome, a chromosome it lacks or an end past the chromosome's end.
    """
    if narrow_peak is None:
        narrow_peak = "narrowpeak" in os.path.basename(path).lower()
    kind = "narrowPeak file" if narrow_peak else "BED file"
    index = dict(genome._index_of) if genome is not None else {}
    rows: list[tuple[int, int, int, int]] = []
    try:
        with open_text(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip() or line.startswith(("#", "track", "browser")):
                    continue
                fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
                try:
                    rows.append(_interval(fields, narrow_peak, index, genome))
                except ValueError as err:
                    raise PgxError(f"{kind} {path} line {number}: {err}") from None
    except UnicodeDecodeError as err:
        raise PgxError(f"{kind} {path}: not valid UTF-8 text ({err.reason})") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise PgxError(f"{kind} {path}: cannot read ({err})") from None
    table = np.array(rows, dtype=np.int64).reshape(-1, 4)
    names = genome.names if genome is not None else tuple(index)
    return Intervals(path, names, table[:, 0].astype(np.int32), *table[:, 1:].T)


def _interval(fields: list[str], narrow_peak: bool, index: dict, genome) -> tuple[int, ...]:
    """(chromosome index, start, end, absolute summit or -1) of one line; ValueError saying
    what is wrong. Without a genome, new chromosome names are added to `index`."""
    if narrow_peak and len(fields) != 10:
        raise ValueError(f"expected 10 narrowPeak columns, got {len(fields)}")
    if len(fields) < 3:
        raise ValueError(f"expected at least 3 columns (chrom, start, end), got {len(fields)}")
    chrom, start, end = fields[0], _coordinate(fields[1], "start"), _coordinate(fields[2], "end")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if genome is None:
        index.setdefault(chrom, len(index))
    elif chrom not in index:
        raise ValueError(f"chromosome {chrom!r} is not in the genome {genome.path}")
    elif end > genome.sizes[index[chrom]]:
        raise ValueError(f"end {end} is past the end of {chrom} ({genome.sizes[index[chrom]]})")
    summit = -1
    if narrow_peak:
        offset = _coordinate(fields[9], "summit offset", allow=-1)
        if offset >= end - start:
            raise ValueError(f"summit offset {offset} lies outside the peak (length {end - start})")
        summit = start + offset if offset >= 0 else -1
    return index[chrom], start, end, summit


def _coordinate(text: str, what: str, allow: int = 0) -> int:
    """An integer >= `allow`, or ValueError naming `what`."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an integer") from None
    if value < allow:
        raise ValueError(f"{what} {value} is " + ("negative" if allow == 0 else f"below {allow}"))
    return value


@dataclasses.dataclass(frozen=True)
class Windows:
    """Windows of one `length` over chromosomes `names`: chromosome index int32 [N] and 0-based
    start int64 [N]. The label bin is the central `bin_size` bases, from
    `start + (length - bin_size) // 2` (the whole window when bin_size == length)."""

    names: tuple[str, ...]
    chrom: np.ndarray
    start: np.ndarray
    length: int
    bin_size: int

    def __post_init__(self):
        if self.length < 1 or not 1 <= self.bin_size <= self.length:
            raise PgxError(
                f"windows need 1 <= bin_size <= length, got bin_size {self.bin_size}, "
                f"length {self.length}"
            )

    def __len__(self) -> int:
        return len(self.chrom)

    @property
    def bin_start(self) -> np.ndarray:
        """Start of each window's label bin."""
        return self.start + (self.length - self.bin_size) // 2

    def take(self, index) -> Windows:
        """The windows at `index` (indices or a boolean mask)."""
        return dataclasses.replace(self, chrom=self.chrom[index], start=self.start[index])


def concatenate(parts: Sequence[Windows]) -> Windows:
    """Window sets of the same genome, length and bin one after another (e.g. positives and
    negatives)."""
    first = parts[0]
    for part in parts[1:]:
        if (part.names, part.length, part.bin_size) != (first.names, first.length, first.bin_size):
            raise PgxError("concatenate: window sets differ in genome, length or bin size")
    return dataclasses.replace(
        first,
        chrom=np.concatenate([p.chrom for p in parts]),
        start=np.concatenate([p.start for p in parts]),
    )


def _windows(genome: Genome, chrom, start, length: int, bin_size: int | None) -> Windows:
    """Windows within their chromosome (those running off an end are dropped), sorted."""
    chrom, start = np.asarray(chrom, dtype=np.int32), np.asarray(start, dtype=np.int64)
    inside = (start >= 0) & (start + length <= genome.sizes[chrom])
    chrom, start = chrom[inside], start[inside]
    order = np.lexsort((start, chrom))
    return Windows(genome.names, chrom[order], start[order], length, bin_size or length)


def _chrom_on(intervals: Intervals, names: tuple[str, ...]) -> np.ndarray:
    """The intervals' chromosome indices into `names`; PgxError for a name it lacks."""
    if intervals.names == names:
        return intervals.chrom
    position = {name: i for i, name in enumerate(names)}
    missing = [n for n in intervals.names if n not in position]
    if missing:
        raise PgxError(f"{intervals.path}: chromosome {missing[0]!r} is not in the genome")
    table = np.array([position[n] for n in intervals.names], dtype=np.int32)
    return table[intervals.chrom]


def _centres(intervals: Intervals, summits: bool) -> np.ndarray:
    """The summit of each interval when given (and `summits`), else its midpoint."""
    middle = (intervals.start + intervals.end) // 2
    return np.where(summits & (intervals.summit >= 0), intervals.summit, middle)


def peak_windows(
    intervals: Intervals,
    genome: Genome,
    length: int,
    bin_size: int | None = None,
    summits: bool = True,
) -> Windows:
    """A window of `length` centred on each interval: on its narrowPeak summit when it has one
    (and `summits`), else its midpoint; the centre base sits at index length // 2. Windows
    running off a chromosome end are dropped; sorted by chromosome and start."""
    start = _centres(intervals, summits) - length // 2
    return _windows(genome, _chrom_on(intervals, genome.names), start, length, bin_size)


def tile_windows(
    genome: Genome,
    length: int,
    stride: int,
    bin_size: int | None = None,
    chroms: Sequence[str] | None = None,
) -> Windows:
    """Windows of `length` every `stride` bases from each chromosome's start to the last that
    ends within it (DeepSEA: length 1000, bin_size 200, stride 200); all chromosomes, or
    `chroms`."""
    if stride < 1:
        raise PgxError(f"tile_windows: stride must be at least 1, got {stride}")
    wanted = range(len(genome.names)) if chroms is None else [genome.index(c) for c in chroms]
    starts = [np.arange(0, int(genome.sizes[c]) - length + 1, stride) for c in wanted]
    chrom = np.repeat(np.asarray(wanted, dtype=np.int32), [len(s) for s in starts])
    return _windows(
        genome, chrom, np.concatenate([np.zeros(0, np.int64), *starts]), length, bin_size
    )


def _union(sets: Intervals | Sequence[Intervals], names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """The union of interval sets on the one axis: sorted disjoint starts and ends, and the
    bases covered before each start."""
    sets = [sets] if isinstance(sets, Intervals) else list(sets)
    chrom = np.concatenate([np.zeros(0, np.int64)] + [_chrom_on(s, names) for s in sets])
    lo = chrom * _AXIS + np.concatenate([np.zeros(0, np.int64)] + [s.start for s in sets])
    hi = chrom * _AXIS + np.concatenate([np.zeros(0, np.int64)] + [s.end for s in sets])
    keep = hi > lo
    order = np.argsort(lo[keep], kind="stable")
    lo, hi = lo[keep][order], hi[keep][order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = lo[1:] > np.maximum.accumulate(hi)[:-1]
    starts = lo[first]
    ends = np.maximum.reduceat(hi, np.flatnonzero(first)) if len(lo) else hi
    before = np.cumsum(ends - starts) - (ends - starts)
    return starts, ends, before


def _covered(union: tuple[np.ndarray, ...], x: np.ndarray) -> np.ndarray:
    """Bases of the union before each point `x` of the one axis."""
    starts, ends, before = union
    if not len(starts):
        return np.zeros(x.shape, dtype=np.int64)
    i = np.searchsorted(starts, x, side="right") - 1
    j = np.maximum(i, 0)
    return np.where(i >= 0, before[j] + np.minimum(x, ends[j]) - starts[j], 0)


def _overlap(windows: Windows, union: tuple[np.ndarray, ...], start, width: int) -> np.ndarray:
    """Bases of [start, start + width) that the union covers, per window."""
    lo = windows.chrom.astype(np.int64) * _AXIS + start
    return _covered(union, lo + width) - _covered(union, lo)


def drop_overlapping(windows: Windows, intervals: Intervals | Sequence[Intervals]) -> Windows:
    """The windows that overlap none of the intervals (a blacklist, or peaks) by even a base."""
    covered = _overlap(windows, _union(intervals, windows.names), windows.start, windows.length)
    return windows.take(covered == 0)


def split_by_chromosome(
    windows: Windows, validation: Sequence[str], test: Sequence[str]
) -> dict[str, np.ndarray]:
    """Indices (ascending) of the windows in "train", "validation" and "test": the windows on
    the `validation` and `test` chromosomes, and all others. A window lies within one
    chromosome, so it never crosses into another part; every window is in exactly one."""
    position = {name: i for i, name in enumerate(windows.names)}
    for name in [*validation, *test]:
        if name not in position:
            raise PgxError(f"holdout chromosome {name!r} is not in the genome")
    both = sorted(set(validation) & set(test))
    if both:
        raise PgxError(f"chromosome {both[0]!r} is in both the validation and test holdouts")
    part = np.zeros(len(windows.names), dtype=np.int8)
    part[[position[n] for n in validation]] = 1
    part[[position[n] for n in test]] = 2
    of_window = part[windows.chrom]
    return {name: np.flatnonzero(of_window == k) for k, name in enumerate(SPLITS)}


class PeakLabels:
    """Binary multi-task labels of windows against peak files, the union of each file computed
    once, so labels can be read per batch (nothing grows with the number of windows): task t
    is 1 where the peaks of `peaks[t]` cover at least `min_overlap` of a window's label bin,
    and at least one base (DeepSEA: half of the 200-bp bin). Overlapping peaks of one file
    count once."""

    def __init__(
        self, peaks: Sequence[Intervals], names: tuple[str, ...], min_overlap: float = 0.5
    ):
        if not 0.0 <= min_overlap <= 1.0:
            raise PgxError(f"peak_labels: min_overlap must lie in [0, 1], got {min_overlap}")
        self.names, self.min_overlap = names, min_overlap
        self.unions = [_union(intervals, names) for intervals in peaks]

    def __call__(self, windows: Windows) -> np.ndarray:
        """uint8 [N, T]."""
        need = max(self.min_overlap * windows.bin_size, 1)
        labels = np.zeros((len(windows), len(self.unions)), dtype=np.uint8)
        for t, union in enumerate(self.unions):
            labels[:, t] = _overlap(windows, union, windows.bin_start, windows.bin_size) >= need
        return labels


def peak_labels(
    windows: Windows, peaks: Sequence[Intervals], min_overlap: float = 0.5
) -> np.ndarray:
    """`PeakLabels` of `windows`, uint8 [N, T]."""
    return PeakLabels(peaks, windows.names, min_overlap)(windows)


class CoverageLabels:
    """Labels of windows from bigWig tracks, read per batch: "counts", each track's total
    over a window's label bin, float32 [N, T]; or "profile", each track's base-resolution
    coverage over the central `profile_length` bases, float32 [N, P, T] (BPNet). A track
    without a window's chromosome has no label there: 0, and `mask` False."""

    def __init__(
        self, files: Sequence[str], kind: str, names: tuple[str, ...], profile_length: int = 0
    ):
        if kind not in ("counts", "profile"):
            raise PgxError(f"coverage labels: kind {kind!r}; expected 'counts' or 'profile'")
        self.files, self.kind, self.profile_length = tuple(files), kind, profile_length
        self.covered = np.stack([_chromosomes_of(f, names) for f in self.files], axis=1)

    def mask(self, windows: Windows) -> np.ndarray:
        """bool [N, T]: whether each track covers each window's chromosome."""
        return self.covered[windows.chrom]

    def __call__(self, windows: Windows) -> np.ndarray:
        if self.kind == "counts":
            read = dataclasses.replace(
                windows, start=windows.bin_start, length=windows.bin_size, bin_size=windows.bin_size
            )
        else:
            width = self.profile_length
            if not 1 <= width <= windows.length:
                raise PgxError(
                    f"coverage labels: profile_length {width} must lie in [1, {windows.length}]"
                )
            start = windows.start + (windows.length - width) // 2
            read = dataclasses.replace(windows, start=start, length=width, bin_size=1)
        bin_size = read.length if self.kind == "counts" else 1
        found = []
        for t, path in enumerate(self.files):
            values = np.zeros((len(read), read.length // bin_size), np.float32)
            rows = self.covered[read.chrom, t]
            if rows.any():
                values[rows] = coverage(path, read.take(rows), bin_size)
            found.append(values[:, 0] if self.kind == "counts" else values)
        return np.stack(found, axis=1 if self.kind == "counts" else 2)


def _open_bigwig(path: str):
    """An open pyBigWig file; PgxError naming the path when it is none."""
    import pyBigWig

    try:
        track = pyBigWig.open(path)
    except RuntimeError:
        track = None
    if track is None or not track.isBigWig():
        raise PgxError(f"bigWig file {path}: cannot open it as a bigWig")
    return track


def _chromosomes_of(path: str, names: tuple[str, ...]) -> np.ndarray:
    """bool [len(names)]: the genome's chromosomes a bigWig file has."""
    track = _open_bigwig(path)
    try:
        present = track.chroms()
    finally:
        track.close()
    return np.array([name in present for name in names])


def coverage(path: str, windows: Windows, bin_size: int = 1) -> np.ndarray:
    """A bigWig track over each window, float32 [N, length // bin_size]: the base-resolution
    profile (bin_size 1), or its sums in bins; bin_size == length gives the total count.
    Missing values (NaN) and positions outside the chromosome read as 0."""
    if windows.length % bin_size:
        raise PgxError(f"coverage: bin size {bin_size} does not divide length {windows.length}")
    track = _open_bigwig(path)
    try:
        sizes = track.chroms()
        for c in np.unique(windows.chrom):
            if windows.names[c] not in sizes:
                raise PgxError(f"bigWig file {path}: no chromosome {windows.names[c]!r}")
        limit = np.array([sizes.get(n, 0) for n in windows.names], dtype=np.int64)
        out = np.zeros((len(windows), windows.length // bin_size), dtype=np.float32)
        for first in range(0, len(windows), _BATCH):
            part = windows.take(slice(first, first + _BATCH))
            lo = np.clip(part.start, 0, limit[part.chrom])
            hi = np.clip(part.start + part.length, lo, limit[part.chrom])
            values = np.zeros((len(part), part.length), dtype=np.float32)
            for row, (c, a, b, s) in enumerate(
                zip(part.chrom.tolist(), lo.tolist(), hi.tolist(), part.start.tolist(), strict=True)
            ):
                if b > a:
                    values[row, a - s : b - s] = track.values(part.names[c], a, b, numpy=True)
            np.nan_to_num(values, copy=False, nan=0.0)
            out[first : first + len(part)] = values.reshape(len(part), -1, bin_size).sum(axis=2)
    finally:
        track.close()
    return out


def gc_fraction(genome: Genome, windows: Windows) -> np.ndarray:
    """(G + C) / (A + C + G + T) of each window, float32 [N]; NaN for a window without ACGT."""
    return _base_fractions(genome, windows)[0]


def _base_fractions(genome: Genome, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
    """Per window: GC fraction of its A, C, G, T bases, and the fraction of other bases (N)."""
    gc = np.zeros(256, dtype=np.int32)
    gc[[ord("C"), ord("G")]] = 1
    acgt = np.zeros(256, dtype=np.int32)
    acgt[[ord(b) for b in "ACGT"]] = 1
    strong = np.zeros(len(windows), dtype=np.int64)
    known = np.zeros(len(windows), dtype=np.int64)
    for first in range(0, len(windows), _BATCH):
        part = windows.take(slice(first, first + _BATCH))
        codes = genome.read(part.chrom, part.start, part.length)
        strong[first : first + len(part)] = gc[codes].sum(axis=1)
        known[first : first + len(part)] = acgt[codes].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = (strong / known).astype(np.float32)
    return fraction, 1.0 - known / windows.length


def flank_windows(
    peaks: Intervals,
    genome: Genome,
    length: int,
    distance: int,
    bin_size: int | None = None,
    exclude: Intervals | Sequence[Intervals] | None = None,
) -> Windows:
    """Windows centred `distance` bases left and right of each peak's centre (summit, else
    midpoint), without those overlapping `exclude` (default: the peaks) or running off a
    chromosome end; duplicates removed, sorted."""
    centre = _centres(peaks, summits=True)
    start = np.stack([centre - distance, centre + distance], axis=1).reshape(-1) - length // 2
    chrom = np.repeat(_chrom_on(peaks, genome.names), 2)
    windows = _windows(genome, chrom, start, length, bin_size)
    unique = np.unique(windows.chrom.astype(np.int64) * _AXIS + windows.start, return_index=True)
    return drop_overlapping(windows.take(unique[1]), peaks if exclude is None else exclude)


def gc_matched_windows(
    genome: Genome,
    positives: Windows,
    seed: int,
    count: int | None = None,
    exclude: Intervals | Sequence[Intervals] = (),
    bins: int = 100,
    max_n_fraction: float = 0.01,
    chroms: Sequence[str] | None = None,
    draws: int = 20,
) -> Windows:
    """Background windows whose GC content matches the positives' (sorted; seeded).

    The positives' GC fractions (`count` of them drawn, default all) fill `bins` equal bins
    on [0, 1]; windows drawn uniformly from `chroms` (default: the positives' chromosomes),
    each batch 4x `count`, fill each bin's quota, skipping windows that overlap `exclude`
    (peaks, a blacklist) or have more than `max_n_fraction` N; after `draws` batches a bin
    still short takes the drawn windows of the nearest bins. PgxError when fewer than `count`
    windows could be drawn at all.
    """
    rng = np.random.default_rng(seed)
    target = gc_fraction(genome, positives)
    target = target[~np.isnan(target)]
    count = len(target) if count is None else count
    if count and not len(target):
        raise PgxError("gc_matched_windows: the positives have no A, C, G or T")
    picked = target if count == len(target) else rng.choice(target, size=count)
    quota = np.bincount(_gc_bin(picked, bins), minlength=bins)
    names = positives.names
    allowed = np.unique(positives.chrom) if chroms is None else [genome.index(c) for c in chroms]
    allowed = np.asarray(allowed, dtype=np.int32)
    span = np.maximum(genome.sizes - positives.length + 1, 0)
    if not span[allowed].sum():
        raise PgxError(f"gc_matched_windows: no chromosome fits a window of {positives.length}")
    union = _union(exclude, names)
    weight = span[allowed] / span[allowed].sum()
    pools: list[list[np.ndarray]] = [[] for _ in range(bins)]
    found = np.zeros(bins, dtype=np.int64)
    seen = np.zeros(0, dtype=np.int64)
    for _ in range(draws):
        if np.all(found >= quota):
            break
        chrom = allowed[rng.choice(len(allowed), size=4 * count, p=weight)]
        start = (rng.random(4 * count) * span[chrom]).astype(np.int64)
        drawn = Windows(names, chrom, start, positives.length, positives.bin_size)
        key = drawn.chrom.astype(np.int64) * _AXIS + drawn.start
        _, first = np.unique(key, return_index=True)
        fresh = np.zeros(len(drawn), dtype=bool)
        fresh[np.sort(first)] = True
        fresh &= ~np.isin(key, seen)
        fresh &= _overlap(drawn, union, drawn.start, drawn.length) == 0
        drawn, key = drawn.take(fresh), key[fresh]
        gc, n_fraction = _base_fractions(genome, drawn)
        usable = ~np.isnan(gc) & (n_fraction <= max_n_fraction)
        seen = np.concatenate([seen, key[usable]])
        which = _gc_bin(gc[usable], bins)
        for b in np.unique(which):
            pools[b].append(key[usable][which == b])
            found[b] += np.count_nonzero(which == b)
    if found.sum() < count:
        raise PgxError(
            f"gc_matched_windows: drew only {found.sum()} usable windows for {count} after "
            f"{draws} batches (too much of the genome excluded or N?)"
        )
    pool = [np.concatenate(p) if p else np.zeros(0, np.int64) for p in pools]
    chosen = [p[:q] for p, q in zip(pool, quota, strict=True)]
    left = [p[q:] for p, q in zip(pool, quota, strict=True)]
    for b in np.flatnonzero(found < quota):
        short = quota[b] - len(chosen[b])
        for other in sorted(range(bins), key=lambda o: (abs(o - b), o)):
            take, left[other] = left[other][:short], left[other][short:]
            chosen[b] = np.concatenate([chosen[b], take])
            short -= len(take)
            if not short:
                break
    key = np.sort(np.concatenate(chosen))
    return Windows(
        names, (key // _AXIS).astype(np.int32), key % _AXIS, positives.length, positives.bin_size
    )


def _gc_bin(gc: np.ndarray, bins: int) -> np.ndarray:
    """The bin of each GC fraction among `bins` equal bins on [0, 1]."""
    return np.minimum((gc * bins).astype(np.int64), bins - 1)


TRACK_KINDS = ("peaks", "coverage")


@dataclasses.dataclass(frozen=True)
class Track:
    """One row of a tracks table: id, file (resolved against the table's folder), kind
    ("peaks": BED or narrowPeak; "coverage": bigWig) and description."""

    id: str
    file: str
    kind: str
    description: str


def read_tracks(path: str) -> list[Track]:
    """A tracks table, like baskerville's targets.txt: tab-separated with a header naming at
    least `id`, `file` and `kind` (and optionally `description`), one track a row. PgxError
    naming the file and line for a missing column, an unknown kind, a repeated id or a track
    file that does not exist."""
    folder = os.path.dirname(os.path.abspath(path))
    tracks: list[Track] = []
    with open_text(path) as f:
        header = f.readline().rstrip("\r\n").split("\t")
        missing = [c for c in ("id", "file", "kind") if c not in header]
        if missing:
            raise PgxError(f"tracks file {path} line 1: no column {missing[0]!r} in the header")
        column = {name: i for i, name in enumerate(header)}
        for number, line in enumerate(f, 2):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            where = f"tracks file {path} line {number}"
            if len(fields) != len(header):
                raise PgxError(f"{where}: {len(fields)} columns, the header has {len(header)}")
            track = Track(
                fields[column["id"]],
                os.path.join(folder, fields[column["file"]]),
                fields[column["kind"]],
                fields[column["description"]] if "description" in column else "",
            )
            if track.kind not in TRACK_KINDS:
                raise PgxError(f"{where}: kind {track.kind!r} is not one of {TRACK_KINDS}")
            if any(t.id == track.id for t in tracks):
                raise PgxError(f"{where}: id {track.id!r} is repeated")
            if not os.path.isfile(track.file):
                raise PgxError(f"{where}: file not found: {track.file}")
            tracks.append(track)
    return tracks
