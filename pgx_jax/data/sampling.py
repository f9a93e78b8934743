"""Training orders, and the one rule that cuts them into each process's batches.

An `Order` says how one epoch visits the training records: a function of (seed, epoch) giving
record indices. The stream of a run is the orders of epochs 0, 1, 2, ... one after another;
global batch `s` is positions [s*B, (s+1)*B) of that stream, and process p of N reads the p-th
contiguous block of its rows (`process_rows`). So N processes see, row for row, the batch one
process sees, whatever the order, and a resumed run (any `start_step`) sees exactly the batches
it would have seen. Orders whose batches have a structure (length buckets, protein blocks,
half positives) have a length that is a multiple of the batch size, so batches never straddle
two epochs.

Orders: `shuffled` (a seeded permutation every epoch; the default), `length_bucketed`
(sentences of similar length together), `pair_blocks` (drug-target pairs protein by protein),
`positives_with_negatives` (half positives, half negatives generated at read time) and
`balanced` (as many records of each class in every batch).
"""

import dataclasses
import functools
import sys
from collections.abc import Callable, Iterator

import grain
import jax
import numpy as np

from pgx_jax.errors import PgxError

PAIR_SAMPLINGS = ("random", "block")


@dataclasses.dataclass(frozen=True, eq=False)
class Order:
    """`length` record indices per epoch (the same every epoch), drawn by `draw(rng, epoch)`
    from a generator seeded by (seed, epoch)."""

    length: int
    draw: Callable[[np.random.Generator, int], np.ndarray]

    def epoch(self, seed: int, epoch: int) -> np.ndarray:
        """The record indices of `epoch` for `seed`."""
        indices = np.asarray(self.draw(np.random.default_rng([seed, epoch]), epoch), np.int64)
        if indices.shape != (self.length,):
            raise ValueError(f"order drew {indices.shape} indices, expected ({self.length},)")
        indices.flags.writeable = False  # cached and sliced by every batch of the epoch
        return indices

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(self.length // batch_size, 1)


def shuffled(size: int) -> Order:
    """Every record once per epoch, in a new random order each epoch."""
    if size <= 0:
        raise PgxError("training split: no records")
    return Order(size, lambda rng, epoch: rng.permutation(size))


def _whole_batches(size: int, batch_size: int, what: str) -> int:
    """Global batches of `batch_size` in `size` records; PgxError if there is not one."""
    batches = size // batch_size
    if batches == 0:
        raise PgxError(f"{what}: {size} training records is fewer than one batch of {batch_size}")
    return batches


def length_bucketed(lengths: np.ndarray, batch_size: int, chunk_batches: int = 50) -> Order:
    """Batches of records of similar length, so a batch is padded little: each epoch shuffles
    the records (dropping the remainder of a batch), sorts chunks of `chunk_batches` batches by
    length, cuts them into batches and shuffles the batches."""
    lengths = np.asarray(lengths)
    batches = _whole_batches(len(lengths), batch_size, "length-bucketed batches")

    def draw(rng: np.random.Generator, epoch: int) -> np.ndarray:
        order = rng.permutation(len(lengths))[: batches * batch_size]
        chunk = chunk_batches * batch_size
        for i in range(0, len(order), chunk):
            part = order[i : i + chunk]
            order[i : i + chunk] = part[np.argsort(lengths[part], kind="stable")]
        return order.reshape(batches, batch_size)[rng.permutation(batches)].ravel()

    return Order(batches * batch_size, draw)


def pair_blocks(
    protein_index: np.ndarray, batch_size: int, sampling: str = "block", block_pairs: int = 0
) -> Order:
    """Drug-target pairs: a permutation (`random`), or proteins in random order each with its
    pairs shuffled (`block`), so a batch holds few proteins (factorised batches encode each
    distinct protein once). With `block_pairs` > 0 each protein's pairs are cut into blocks of
    that many and the blocks shuffled: a batch then spans about B / block_pairs proteins;
    `block_pairs` < 0 chooses from the data (`blocking_of`)."""
    if sampling not in PAIR_SAMPLINGS:
        raise PgxError(
            f"config.data.sampling: unknown sampling {sampling!r}; known: {PAIR_SAMPLINGS}"
        )
    protein_index = np.asarray(protein_index)
    if block_pairs < 0:
        block_pairs = blocking_of(protein_index, batch_size)
    if not protein_index.size:
        raise PgxError("pair batches: no training pairs")
    size = protein_index.size  # whole batches, or all pairs when fewer (batches then straddle)
    length = size if size < batch_size else size // batch_size * batch_size

    def draw(rng: np.random.Generator, epoch: int) -> np.ndarray:
        if sampling == "random":
            return rng.permutation(protein_index.size)[:length]
        return _protein_blocks(protein_index, rng, block_pairs)[:length]

    return Order(length, draw)


AUTO_BLOCK_PAIRS = 8
"""The block size `blocking_of` chooses when whole proteins would crowd a batch."""


def blocking_of(protein_index: np.ndarray, batch_size: int) -> int:
    """Pairs per block from the data: whole proteins (0) while none has more than half a batch
    of pairs; blocks of the median protein's pairs when some do (a few large proteins would
    otherwise fill batches alone: Davis written as a table, where a sequence shared by 15
    targets has 673 training pairs); blocks of `AUTO_BLOCK_PAIRS` when the median protein has
    more than half a batch, where a batch of one protein's pairs teaches that protein alone."""
    per_protein = np.bincount(np.asarray(protein_index))
    per_protein = per_protein[per_protein > 0]
    median = int(np.ceil(np.median(per_protein)))
    if median > batch_size / 2:
        return AUTO_BLOCK_PAIRS
    return 0 if per_protein.max() <= batch_size / 2 else median


def _protein_blocks(
    protein_index: np.ndarray, rng: np.random.Generator, block_pairs: int
) -> np.ndarray:
    shuffled_pairs = rng.permutation(protein_index.size)
    protein_rank = rng.permutation(int(protein_index.max()) + 1)[protein_index[shuffled_pairs]]
    order = shuffled_pairs[np.argsort(protein_rank, kind="stable")]
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


def positives_with_negatives(num_positives: int, batch_size: int) -> Order:
    """Batches of half positives (records 0..n-1, each once per epoch) and half negatives.

    A negative is index n * (1 + epoch) + j: the source generates it from positive j, so each
    epoch has new negatives (DeePromoter rebuilds its negatives from promoters as it trains).
    """
    negatives = batch_size // 2
    positives = batch_size - negatives
    batches = _whole_batches(num_positives, positives, "positives with generated negatives")

    def draw(rng: np.random.Generator, epoch: int) -> np.ndarray:
        chosen = rng.permutation(num_positives)[: batches * positives].reshape(batches, -1)
        sources = rng.permutation(num_positives)[: batches * negatives].reshape(batches, -1)
        generated = num_positives * (1 + epoch) + sources
        return np.concatenate([chosen, generated], axis=1).ravel()

    return Order(batches * batch_size, draw)


def balanced(labels: np.ndarray, batch_size: int) -> Order:
    """Batches with the classes equally represented, for imbalanced sets (DeepACTION's
    balanced sampling): row r of every batch is of the r-th class modulo their number, so each
    process's contiguous block of a batch is balanced too. An epoch has as many batches as the
    records fill; each class's records are drawn in a new random order, a minority class's
    several times over. Unlabelled (NaN) records are never drawn."""
    labels = np.asarray(labels)
    labelled = (
        np.flatnonzero(~np.isnan(labels)) if labels.dtype.kind == "f" else np.arange(labels.size)
    )
    classes = np.unique(labels[labelled])
    if classes.size < 2:
        raise PgxError(f"balanced batches: the training labels hold {classes.size} class(es)")
    members = [labelled[labels[labelled] == c] for c in classes]
    batches = _whole_batches(labels.size, batch_size, "balanced batches")
    slots = np.tile(np.arange(batch_size) % classes.size, batches)

    def draw(rng: np.random.Generator, epoch: int) -> np.ndarray:
        order = np.empty(slots.size, np.int64)
        for c, rows in enumerate(members):
            needed = int(np.sum(slots == c))
            rounds = -(-needed // rows.size)
            drawn = np.concatenate([rng.permutation(rows) for _ in range(rounds)])
            order[slots == c] = drawn[:needed]
        return order

    return Order(slots.size, draw)


def with_epochs(order: Order, size: int) -> Order:
    """`order` with epoch e's indices offset by e * `size`, so a source can tell the epochs
    apart (index // size) and draw each epoch's augmentation from the index alone."""
    return Order(order.length, lambda rng, epoch: order.draw(rng, epoch) + epoch * size)


def global_batch(epoch: Callable[[int], np.ndarray], length: int, batch_size: int, step: int):
    """Record indices of global batch `step`: positions step*B.. of the stream of epochs
    (`epoch(e)` gives epoch e's `length` indices); a batch may straddle two epochs."""
    start, end = step * batch_size, (step + 1) * batch_size
    parts = []
    while start < end:
        e, offset = divmod(start, length)
        stop = min(offset + end - start, length)
        parts.append(epoch(e)[offset:stop])
        start += stop - offset
    return np.concatenate(parts)


def process_rows(indices: np.ndarray) -> np.ndarray:
    """This process's rows of a global batch: the p-th of N contiguous blocks. The one rule
    every training order and evaluation batch is cut by."""
    size = -(-len(indices) // jax.process_count()) if len(indices) else 0
    start = jax.process_index() * size
    return indices[start : start + size]


def local_batches(
    order: Order,
    read: Callable[[np.ndarray], dict],
    batch_size: int,
    seed: int,
    start_step: int = 0,
    num_threads: int = 2,
) -> Iterator[dict]:
    """Endless local batches from `start_step` on: this process's rows of each global batch of
    `order`, read by `read(indices)` in grain's worker threads (with prefetching)."""
    if not 0 <= seed < 2**32:
        raise PgxError(f"config.seed: must be in [0, 2**32), got {seed}")
    epoch = functools.lru_cache(maxsize=4)(functools.partial(order.epoch, seed))
    ds = grain.MapDataset.range(start_step, sys.maxsize)
    ds = ds.map(functools.partial(global_batch, epoch, order.length, batch_size))
    ds = ds.map(process_rows).map(read)
    options = grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=4 * num_threads)
    return iter(ds.to_iter_dataset(options))
