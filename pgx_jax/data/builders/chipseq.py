"""TFDS builder for DeepBind's ENCODE ChIP-seq files (`<experiment>_AC.seq.gz`, `_B.seq.gz`).

Each file is a gzip TSV with header `FoldID EventID seq Bound`. `_AC` is the training file and
`_B` the test file. Where the training file holds positives only (as DeepBind's do), each
positive gets `negatives` dinucleotide-preserving shuffles as negatives, as DeepBind trained.
A validation split is held out from the training positives before shuffling, so a positive and
its shuffles always fall in the same split.
"""

import dataclasses
import os

import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from pgx_jax.configs import data_directory, tfds_directory
from pgx_jax.data.builders import SequenceRecords, prepare_splits
from pgx_jax.data.builders._files import cache_name, find_experiment
from pgx_jax.data.readers import open_text
from pgx_jax.data.shuffle import dinucleotide_shuffles
from pgx_jax.data.sources import RecordSource
from pgx_jax.data.splits import holdout
from pgx_jax.errors import PgxError

FOLDER = "deepbind_encode_chipseq"
TRAIN_SUFFIX, TEST_SUFFIX = "_AC.seq.gz", "_B.seq.gz"
HEADER = ["FoldID", "EventID", "seq", "Bound"]
SPLITS = ("train", "validation", "test")


def read_seq_file(path: str) -> list[dict]:
    """Rows of a DeepBind `.seq` file as records {id, sequence, label}; PgxError on bad rows."""
    records, seen = [], {}
    with open_text(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != HEADER:
            raise PgxError(f"{path} line 1: header {header} is not {HEADER}")
        for line_no, line in enumerate(f, start=2):
            fields = line.rstrip("\n").split("\t")
            if fields == [""]:
                continue
            if len(fields) != 4:
                raise PgxError(f"{path} line {line_no}: {len(fields)} fields, expected 4")
            _, event, sequence, bound = fields
            if bound not in ("0", "1"):
                raise PgxError(f"{path} line {line_no}: Bound is {bound!r}, expected 0 or 1")
            if not sequence:
                raise PgxError(f"{path} line {line_no}: empty sequence for {event!r}")
            if event in seen:
                raise PgxError(
                    f"{path} line {line_no}: duplicate EventID {event!r} (line {seen[event]})"
                )
            seen[event] = line_no
            records.append({"id": event, "sequence": sequence, "label": int(bound)})
    if not records:
        raise PgxError(f"{path}: no records")
    return records


def with_shuffled_negatives(records: list[dict], negatives: int, seed: int) -> list[dict]:
    """`records` plus `negatives` dinucleotide shuffles of each, labelled 0."""
    out = list(records)
    sequences = [r["sequence"] for r in records]
    for k in range(negatives):
        shuffled = dinucleotide_shuffles(sequences, seed=seed * 1000 + k)
        out += [
            {"id": f"{r['id']}_shuf{k}", "sequence": s, "label": 0}
            for r, s in zip(records, shuffled, strict=True)
        ]
    return out


@dataclasses.dataclass(eq=False)
class ChipSeqConfig(tfds.core.BuilderConfig):
    directory: str = ""
    experiment: str = ""
    negatives: int = 1
    validation_fraction: float = 0.1
    seed: int = 0


class DeepbindChipseq(SequenceRecords):
    """One ENCODE ChIP-seq experiment: peaks (1) against shuffled or background sequence (0)."""

    KEY_BY_ID = True

    def split_records(self) -> dict[str, list[dict]]:
        cfg = self.builder_config
        base = os.path.join(cfg.directory, cfg.experiment)
        train = read_seq_file(base + TRAIN_SUFFIX)
        labels = np.array([r["label"] for r in train])
        keep, held = holdout(len(train), cfg.validation_fraction, cfg.seed, labels)
        parts = {"train": [train[i] for i in keep], "validation": [train[i] for i in held]}
        if not labels.any():
            raise PgxError(f"{base + TRAIN_SUFFIX}: no positives (Bound 1)")
        if labels.all():
            parts = {
                name: with_shuffled_negatives(rows, cfg.negatives, cfg.seed + offset)
                for offset, (name, rows) in enumerate(parts.items())
            }
        parts["test"] = read_seq_file(base + TEST_SUFFIX)
        return {name: parts[name] for name in SPLITS}


def load(cfg: ml_collections.ConfigDict) -> dict[str, RecordSource]:
    """Prepare (once, cached) and open train/validation/test of the experiment `cfg.experiment`
    names (a name prefix such as `GABPA`) in `$PGX_DATA_DIR/deepbind_encode_chipseq`."""
    directory = data_directory(FOLDER, cfg.get("dir"))
    experiment = find_experiment(directory, cfg.experiment, TRAIN_SUFFIX)
    base = os.path.join(directory, experiment)
    params = {
        "negatives": cfg.get("negatives", 1),
        "validation_fraction": cfg.get("validation_fraction", 0.1),
        "seed": cfg.get("seed", 0),
    }
    config = ChipSeqConfig(
        name=cache_name(experiment, [base + TRAIN_SUFFIX, base + TEST_SUFFIX], **params),
        directory=directory,
        experiment=experiment,
        **params,
    )
    builder = DeepbindChipseq(config=config, data_dir=tfds_directory(cfg.get("tfds_dir")))
    return prepare_splits(
        builder, list(SPLITS), cfg.get("in_memory", True), cfg.get("bad_records", "error")
    )
