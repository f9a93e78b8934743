"""TFDS builder for the DNA-binding protein benchmark: train on PDB1075, test on PDB186.

FASTA headers are `>{PDB id}{chain}|{label}` with label 1 = DNA-binding, 2 = not (SOURCE.md).
Some PDB1075 "protein" entries are nucleotide strings (only A/C/G/T/U); they are kept in the
prepared files with `nucleotide=1` and left out at load time with a warning naming them.
`exclude_similar` optionally drops training chains that share most of their 5-mers with a test
chain, since 75 of the 186 test chains occur verbatim in PDB1075 (leakage; see docs/results.md);
`exclude_homologs` drops those with a test homolog by local alignment, as the papers that test on
PDB186 remove training chains over 25 % identical to a test chain (CD-HIT; e.g. SVM-PSSM-DT,
BMC Syst Biol 2015, 9 Suppl 1:S10).
"""

import dataclasses
import functools
import os
import warnings
from collections.abc import Sequence
from typing import ClassVar

import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from pgx_jax.configs import data_directory, tfds_directory
from pgx_jax.data import homology
from pgx_jax.data.builders import SequenceRecords, prepare_splits
from pgx_jax.data.builders._files import cache_name
from pgx_jax.data.readers import read_fasta
from pgx_jax.data.sources import InMemorySource, RecordSource, text_values
from pgx_jax.data.splits import holdout
from pgx_jax.errors import PgxError

FOLDER = "dbp_pdb1075_pdb186"
FILES = {"train": "pdb1075.fasta", "test": "pdb186.fasta"}
LABELS = {"1": 1, "2": 0}
NUCLEOTIDES = set("ACGTUNacgtun")


def read_labelled_fasta(path: str) -> list[dict]:
    """Records {id, sequence, label, nucleotide} of a `>{id}|{1 or 2}` FASTA file."""
    records = []
    for index, record in enumerate(read_fasta(path), start=1):
        name, sep, label = record.id.rpartition("|")
        if not sep or label not in LABELS:
            raise PgxError(
                f"{path} record {index} ({record.id}): header must end in |1 or |2 (label)"
            )
        records.append(
            {
                "id": name,
                "sequence": record.sequence,
                "label": LABELS[label],
                "nucleotide": int(set(record.sequence) <= NUCLEOTIDES),
            }
        )
    return records


@dataclasses.dataclass(eq=False)
class DbpConfig(tfds.core.BuilderConfig):
    directory: str = ""


class DbpPdb(SequenceRecords):
    """PDB1075 (train) and PDB186 (test) protein chains, DNA-binding (1) or not (0)."""

    EXTRA_FEATURES: ClassVar[dict] = {"nucleotide": tfds.features.Scalar(np.int64)}

    def split_records(self) -> dict[str, list[dict]]:
        directory = self.builder_config.directory
        return {
            split: read_labelled_fasta(os.path.join(directory, name))
            for split, name in FILES.items()
        }


def _kmers(sequence: str, k: int = 5) -> set[str]:
    return {sequence[i : i + k] for i in range(len(sequence) - k + 1)}


def similar_to_any(train: Sequence[str], test: Sequence[str], threshold: float) -> np.ndarray:
    """Which training sequences share at least `threshold` of the 5-mers of the shorter of
    themselves and some test sequence (1.0 catches identical chains and exact fragments)."""
    test_sets = [_kmers(s) for s in test]
    flags = []
    for sequence in train:
        mine = _kmers(sequence)
        flags.append(
            any(len(mine & t) >= threshold * max(min(len(mine), len(t)), 1) for t in test_sets)
        )
    return np.array(flags, bool)


@functools.lru_cache(maxsize=4)
def homologous_to_any(
    train: tuple[str, ...], test: tuple[str, ...], threshold: float
) -> np.ndarray:
    """Which training sequences have a test sequence at local alignment similarity >=
    `threshold` (`homology.nearest_references`; cached, as each seed of a protocol asks again)."""
    similarity, _ = homology.nearest_references(train, test)
    return similarity >= threshold


def _leave_out(train: dict, drop: np.ndarray, why: str) -> dict:
    warnings.warn(
        f"{FILES['train']}: left out {int(drop.sum())} training chains {why}", stacklevel=3
    )
    return {k: v[~drop] for k, v in train.items()}


def load(cfg: ml_collections.ConfigDict) -> dict[str, RecordSource]:
    """Train/validation (held out from PDB1075, stratified) and test (PDB186), without the
    nucleotide entries and, if `cfg.exclude_similar` or `cfg.exclude_homologs` > 0, without
    training chains similar or homologous to a test chain. Each removal is reported as a
    warning with its count."""
    directory = data_directory(FOLDER, cfg.get("dir"))
    paths = [os.path.join(directory, name) for name in FILES.values()]
    builder = DbpPdb(
        config=DbpConfig(name=cache_name("pdb1075_pdb186", paths), directory=directory),
        data_dir=tfds_directory(cfg.get("tfds_dir")),
    )
    splits = prepare_splits(builder, list(FILES), True, cfg.get("bad_records", "error"))
    columns = {}
    for split, source in splits.items():
        data = source.columns
        nucleotide = data["nucleotide"].astype(bool)
        if nucleotide.any():
            names = ", ".join(text_values(data["id"][nucleotide]))
            warnings.warn(
                f"{FILES[split]}: left out {int(nucleotide.sum())} of {len(nucleotide)} entries "
                f"that are nucleotide strings, not proteins: {names}",
                stacklevel=2,
            )
        columns[split] = {k: v[~nucleotide] for k, v in data.items()}
    test = tuple(text_values(columns["test"]["sequence"]))
    threshold = cfg.get("exclude_similar", 0.0)
    if threshold > 0:
        similar = similar_to_any(text_values(columns["train"]["sequence"]), test, threshold)
        columns["train"] = _leave_out(
            columns["train"],
            similar,
            f"sharing >= {threshold:.0%} of their 5-mers with a {FILES['test']} chain",
        )
    threshold = cfg.get("exclude_homologs", 0.0)
    if threshold > 0:
        homologous = homologous_to_any(
            tuple(text_values(columns["train"]["sequence"])), test, threshold
        )
        columns["train"] = _leave_out(
            columns["train"],
            homologous,
            f"with a {FILES['test']} homolog (local alignment similarity >= {threshold})",
        )
    train = columns["train"]
    keep, held = holdout(
        len(train["label"]), cfg.get("validation_fraction", 0.1), cfg.get("seed", 0), train["label"]
    )
    return {
        "train": InMemorySource({k: v[keep] for k, v in train.items()}),
        "validation": InMemorySource({k: v[held] for k, v in train.items()}),
        "test": InMemorySource(columns["test"]),
    }
