"""TFDS builders of promoter sets: CNNProm (Umarov & Solovyev) and DeePromoter's human TATA.

CNNProm: positives `<organism>_<kind>.fa.gz` (kind `prom`, `tata` or `non_tata`) against
negatives `<organism>_non_prom.fa.gz`; any organism laid out this way loads with no code change.
DeePromoter: `hs_pos_TATA.txt.gz`, one 300-bp promoter per line and no negatives; the
experiment builds negatives from the positives as DeePromoter did (`deepromoter_negatives`).
Both give one split, `records`; cross-validation folds are cut by the experiment.
"""

import dataclasses
import os

import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from pgx_jax.configs import data_directory, tfds_directory
from pgx_jax.data.builders import SequenceRecords, prepare_splits
from pgx_jax.data.readers import open_text, read_fasta
from pgx_jax.errors import PgxError
from pgx_jax.experiment import RecordSource

CNNPROM_FOLDER = "promoters_cnnprom"
HUMAN_FOLDER = "promoters_deepromoter_human"
HUMAN_FILE = "hs_pos_TATA.txt.gz"
SPLIT = "records"


def cnnprom_files(organism: str, kind: str) -> tuple[str, str]:
    """(positive, negative) file names of one CNNProm organism and promoter kind."""
    return f"{organism}_{kind}.fa.gz", f"{organism}_non_prom.fa.gz"


def read_cnnprom(directory: str, organism: str, kind: str) -> list[dict]:
    """Positives (label 1) then negatives (label 0); ids are `<file>:<record number>`.

    Record ids repeat inside some files (e.g. 25 in Bacillus_prom), so the record number, not
    the header, identifies a sequence.
    """
    records = []
    for label, name in zip((1, 0), cnnprom_files(organism, kind), strict=True):
        path = os.path.join(directory, name)
        for number, record in enumerate(read_fasta(path, allow_duplicate_ids=True), start=1):
            records.append(
                {"id": f"{name}:{number}", "sequence": record.sequence.upper(), "label": label}
            )
    return records


def read_sequence_lines(path: str) -> list[str]:
    """One sequence per line (no header); blank lines are an error naming the line."""
    sequences = []
    with open_text(path) as fh:
        for number, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                raise PgxError(f"{path} line {number}: empty line in a one-sequence-per-line file")
            sequences.append(text.upper())
    if not sequences:
        raise PgxError(f"{path}: no sequences")
    return sequences


def read_human_tata(directory: str) -> list[dict]:
    """DeePromoter's human TATA promoters, all label 1."""
    sequences = read_sequence_lines(os.path.join(directory, HUMAN_FILE))
    return [
        {"id": f"{HUMAN_FILE}:{n}", "sequence": s, "label": 1}
        for n, s in enumerate(sequences, start=1)
    ]


def deepromoter_negatives(
    sequences: list[str], rng: np.random.Generator, parts: int = 20, keep: int = 12
) -> list[str]:
    """One negative per promoter: cut it into `parts` pieces, keep `keep` of them in place and
    fill the others with uniform random bases (DeePromoter, Oubounyt et al. 2019).

    The negatives share most of their sequence with real promoters, so a model must learn the
    promoter's elements rather than composition alone.
    """
    negatives = []
    for sequence in sequences:
        bounds = np.linspace(0, len(sequence), parts + 1).astype(int)
        letters = np.frombuffer(sequence.encode("ascii"), np.uint8).copy()
        for part in rng.choice(parts, parts - keep, replace=False):
            start, stop = bounds[part], bounds[part + 1]
            letters[start:stop] = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, stop - start)]
        negatives.append(letters.tobytes().decode("ascii"))
    return negatives


@dataclasses.dataclass(eq=False)
class PromoterConfig(tfds.core.BuilderConfig):
    organism: str = "Ecoli"
    kind: str = "prom"


class Promoters(SequenceRecords):
    """Promoter (1) and non-promoter (0) sequences of one organism and promoter kind."""

    def __init__(self, *, directory: str, **kwargs):
        self.directory = directory
        super().__init__(**kwargs)

    def split_records(self) -> dict[str, list[dict]]:
        cfg = self.builder_config
        if cfg.organism == "human_deepromoter":
            records = read_human_tata(self.directory)
        else:
            records = read_cnnprom(self.directory, cfg.organism, cfg.kind)
        return {SPLIT: records}


def load(cfg: ml_collections.ConfigDict) -> RecordSource:
    """Prepare (once, cached) and open every record of `cfg.organism` / `cfg.kind`.

    `organism=human_deepromoter` reads DeePromoter's human TATA positives.
    """
    human = cfg.organism == "human_deepromoter"
    folder = HUMAN_FOLDER if human else CNNPROM_FOLDER
    builder = Promoters(
        directory=data_directory(folder, cfg.get("dir")),
        config=PromoterConfig(
            name=f"{cfg.organism}_{cfg.kind}", organism=cfg.organism, kind=cfg.kind
        ),
        data_dir=tfds_directory(cfg.get("tfds_dir")),
    )
    return prepare_splits(
        builder, [SPLIT], cfg.get("in_memory", True), cfg.get("bad_records", "error")
    )[SPLIT]
