"""TFDS builder of the iEnhancer-2L benchmark (Liu et al. 2016; independent set of iEnhancer-EL).

Reads the six original FASTA files (`original/{train,test}_{strong,weak,non}_enhancers.txt`:
CRLF in two training files, wrapped lines in the test files, `chr`/`Chr` ids) into two splits,
`train` and `test`, each record carrying its class: 0 non-enhancer, 1 weak, 2 strong enhancer.
Layer 1 (enhancer or not) and layer 2 (strong or weak) are views the experiment takes.
"""

import os

import ml_collections

from pgx_jax.configs import data_directory, tfds_directory
from pgx_jax.data.builders import SequenceRecords, prepare_splits
from pgx_jax.data.readers import read_fasta
from pgx_jax.data.sources import RecordSource
from pgx_jax.errors import PgxError

FOLDER = "ienhancer_2l"
CLASSES = ("non", "weak", "strong")
SPLITS = ("train", "test")
LENGTH = 200


def read_split(directory: str, split: str) -> list[dict]:
    """The records of one split: id, upper-case 200-bp sequence and class index."""
    records = []
    for label, name in enumerate(CLASSES):
        path = os.path.join(directory, "original", f"{split}_{name}_enhancers.txt")
        for number, record in enumerate(read_fasta(path, allow_duplicate_ids=True), start=1):
            if len(record.sequence) != LENGTH:
                raise PgxError(
                    f"{path} record {number} ({record.id}): length {len(record.sequence)}, "
                    f"expected {LENGTH}"
                )
            records.append({"id": record.id, "sequence": record.sequence.upper(), "label": label})
    return records


class IEnhancer2L(SequenceRecords):
    """iEnhancer-2L training and independent test sets, one record per sequence."""

    def __init__(self, *, directory: str, **kwargs):
        self.directory = directory
        super().__init__(**kwargs)

    def split_records(self) -> dict[str, list[dict]]:
        return {split: read_split(self.directory, split) for split in SPLITS}


def load(cfg: ml_collections.ConfigDict) -> dict[str, RecordSource]:
    """Prepare (once, cached under the TFDS directory) and open `train` and `test`."""
    builder = IEnhancer2L(
        directory=data_directory(FOLDER, cfg.get("dir")),
        data_dir=tfds_directory(cfg.get("tfds_dir")),
    )
    return prepare_splits(
        builder, list(SPLITS), cfg.get("in_memory", True), cfg.get("bad_records", "error")
    )
