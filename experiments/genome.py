"""Genome-scale multi-task binding and accessibility (Basset, DeepSEA): windows of a reference
genome labelled by peak files, read from the genome as training goes.

config.data: `genome` (an indexed FASTA, plain or bgzipped), `tracks` (a table of peak files:
id, file, kind, description; `pgx_jax.data.genome.read_tracks`), `windows` ("peaks": one
window centred on each peak's summit, with `negatives` GC-matched background windows per peak,
Basset's way; "tile": the genome tiled every `stride` bases, DeepSEA's way), `length`,
`bin_size` (the central label bin), `min_overlap` (of the bin a peak must cover), `blacklist`
(a BED of regions no window may touch), `validation_chroms`, `test_chroms` (held out whole),
`jitter` and `rc_augment` (training windows shifted by up to `jitter` bases and reverse-
complemented, drawn from a hash of (seed, epoch, window), so a resumed run reads the same),
`eval_windows` (when > 0: validation and test read that many windows, evenly spaced along
their chromosomes, a budget for a CPU), `target`: "peaks" (binary labels by overlap with each
peak file: the multilabel task), "counts" (each coverage track's total over the label bin:
Poisson) or "profile" (each coverage track's base-resolution coverage over the central
`profile_length` bases: BPNet's loss).
Windows come from the peak files in every case; the labels from the tracks of the target's
kind (peak files, or bigWig coverage).

Only the window arrays and the peaks' unions are held in memory: a batch's bases are read from
the FASTA and its labels computed from the peaks (or read from the bigWig files) when the
batch is read.
"""

import dataclasses
import functools

import ml_collections
import numpy as np

from pgx_jax.data import alphabets, genome, lengths, sampling
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Predictor, label_column
from pgx_jax.models import create_model
from pgx_jax.models.bpnet import CountOffset

