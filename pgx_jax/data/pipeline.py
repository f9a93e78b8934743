"""grain input pipelines: shuffle indices with a seed, batch, read, encode, shard per process.

Training batches form a random-access grain MapDataset, so the batch of any step can be
reproduced: a resumed run starts at its step and sees exactly the batches it would have seen.
The shuffle is grain's (`MapDataset.range(n).shuffle(seed).repeat()`, a new permutation every
epoch), computed for a whole epoch at once with numpy instead of one record at a time.
"""

import functools
import math
import sys
from collections.abc import Callable, Iterator

import grain
import jax
import numpy as np

from pgx_jax.data.sources import take
from pgx_jax.experiment import RecordSource


def _with_weight(batch: dict) -> dict:
    if "weight" not in batch:
        batch = {**batch, "weight": np.ones(len(batch["label"]), np.float32)}
    return batch


def _read(source: RecordSource, encode: Callable[[dict], dict], indices: np.ndarray) -> dict:
    """Encode the records at `indices`; their "id" column rides along for error messages."""
    records = take(source, indices)
    batch = _with_weight(encode(records))
    if "id" in records and "id" not in batch:
        batch = {**batch, "id": np.asarray(records["id"])}
    return batch


def encode_all(source: RecordSource, encode: Callable[[dict], dict], chunk: int = 8192) -> dict:
    """Every record of `source` encoded, in order, as one dict of arrays (row-wise encodes)."""
    parts = [
        _read(source, encode, np.arange(i, min(i + chunk, len(source))))
        for i in range(0, len(source), chunk)
    ]
    return jax.tree.map(lambda *xs: np.concatenate(xs), *parts)


def _gather(encoded: dict, indices: np.ndarray) -> dict:
    return jax.tree.map(lambda x: x[indices], encoded)


_UINT32 = 0xFFFFFFFF


def _seed_seq(seed: int, count: int) -> list[int]:
    """The first `count` words of C++ `std::seed_seq{seed}.generate` (grain's round keys)."""
    words = [0x8B8B8B8B] * count
    tail = (
        11
        if count >= 623
        else 7
        if count >= 68
        else 5
        if count >= 39
        else 3
        if count >= 7
        else (count - 1) // 2
    )
    p = (count - tail) // 2
    q = p + tail
    mixes = max(2, count)

    def mix(x: int) -> int:
        return x ^ (x >> 27)

    for k in range(mixes):
        r1 = 1664525 * mix(words[k % count] ^ words[(k + p) % count] ^ words[(k - 1) % count])
        r1 &= _UINT32
        r2 = (r1 + (1 if k == 0 else k % count + (seed if k == 1 else 0))) & _UINT32
        words[(k + p) % count] = (words[(k + p) % count] + r1) & _UINT32
        words[(k + q) % count] = (words[(k + q) % count] + r2) & _UINT32
        words[k % count] = r2
    for k in range(mixes, mixes + count):
        total = (words[k % count] + words[(k + p) % count] + words[(k - 1) % count]) & _UINT32
        r3 = (1566083941 * mix(total)) & _UINT32
        r4 = (r3 - k % count) & _UINT32
        words[(k + p) % count] ^= r3
        words[(k + q) % count] ^= r4
        words[k % count] = r4
    return words


def index_shuffle(index: np.ndarray, max_index: int, seed: int, rounds: int = 4) -> np.ndarray:
    """grain's `index_shuffle` (a Simon block cipher with cycle walking) over a whole array.

    The position of each `index` in grain's permutation of [0, max_index] for `seed`, equal to
    calling grain's per-index C++ function on each element, but as numpy operations on the two
    halves of the cipher block (each at most 32 bits). Cycle walking re-encrypts the values
    that land above `max_index`; when the block (at least 16 bits) is much larger than the
    range, the walks are long, so the whole block is encrypted once and the walks are followed
    by pointer doubling through that table instead.
    """
    values = np.array(index, np.uint64)
    if max_index == 0:
        return np.zeros(values.shape, np.int64)
    bits = math.ceil(math.log2(max_index))
    word = max(bits + bits % 2, 16) // 2
    mask = np.uint32((1 << word) - 1)
    keys = [np.uint32(key) & mask for key in _seed_seq(seed, rounds)]
    shifts = [(np.uint32(r), np.uint32(word - r)) for r in (1, 8, 2)]

    def simon(x: np.ndarray) -> np.ndarray:
        rot1, rot8, rot2 = ((x << left) | (x >> right) for left, right in shifts)
        return ((rot1 & rot8) ^ rot2) & mask

    def encrypt(block: np.ndarray) -> np.ndarray:
        left = (block >> np.uint64(word)).astype(np.uint32) & mask
        right = block.astype(np.uint32) & mask
        for i in range(0, rounds, 2):
            left ^= simon(right) ^ keys[i]
            right ^= simon(left) ^ keys[i + 1]
        return (left.astype(np.uint64) << np.uint64(word)) | right

    flat = encrypt(values.reshape(-1)).astype(np.int64)
    outside = np.flatnonzero(flat > max_index)
    if 2 ** (2 * word) > 16 * (max_index + 1):
        jump = encrypt(np.arange(2 ** (2 * word), dtype=np.uint64)).astype(np.int64)
        done = jump <= max_index
        while not done[flat[outside]].all():
            jump, done = np.where(done, jump, jump[jump]), done | done[jump]
        flat[outside] = jump[flat[outside]]
    else:
        while outside.size:
            flat[outside] = encrypt(flat[outside].astype(np.uint64)).astype(np.int64)
            outside = outside[flat[outside] > max_index]
    return flat.reshape(values.shape)


