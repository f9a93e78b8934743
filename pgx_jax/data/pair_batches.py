"""Batches of drug-target pairs, naive or factorised, and a block sampler.

A pair model spends almost all its work encoding the two sequences, yet a data set like Davis
has only 68 drugs and 442 proteins behind 30,056 pairs. A factorised batch carries each
distinct drug and protein of the batch once (`drug_tokens` [D, Ld], `protein_tokens` [P, Lp])
and, per pair, the row of each (`drug_index`, `protein_index` [B]); the model encodes D + P
sequences instead of 2B. A naive batch carries both sequences for every pair (indices 0..B-1).
D and P are rounded up to a multiple of `bucket` (zero rows, never indexed) so jit sees few
shapes. Block sampling orders each epoch protein by protein, so a batch holds few proteins.
"""

from collections.abc import Callable, Iterator

import jax
import numpy as np

from pgx_jax.data.sources import take
from pgx_jax.errors import PgxError
from pgx_jax.experiment import RecordSource

SAMPLINGS = ("random", "block")


def _distinct(index: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of `index` padded to a multiple of `bucket` (with the first value), and
    each entry's row among them."""
    values, inverse = np.unique(index, return_inverse=True)
    padded = -(-values.size // bucket) * bucket
    return np.pad(values, (0, padded - values.size), mode="edge"), inverse.astype(np.int32)


def encode_pairs(
    records: dict[str, np.ndarray],
    *,
    drug_tokens: np.ndarray,
    protein_tokens: np.ndarray,
    factorised: bool,
    bucket: int = 8,
) -> dict:
    """Pair records (drug_index, protein_index, label) to model inputs, label and weight.

    NaN labels (unlabelled pairs) get weight 0 and label 0.
    """
    drugs = np.asarray(records["drug_index"])
    proteins = np.asarray(records["protein_index"])
    label = np.asarray(records["label"], np.float32)
    if factorised:
        drug_rows, drug_index = _distinct(drugs, bucket)
        protein_rows, protein_index = _distinct(proteins, bucket)
    else:
        drug_rows, protein_rows = drugs, proteins
        drug_index = protein_index = np.arange(drugs.size, dtype=np.int32)
    labelled = np.isfinite(label)
    return {
        "inputs": {
            "drug_tokens": drug_tokens[drug_rows],
            "protein_tokens": protein_tokens[protein_rows],
            "drug_index": drug_index,
            "protein_index": protein_index,
        },
        "label": np.where(labelled, label, 0.0).astype(np.float32),
        "weight": labelled.astype(np.float32),
    }


def epoch_order(
    protein_index: np.ndarray, sampling: str, rng: np.random.Generator, block_pairs: int = 0
) -> np.ndarray:
    """One epoch's order of the pairs: a permutation, or proteins in random order, each with
    its pairs shuffled (`block`), so consecutive pairs share a protein.

    With `block_pairs` > 0 each protein's shuffled pairs are cut into blocks of that many and
    the blocks are shuffled: a batch of B pairs then spans about B / block_pairs proteins, a
    knob between block sampling's speed and random sampling's mix of proteins per batch.
    """
    if sampling == "random":
        return rng.permutation(protein_index.size)
    if sampling != "block":
        raise PgxError(f"config.data.sampling: unknown sampling {sampling!r}; known: {SAMPLINGS}")
    shuffled = rng.permutation(protein_index.size)
    protein_rank = rng.permutation(int(protein_index.max()) + 1)[protein_index[shuffled]]
    order = shuffled[np.argsort(protein_rank, kind="stable")]
    if block_pairs <= 0:
        return order
    proteins = protein_index[order]
    starts = np.flatnonzero(np.r_[True, proteins[1:] != proteins[:-1]])
    sizes = np.diff(np.r_[starts, proteins.size])
    within = np.arange(proteins.size) - np.repeat(starts, sizes)
    block_start = np.r_[0, np.cumsum(-(-sizes // block_pairs))[:-1]]
    block = np.repeat(block_start, sizes) + within // block_pairs
    block_rank = rng.permutation(int(block.max()) + 1)[block]
    return order[np.argsort(block_rank, kind="stable")]


def train_batches(
    source: RecordSource,
    encode: Callable[[dict], dict],
    batch_size: int,
    seed: int,
    start_step: int = 0,
    sampling: str = "block",
    block_pairs: int = 0,
) -> Iterator[dict]:
    """Endless training batches; the batch of step s is a pure function of (seed, s).

    Epoch e visits every pair once in `epoch_order` drawn from (seed, e), cut into batches of
    `batch_size` consecutive pairs (the remainder is dropped, as the default pipeline does).
    Factorised batches index rows of this process only, so several processes are refused.
    """
    if jax.process_count() > 1:
        raise PgxError("pair batches: factorised pair batching runs in one process only")
    protein_index = np.asarray(take(source, np.arange(len(source)))["protein_index"])
    steps = max(len(source) // batch_size, 1)
    step = start_step
    while True:
        epoch, offset = divmod(step, steps)
        rng = np.random.default_rng([seed, epoch])
        order = epoch_order(protein_index, sampling, rng, block_pairs)
        for position in range(offset, steps):
            rows = order[position * batch_size : (position + 1) * batch_size]
            yield encode(take(source, rows))
        step = (epoch + 1) * steps