_COMPLEMENT = np.frombuffer(
    bytes(range(256)).translate(bytes.maketrans(b"ACGTacgt", b"TGCAtgca")), np.uint8
)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mixed(keys: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of (seed, key): a uint64 per key, uniform and fixed by the two."""
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) * _GOLDEN + np.uint64(seed) * np.uint64(0xD1B54A32D192ED03)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class WindowSource:
    """Records of windows read from the genome when a batch is read: `id` (chrom:start as read),
    `codes` (the bases as ASCII, uint8 [N, length]) and `labels` (uint8 [N, T]). An index k at
    or past the number of windows n is window k % n of a training epoch (`sampling.with_epochs`):
    it is shifted by up to `jitter` bases and reverse-complemented as a hash of (seed, k)
    says; peak labels stay those of the window's own bin, coverage labels are read at the
    shifted window (a profile reversed with the strand)."""

    def __init__(
        self,
        reference: genome.Genome,
        windows: genome.Windows,
        labels: genome.PeakLabels,
        jitter: int = 0,
        rc: bool = False,
        seed: int = 0,
    ):
        self.reference, self.windows, self.labels = reference, windows, labels
        self.jitter, self.rc, self.seed = jitter, rc, seed

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict:
        return {k: v[0] for k, v in self.take(np.array([index])).items()}

    def take(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        keys = np.asarray(indices, np.int64)
        windows = self.windows.take(keys % len(self))
        hashed = _mixed(keys, self.seed)
        augmented = keys >= len(self)
        start = windows.start
        if self.jitter:
            shift = (hashed % np.uint64(2 * self.jitter + 1)).astype(np.int64) - self.jitter
            limit = self.reference.sizes[windows.chrom] - windows.length
            start = np.clip(start + np.where(augmented, shift, 0), 0, limit)
        codes = self.reference.read(windows.chrom, start, windows.length)
        read = dataclasses.replace(windows, start=start)
        labels = self.labels(read if isinstance(self.labels, genome.CoverageLabels) else windows)
        if self.rc:
            flip = augmented & ((hashed >> np.uint64(40)) & np.uint64(1)).astype(bool)
            if flip.any():
                codes = codes.copy()
                codes[flip] = _COMPLEMENT[codes[flip][:, ::-1]]
                if labels.ndim == 3:  # a profile runs the other way on the other strand
                    labels[flip] = labels[flip][:, ::-1]
        names = np.asarray(windows.names)[windows.chrom]
        ids = np.char.add(np.char.add(names, ":"), start.astype(str))
        found = {"id": ids, "codes": codes, "labels": labels}
        if isinstance(self.labels, genome.CoverageLabels):
            found["weights"] = self.labels.mask(windows).astype(np.float32)
        return found


def encode_windows(records: dict) -> dict:
    """Windows' ASCII codes to one-hot DNA [B, L, 4] (N and IUPAC codes uniform), labels, and
    each track's weight (0 where a coverage track lacks the window's chromosome)."""
    codes = np.asarray(records["codes"])
    labels = np.asarray(records["labels"], np.float32)
    return {
        "inputs": {
            "x": alphabets.one_hot_codes(codes, alphabets.DNA),
            "mask": np.ones(codes.shape, bool),
        },
        "label": labels,
        "weight": np.asarray(
            records.get("weights", np.ones((len(labels), labels.shape[-1]))), np.float32
        ),
    }


def encode_sequences(records: dict, *, length: int, shape: tuple[int, ...]) -> dict:
    """New sequences (`pgx predict`'s FASTA) to the same one-hot input of `length`; labels of
    `shape` per record when the records have none."""
    x, mask = alphabets.one_hot(list(records["sequence"]), alphabets.DNA, length)
    return {
        "inputs": {"x": x, "mask": mask},
        "label": label_column(records, "labels", shape=shape),
    }


TASKS = {"peaks": "multilabel", "counts": "counts", "profile": "profile"}
"""The task of each `data.target`."""


def _target(data: ml_collections.ConfigDict) -> str:
    target = data.get("target", "peaks")
    if target not in TASKS:
        raise PgxError(f"config.data.target: {target!r} is not one of {sorted(TASKS)}")
    return target


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """The configured model, one output per track (`fitted["tasks"]`; a profile of
    `data.profile_length` per track for the "profile" target), on one-hot DNA windows of
    `data.length`."""
    data, target = config.data, _target(config.data)
    tasks = len(fitted["tasks"])
    fields = {**config.model.to_dict(), "num_tasks": tasks}
    shape = (tasks,)
    if target == "profile":
        fields["profile_length"] = data.profile_length
        shape = (data.profile_length, tasks)
    model = create_model(**fields)
    if target != "peaks":
        model = CountOffset(model, tuple(fitted["log_counts"]), profile=target == "profile")
    encode = functools.partial(encode_sequences, length=data.length, shape=shape)
    return Predictor(
        model,
        TASKS[target],
        encode,
        tuple(config.eval.metrics),
        fitted=fitted,
        input_lengths=lengths.letters({"sequence": config.data.length}),
    )


def windows_of(
    data: ml_collections.ConfigDict, reference: genome.Genome, peaks: list
) -> genome.Windows:
    """The windows the config asks for, without those touching the blacklist."""
    if data.windows == "peaks":
        positives = genome.concatenate(
            [genome.peak_windows(p, reference, data.length, data.bin_size) for p in peaks]
        )
        parts = [positives]
        if data.negatives:
            count = int(round(data.negatives * len(positives)))
            parts.append(
                genome.gc_matched_windows(reference, positives, data.seed, count, exclude=peaks)
            )
        found = genome.concatenate(parts)
    elif data.windows == "tile":
        found = genome.tile_windows(reference, data.length, data.stride, data.bin_size)
    else:
        raise PgxError(f"config.data.windows: {data.windows!r}; expected 'peaks' or 'tile'")
    if data.blacklist:
        found = genome.drop_overlapping(found, genome.read_intervals(data.blacklist, reference))
    return found


def _labels(data: ml_collections.ConfigDict, tracks: list, peaks: list, reference) -> tuple:
    """The tracks the config's target reads and the labels of windows from them."""
    target = _target(data)
    if target == "peaks":
        chosen = [t for t in tracks if t.kind == "peaks"]
        return chosen, genome.PeakLabels(peaks, reference.names, data.min_overlap)
    chosen = [t for t in tracks if t.kind == "coverage"]
    if not chosen:
        raise PgxError(f"{data.tracks}: no track of kind 'coverage' for target {target!r}")
    files = [t.file for t in chosen]
    return chosen, genome.CoverageLabels(
        files, target, reference.names, data.get("profile_length", 0)
    )


def mean_log_counts(train: WindowSource, sample: int = 2000) -> list[float]:
    """Per track, the mean log(1 + total count) of up to `sample` training windows (evenly
    spaced): the count heads' starting offsets (`CountOffset`)."""
    rows = np.linspace(0, len(train) - 1, min(sample, len(train))).astype(np.int64)
    labels = np.asarray(train.take(rows)["labels"], np.float64)
    totals = labels.sum(axis=1) if labels.ndim == 3 else labels
    return [float(v) for v in np.log1p(totals).mean(axis=0)]


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    reference = genome.Genome(data.genome)
    found = genome.read_tracks(data.tracks)
    peak_tracks = [t for t in found if t.kind == "peaks"]
    if not peak_tracks:
        raise PgxError(f"{data.tracks}: no track of kind 'peaks'")
    peaks = [genome.read_intervals(t.file, reference) for t in peak_tracks]
    windows = windows_of(data, reference, peaks)
    tracks, labels = _labels(data, found, peaks, reference)
    parts = genome.split_by_chromosome(windows, data.validation_chroms, data.test_chroms)
    splits = {}
    cap = data.get("eval_windows", 0)
    for name, index in parts.items():
        if name != "train" and 0 < cap < len(index):  # evenly spaced along the chromosomes
            index = index[np.linspace(0, len(index) - 1, cap).astype(np.int64)]
        if len(index):
            augment = {"jitter": data.jitter, "rc": data.rc_augment} if name == "train" else {}
            splits[name] = WindowSource(
                reference, windows.take(index), labels, seed=config.seed, **augment
            )
    if "train" not in splits:
        raise PgxError(f"{data.genome}: every window is on a held-out chromosome")
    train = splits["train"]
    print(
        f"genome: {len(tracks)} {_target(data)} tracks, "
        + ", ".join(f"{name} {len(source)} windows" for name, source in splits.items())
        + f" of {data.length} bp ({data.windows})"
    )
    fitted = {"tasks": [t.id for t in tracks]}
    if _target(data) != "peaks":
        fitted["log_counts"] = mean_log_counts(train)
    return Experiment(
        predictor(config, fitted),
        splits,
        order=sampling.with_epochs(sampling.shuffled(len(train)), len(train)),
        encode=encode_windows,
    )
