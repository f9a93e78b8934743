"""Ways to cut a data set: (stratified) k-fold, held-out fractions, and subsets of a source."""

import numpy as np

from pgx_jax.data.sources import InMemorySource, RecordSource, take
from pgx_jax.errors import PgxError


def kfold(
    num_examples: int, num_folds: int, fold: int, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices of fold `fold` of `num_folds`; stratified when `labels` given.

    The same (num_examples, num_folds, seed, labels) always gives the same partition, and the
    held-out parts of the folds are disjoint and cover every example once.
    """
    if not 0 <= fold < num_folds:
        raise PgxError(f"fold {fold} is outside 0..{num_folds - 1}")
    rng = np.random.default_rng(seed)
    groups = (
        [np.arange(num_examples)]
        if labels is None
        else [np.flatnonzero(labels == value) for value in np.unique(labels)]
    )
    held_out = np.concatenate(
        [np.array_split(rng.permutation(group), num_folds)[fold] for group in groups]
    )
    mask = np.zeros(num_examples, bool)
    mask[held_out] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def holdout(
    num_examples: int, fraction: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held-out) indices with about `fraction` held out, stratified by `labels`."""
    rng = np.random.default_rng(seed)
    groups = (
        [np.arange(num_examples)]
        if labels is None
        else [np.flatnonzero(labels == value) for value in np.unique(labels)]
    )
    held_out = np.concatenate([rng.permutation(g)[: int(round(fraction * len(g)))] for g in groups])
    mask = np.zeros(num_examples, bool)
    mask[held_out] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def subset(source: RecordSource, indices: np.ndarray) -> InMemorySource:
    """The records of `source` at `indices`, as an in-memory source."""
    return InMemorySource(take(source, np.asarray(indices)))


SPLIT_NAMES = ("train", "validation", "test")


def by_groups(
    groups: np.ndarray,
    fractions: tuple[float, float, float],
    seed: int,
    largest_first: bool = False,
) -> np.ndarray:
    """Split names per row with every group in one part (`group_parts`)."""
    return np.array(SPLIT_NAMES)[group_parts(groups, fractions, seed, largest_first)]


def group_parts(
    groups: np.ndarray,
    fractions: tuple[float, float, float],
    seed: int,
    largest_first: bool = False,
) -> np.ndarray:
    """Each row's part (0 train, 1 validation, 2 test) with every group in one part: groups in
    a seeded random order (with `largest_first`, the groups larger than half the test part go
    first, as chemprop's balanced scaffold split does), each to the first part still short of
    its fraction of the rows."""
    names, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(names))
    if largest_first:
        big = counts[order] > fractions[2] * len(groups) / 2
        order = np.concatenate([order[big], order[~big]])
    targets = np.array(fractions) * len(groups)
    filled = np.zeros(3)
    part = np.zeros(len(names), np.int64)
    for g in order:
        p = next((p for p in range(3) if filled[p] + counts[g] <= targets[p] + 0.5), None)
        if p is None:
            p = int(np.argmin(filled - targets))
        part[g] = p
        filled[p] += counts[g]
    return part[inverse]


def random_parts(size: int, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """Split names per row, each row its own group (`random_part_indices`)."""
    return np.array(SPLIT_NAMES)[random_part_indices(size, fractions, seed)]


def random_part_indices(size: int, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """Each row's part, each row its own group: `group_parts(np.arange(size), ...)` without
    its loop over groups (10 million rows in 2 s instead of 25 s). Rows in the seeded order
    fill the parts one after another, as groups of one row do there; the last row or two,
    past every part's rounded share, go where `by_groups` puts them."""
    order = np.random.default_rng(seed).permutation(size)
    targets = np.array(fractions) * size
    filled = np.maximum(np.floor(targets + 0.5), 0)
    part = np.repeat(np.arange(3), filled.astype(np.int64))[:size]
    rest = []
    for _ in range(size - len(part)):
        rest.append(int(np.argmin(filled - targets)))
        filled[rest[-1]] += 1
    parts = np.empty(size, np.int8)
    parts[order] = np.concatenate([part, np.array(rest, np.int64)])
    return parts


def scaffolds(smiles: list[str]) -> np.ndarray:
    """Each molecule's Bemis-Murcko scaffold (RDKit), as canonical SMILES ('' for acyclic)."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    found = []
    for text in smiles:
        mol = Chem.MolFromSmiles(text)
        found.append(MurckoScaffold.MurckoScaffoldSmiles(mol=mol) if mol is not None else text)
    return np.array(found, dtype=str)


def cold_both(
    drugs: np.ndarray, proteins: np.ndarray, fractions: tuple[float, float, float], seed: int
) -> np.ndarray:
    """Split names per pair with neither its drug nor its protein in another part: drugs and
    proteins are split apart, and a pair whose drug and protein fell in different parts is
    left out ('')."""
    drug_part = by_groups(np.unique(drugs), fractions, seed)
    protein_part = by_groups(np.unique(proteins), fractions, seed + 1)
    of_drug = dict(zip(np.unique(drugs).tolist(), drug_part.tolist(), strict=True))
    of_protein = dict(zip(np.unique(proteins).tolist(), protein_part.tolist(), strict=True))
    parts = np.array([of_drug[d] for d in drugs.tolist()])
    same = parts == np.array([of_protein[p] for p in proteins.tolist()])
    return np.where(same, parts, "")


def by_chromosome(
    chroms: np.ndarray, validation: tuple[str, ...], test: tuple[str, ...]
) -> np.ndarray:
    """Split names per row by chromosome: those named go to validation or test, the rest train."""
    names = np.full(len(chroms), "train", dtype=object)
    names[np.isin(chroms, validation)] = "validation"
    names[np.isin(chroms, test)] = "test"
    return names.astype(str)
