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
