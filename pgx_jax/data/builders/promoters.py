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
from pgx_jax.data.sources import InMemorySource, RecordSource, text_values
from pgx_jax.errors import PgxError

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


class WithGeneratedNegatives:
    """Promoters (records 0..n-1) and, at every index n * (1 + e) + j, a DeePromoter negative
    made from promoter j (`deepromoter_negatives`), a pure function of the index and `seed`.

    `pgx_jax.data.sampling.positives_with_negatives` draws those indices, new ones each epoch e,
    so training sees negatives rebuilt from the promoters as it goes. Its length is n.
    """

    def __init__(self, promoters: InMemorySource, parts: int, keep: int, seed: int):
        self.promoters, self.parts, self.keep, self.seed = promoters, parts, keep, seed

    def __len__(self) -> int:
        return len(self.promoters)

    def __getitem__(self, index: int) -> dict:
        return {k: v[0] for k, v in self.take(np.array([index])).items()}

    def take(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        indices = np.asarray(indices, np.int64)
        columns = self.promoters.take(indices % len(self))
        ids, sequences = text_values(columns["id"]), text_values(columns["sequence"])
        for row in np.flatnonzero(indices >= len(self)):
            rng = np.random.default_rng([self.seed, int(indices[row])])
            sequences[row] = deepromoter_negatives([sequences[row]], rng, self.parts, self.keep)[0]
            ids[row] = f"negative{indices[row]}:{ids[row]}"
        return {
            "id": np.array(ids),
            "sequence": np.array(sequences),
            "label": (indices < len(self)).astype(np.int64),
        }


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
