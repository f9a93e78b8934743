"""grain input pipelines: shuffle indices with a seed, batch, read, encode, shard per process.

Training batches form a random-access grain MapDataset, so the batch of any step can be
reproduced: a resumed run starts at its step and sees exactly the batches it would have seen.
"""

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


def train_batches(
    source: RecordSource,
    encode: Callable[[dict], dict],
    global_batch_size: int,
    seed: int,
    start_step: int = 0,
    num_threads: int = 2,
) -> Iterator[dict]:
    """Endless local batches: reshuffled every epoch, this process's rows of each global batch.

    Rows `process_index::process_count` of the shuffled stream go to this process, so one
    process reading everything and N processes reading their shares see the same global batch.
    A batch keeps its records' "id" column (if the source has one) beside the encoded arrays;
    the training loop takes it out before the batch goes to the devices.
    """
    ds = grain.MapDataset.range(len(source)).shuffle(seed=seed).repeat()
    ds = ds.slice(slice(jax.process_index(), None, jax.process_count()))
    ds = ds.batch(global_batch_size // jax.process_count(), drop_remainder=True)
    ds = ds.map(lambda indices: _read(source, encode, indices))
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
    processes, index = jax.process_count(), jax.process_index()
    local_size = global_batch_size // processes
    num_batches = -(-len(source) // global_batch_size)
    ds = grain.MapDataset.range(len(source)).slice(slice(index, None, processes))
    ds = ds.batch(local_size).map(lambda indices: _with_weight(encode(take(source, indices))))
    template = None
    for i in range(num_batches):
        if i < len(ds):
            batch = _pad_rows(ds[i], local_size)
            template = batch
        else:
            batch = jax.tree.map(np.zeros_like, template)
        yield batch


def steps_per_epoch(source: RecordSource, global_batch_size: int) -> int:
    return max(len(source) // global_batch_size, 1)