@functools.lru_cache(maxsize=4)
def _epoch_order(size: int, seed: int, epoch: int) -> np.ndarray:
    """Record indices of one epoch in grain's shuffled order (read-only, cached)."""
    order = index_shuffle(np.arange(size), size - 1, (seed + epoch) % 2**32)
    order.flags.writeable = False
    return order


def _batch_indices(size: int, seed: int, batch_size: int, step: int) -> np.ndarray:
    """Record indices of global batch `step`: positions step*B.. of the endless shuffled stream.

    A batch is a run of consecutive positions, so it is a slice of one epoch's order, or of
    two when it straddles an epoch boundary (as grain's batching of a repeated dataset does).
    """
    start, end = step * batch_size, (step + 1) * batch_size
    parts = []
    while start < end:
        epoch, offset = divmod(start, size)
        stop = min(offset + end - start, size)
        parts.append(_epoch_order(size, seed, epoch)[offset:stop])
        start += stop - offset
    return np.concatenate(parts) if len(parts) > 1 else parts[0].copy()


def _process_rows(indices: np.ndarray) -> np.ndarray:
    """This process's contiguous block of a global batch of record indices."""
    size = -(-len(indices) // jax.process_count()) if len(indices) else 0
    start = jax.process_index() * size
    return indices[start : start + size]


def train_batches(
    source: RecordSource,
    encode: Callable[[dict], dict],
    global_batch_size: int,
    seed: int,
    start_step: int = 0,
    num_threads: int = 2,
    pre_encode: bool = False,
) -> Iterator[dict]:
    """Endless local batches: reshuffled every epoch, this process's rows of each global batch.

    Process p reads the p-th contiguous block of rows of each shuffled global batch, so the
    global array assembled from the processes' blocks equals the batch one process would read,
    row for row (dropout masks included).
    A batch keeps its records' "id" column (if the source has one) beside the encoded arrays;
    the training loop takes it out before the batch goes to the devices.
    `pre_encode` encodes the whole split once up front, so a batch is one gather per array
    (for data that fits in memory in encoded form, and an `encode` that works row by row).
    """
    if pre_encode:
        encoded = encode_all(source, encode)
        read = functools.partial(_gather, encoded)
    else:
        read = functools.partial(_read, source, encode)
    if not 0 <= seed < 2**32:
        raise ValueError(f"train_batches: seed must be in [0, 2**32), got {seed}")
    ds = grain.MapDataset.range(start_step, sys.maxsize)
    ds = ds.map(functools.partial(_batch_indices, len(source), seed, global_batch_size))
    ds = ds.map(_process_rows).map(read)
    options = grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=4 * num_threads)
    return iter(ds.to_iter_dataset(options))


def _pad_rows(batch: dict, rows: int) -> dict:
    """Add zero rows to every array until the batch has `rows` records (weight 0 marks them).

    Every array grows by the same number of rows, so inputs whose leading axis is not the
    record axis (the distinct sequences of a factorised pair batch) stay consistent.
    """
    missing = rows - len(batch["label"])

    def pad(x):
        x = np.asarray(x)
        if missing == 0:
            return x
        return np.concatenate([x, np.zeros((missing,) + x.shape[1:], x.dtype)])

    return jax.tree.map(pad, batch)


def pad_to(tree, rows: int):
    """Every array of `tree` grown with zero rows to `rows` (a fixed batch shape for a jitted
    prediction, whatever the last batch holds)."""

    def pad(x):
        x = np.asarray(x)
        return np.concatenate([x, np.zeros((rows - len(x),) + x.shape[1:], x.dtype)])

    return jax.tree.map(pad, tree)


def eval_batches(
    source: RecordSource, encode: Callable[[dict], dict], global_batch_size: int
) -> Iterator[dict]:
    """Every record once, in order, as fixed-size local batches; padding rows have weight 0.

    Every process yields the same number of batches, as collectives in the eval step require.
    """
    local_size = global_batch_size // jax.process_count()
    ds = grain.MapDataset.range(len(source)).batch(global_batch_size).map(_process_rows)
    template = None
    for indices in ds:
        if len(indices):
            template = _pad_rows(_with_weight(encode(take(source, indices))), local_size)
            yield template
        else:
            yield jax.tree.map(np.zeros_like, template)


def steps_per_epoch(source: RecordSource, global_batch_size: int) -> int:
    return max(len(source) // global_batch_size, 1)
