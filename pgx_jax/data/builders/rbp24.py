"""TFDS builder for the RBP-24 (GraphProt) CLIP-seq experiments.

Each experiment `E` has `E.train.positives.fa.gz`, `E.train.negatives.fa.gz` (training) and
`E.ls.positives.fa.gz`, `E.ls.negatives.fa.gz` (GraphProt's held-out test set). Sequences are
stored as they are in the files: about half use T and half U, and the binding site (GraphProt's
viewpoint) is upper case within lower-case flanks; the encoder decides what to make of both.
A validation split is held out from the training files, stratified by label.
"""

import dataclasses
import os

import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from pgx_jax.configs import data_directory, tfds_directory
from pgx_jax.data.builders import SequenceRecords, prepare_splits
from pgx_jax.data.builders._files import cache_name, find_experiment
from pgx_jax.data.readers import read_fasta
from pgx_jax.data.sources import RecordSource
from pgx_jax.data.splits import holdout

FOLDER = "rbp24_graphprot"
FILES = {
    (part, label): f".{part}.{kind}.fa.gz"
    for part in ("train", "ls")
    for label, kind in ((1, "positives"), (0, "negatives"))
}
SPLITS = ("train", "validation", "test")


def read_experiment(base: str, part: str) -> list[dict]:
    """Records {id, sequence, label} of the positives and negatives of `part` (train or ls)."""
    records = []
    for label in (1, 0):
        path = base + FILES[(part, label)]
        for index, record in enumerate(read_fasta(path, allow_duplicate_ids=True)):
            name = f"{os.path.basename(path)}:{index}:{record.id}"
            records.append({"id": name, "sequence": record.sequence, "label": label})
    return records


@dataclasses.dataclass(eq=False)
class Rbp24Config(tfds.core.BuilderConfig):
    directory: str = ""
    experiment: str = ""
    validation_fraction: float = 0.1
    seed: int = 0


class Rbp24Graphprot(SequenceRecords):
    """One RBP-24 experiment: CLIP sites (1) against GraphProt's negatives (0)."""

    KEY_BY_ID = True

    def split_records(self) -> dict[str, list[dict]]:
        cfg = self.builder_config
        base = os.path.join(cfg.directory, cfg.experiment)
        train = read_experiment(base, "train")
        labels = np.array([r["label"] for r in train])
        keep, held = holdout(len(train), cfg.validation_fraction, cfg.seed, labels)
        parts = {
            "train": [train[i] for i in keep],
            "validation": [train[i] for i in held],
            "test": read_experiment(base, "ls"),
        }
        return {name: parts[name] for name in SPLITS}


def load(cfg: ml_collections.ConfigDict) -> dict[str, RecordSource]:
    """Prepare (once, cached) and open train/validation/test of the RBP-24 experiment
    `cfg.experiment` names (a prefix such as `PARCLIP_PUM2`) in `$PGX_DATA_DIR/rbp24_graphprot`."""
    directory = data_directory(FOLDER, cfg.get("dir"))
    experiment = find_experiment(directory, cfg.experiment, FILES[("train", 1)])
    base = os.path.join(directory, experiment)
    params = {
        "validation_fraction": cfg.get("validation_fraction", 0.1),
        "seed": cfg.get("seed", 0),
    }
    config = Rbp24Config(
        name=cache_name(experiment, [base + suffix for suffix in FILES.values()], **params),
        directory=directory,
        experiment=experiment,
        **params,
    )
    builder = Rbp24Graphprot(config=config, data_dir=tfds_directory(cfg.get("tfds_dir")))
    return prepare_splits(
        builder, list(SPLITS), cfg.get("in_memory", True), cfg.get("bad_records", "error")
    )
