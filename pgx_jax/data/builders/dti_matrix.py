"""Drug-target affinity matrices in DeepDTA's layout (Davis, KIBA), and their splits.

A directory holds `ligands_can.txt` (JSON {drug id: SMILES}; key order = rows of Y),
`proteins.txt` (JSON {protein id: sequence}; key order = columns of Y), `Y` (a Python-2 pickle
of a float array [drugs, proteins]; NaN = unlabelled pair) and `folds/train_fold_setting1.txt`
(JSON list of 5 lists of pair indices) and `folds/test_fold_setting1.txt` (one list). Pair
index i is the i-th labelled entry of Y in row-major order, as in DeepDTA.

The matrix is small, so splits are in-memory tables of pairs (drug_index, protein_index,
label, pair_index) and drug/protein strings are kept once in the `DtiMatrix`.
"""

import dataclasses
import json
import os
import pickle

import numpy as np

from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError

SPLITS = ("setting1", "cold_drug", "cold_target", "cold_both")
"""setting1: DeepDTA's folds. cold_*: test drugs / proteins / both never seen in training."""
SPLIT_NAMES = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class DtiMatrix:
    """Drugs, proteins and the affinity matrix (already log-transformed if asked)."""

    drug_ids: list[str]
    smiles: list[str]
    protein_ids: list[str]
    sequences: list[str]
    affinity: np.ndarray

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(drug, protein) index of every labelled pair, in DeepDTA's pair-index order."""
        return np.nonzero(~np.isnan(self.affinity))


def _read_json(path: str):
    if not os.path.exists(path):
        raise PgxError(f"{path}: file not found")
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise PgxError(f"{path}: line {err.lineno}: not valid JSON ({err.msg})") from None


def _read_matrix(path: str, shape: tuple[int, int]) -> np.ndarray:
    if not os.path.exists(path):
        raise PgxError(f"{path}: file not found")
    with open(path, "rb") as f:
        try:
            y = np.asarray(pickle.load(f, encoding="latin1"), np.float64)
        except (pickle.UnpicklingError, EOFError, ValueError) as err:
            raise PgxError(f"{path}: not a pickled numeric array ({err})") from None
    if y.shape != shape:
        raise PgxError(
            f"{path}: shape {y.shape}, but the JSON files give {shape} (drugs, proteins)"
        )
    return y


def read_matrix(directory: str, log_transform: bool) -> DtiMatrix:
    """Read a DeepDTA-layout directory; `log_transform` maps Kd (nM) to -log10(Kd / 1e9)."""
    ligands = _read_json(os.path.join(directory, "ligands_can.txt"))
    proteins = _read_json(os.path.join(directory, "proteins.txt"))
    y = _read_matrix(os.path.join(directory, "Y"), (len(ligands), len(proteins)))
    if log_transform:
        bad = np.argwhere(y <= 0)
        if bad.size:
            i, j = bad[0]
            raise PgxError(
                f"{directory}/Y: entry ({i}, {j}) is {y[i, j]}: the log transform needs "
                "positive Kd values (set config.data.log_transform=False for affinity scores)"
            )
        y = -np.log10(y / 1e9)
    return DtiMatrix(
        list(ligands), list(ligands.values()), list(proteins), list(proteins.values()), y
    )


def read_folds(directory: str, num_pairs: int) -> tuple[list[np.ndarray], np.ndarray]:
    """DeepDTA's setting-1 folds: (train folds, test fold) as pair-index arrays, checked."""
    folder = os.path.join(directory, "folds")
    train_path = os.path.join(folder, "train_fold_setting1.txt")
    test_path = os.path.join(folder, "test_fold_setting1.txt")
    train = [np.asarray(f, np.int64) for f in _read_json(train_path)]
    test = np.asarray(_read_json(test_path), np.int64)
    everything = np.concatenate([*train, test])
    for path, fold in [*((train_path, f) for f in train), (test_path, test)]:
        outside = fold[(fold < 0) | (fold >= num_pairs)]
        if outside.size:
            raise PgxError(
                f"{path}: pair index {outside[0]} is outside 0..{num_pairs - 1} "
                f"(Y has {num_pairs} labelled pairs)"
            )
    values, counts = np.unique(everything, return_counts=True)
    if np.any(counts > 1):
        raise PgxError(f"{folder}: pair index {values[counts > 1][0]} is in more than one fold")
    return train, test


def _table(matrix: DtiMatrix, pair_index: np.ndarray) -> InMemorySource:
    drugs, proteins = matrix.pairs()
    return InMemorySource(
        {
            "drug_index": drugs[pair_index].astype(np.int32),
            "protein_index": proteins[pair_index].astype(np.int32),
            "label": matrix.affinity[drugs[pair_index], proteins[pair_index]].astype(np.float32),
            "pair_index": pair_index.astype(np.int64),
        }
    )


def _cold_roles(num: int, fold: int, seed: int) -> np.ndarray:
    """Each entity's split (0 train, 1 validation, 2 test) from a 6-way cut: part 0 test,
    part `fold + 1` validation, the other four train."""
    parts = np.array_split(np.random.default_rng(seed).permutation(num), 6)
    role = np.zeros(num, np.int8)
    role[parts[0]], role[parts[fold + 1]] = 2, 1
    return role


def split_pairs(
    matrix: DtiMatrix, directory: str, scheme: str, fold: int, seed: int = 0
) -> tuple[dict[str, InMemorySource], dict[str, int]]:
    """Train/validation/test pair tables for `scheme` and `fold` (0..4), and counts.

    setting1 (DeepDTA): test = the common test fold, validation = train fold `fold`,
    train = the other four. cold_drug / cold_target: drugs (proteins) are cut into 6 parts
    with `seed`; part 0 is test, part fold+1 validation, the rest train, so no test drug
    (protein) is seen in training. cold_both: a pair is test (validation) only if both its
    drug and its protein are test (validation) entities; train needs both in train; the
    mixed pairs belong to no split and are counted as `dropped`.
    """
    if scheme not in SPLITS:
        raise PgxError(f"config.data.split: unknown split {scheme!r}; known: {list(SPLITS)}")
    if not 0 <= fold < 5:
        raise PgxError(f"config.data.fold: {fold} is outside 0..4")
    drugs, proteins = matrix.pairs()
    num_pairs = drugs.size
    if scheme == "setting1":
        train_folds, test = read_folds(directory, num_pairs)
        if len(train_folds) != 5:
            raise PgxError(f"{directory}/folds: {len(train_folds)} train folds, expected 5")
        train = np.sort(np.concatenate([f for i, f in enumerate(train_folds) if i != fold]))
        parts = {"train": train, "validation": np.sort(train_folds[fold]), "test": np.sort(test)}
    else:
        drug_role = _cold_roles(len(matrix.drug_ids), fold, seed)
        protein_role = _cold_roles(len(matrix.protein_ids), fold, seed + 1)
        if scheme == "cold_drug":
            role = drug_role[drugs]
        elif scheme == "cold_target":
            role = protein_role[proteins]
        else:
            same = drug_role[drugs] == protein_role[proteins]
            role = np.where(same, drug_role[drugs], -1)
        parts = {name: np.flatnonzero(role == r) for r, name in enumerate(SPLIT_NAMES)}
    counts = {name: int(idx.size) for name, idx in parts.items()}
    counts["dropped"] = num_pairs - sum(counts.values())
    return {name: _table(matrix, idx) for name, idx in parts.items()}, counts
