"""grain input pipelines: shuffle indices with a seed, batch, read, encode, shard per process.

Training batches form a random-access grain MapDataset, so the batch of any step can be
reproduced: a resumed run starts at its step and sees exactly the batches it would have seen.
"""

import functools
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


def encode_all(
    source: RecordSource, encode: Callable[[dict], dict], chunk: int = 8192
) -> dict:
    """Every record of `source` encoded, in order, as one dict of arrays (row-wise encodes)."""
    parts = [
        _read(source, encode, np.arange(i, min(i + chunk, len(source))))
        for i in range(0, len(source), chunk)
    ]
    return jax.tree.map(lambda *xs: np.concatenate(xs), *parts)


def _gather(encoded: dict, indices: np.ndarray) -> dict:
    return jax.tree.map(lambda x: x[indices], encoded)


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
    ds = grain.MapDataset.range(len(source)).shuffle(seed=seed).repeat()
    ds = ds.batch(global_batch_size, drop_remainder=True).map(_process_rows)
    ds = ds.map(read)
    ds = ds.slice(slice(start_step, None))
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
