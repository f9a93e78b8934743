"""Reading batches: records taken from a source and encoded, for training (the rows a training
order picks, `pgx_jax.data.sampling`) and evaluation (every record once, fixed-size batches).
"""

import functools
from collections.abc import Callable, Iterator

import jax
import numpy as np

from pgx_jax.data import sampling
from pgx_jax.data.sampling import Order, process_rows
from pgx_jax.data.sources import RecordSource, take


def _with_weight(batch: dict) -> dict:
    if "weight" not in batch:
        batch = {**batch, "weight": np.ones(len(batch["label"]), np.float32)}
    return batch


def read(source: RecordSource, encode: Callable[[dict], dict], indices: np.ndarray) -> dict:
    """The records at `indices`, encoded; their "id" column rides along for error messages."""
    records = take(source, indices)
    batch = _with_weight(encode(records))
    if "id" in records and "id" not in batch:
        batch = {**batch, "id": np.asarray(records["id"])}
    return batch


def encode_all(source: RecordSource, encode: Callable[[dict], dict], chunk: int = 8192) -> dict:
    """Every record of `source` encoded, in order, as one dict of arrays (row-wise encodes)."""
    parts = [
        read(source, encode, np.arange(i, min(i + chunk, len(source))))
        for i in range(0, len(source), chunk)
    ]
    return jax.tree.map(lambda *xs: np.concatenate(xs), *parts)


def gather(encoded: dict, indices: np.ndarray) -> dict:
    """Rows `indices` of every array of an `encode_all` result."""
    return jax.tree.map(lambda x: x[indices], encoded)


def pad_to(tree: dict, rows: int) -> dict:
    """Every array of a batch grown with zero rows to `rows` records (a fixed batch shape for a
    jitted step, whatever the last batch holds; a batch's zero weight marks the padding).

    Every array grows by the same number of rows, so inputs whose leading axis is not the
    record axis (the distinct sequences of a factorised pair batch) stay consistent.
    """
    missing = rows - len(tree["label"])

    def pad(x):
        x = np.asarray(x)
        if missing == 0:
            return x
        return np.concatenate([x, np.zeros((missing,) + x.shape[1:], x.dtype)])

    return jax.tree.map(pad, tree)


def eval_batches(
    source: RecordSource, encode: Callable[[dict], dict], global_batch_size: int
) -> Iterator[dict]:
    """Every record once, in order, as fixed-size local batches; padding rows have weight 0.

    Every process yields the same number of batches, as collectives in the eval step require.
    """
    local_size = global_batch_size // jax.process_count()
    template = None
    for start in range(0, len(source), global_batch_size):
        indices = process_rows(np.arange(start, min(start + global_batch_size, len(source))))
        if len(indices):
            template = pad_to(_with_weight(encode(take(source, indices))), local_size)
            yield template
        else:
            yield jax.tree.map(np.zeros_like, template)


def train_batches(
    source: RecordSource,
    encode: Callable[[dict], dict],
    batch_size: int,
    seed: int,
    start_step: int = 0,
    order: Order | None = None,
    pre_encode: bool = False,
    num_threads: int = 2,
) -> Iterator[dict]:
    """This process's training batches of `source` from `start_step` on, in `order` (default
    a new permutation every epoch; `pgx_jax.data.sampling`). `pre_encode` encodes the whole
    split once up front, so a batch is one gather per array (for data that fits in memory in
    encoded form, and an `encode` that works row by row)."""
    reader = functools.partial(read, source, encode)
    if pre_encode:
        reader = functools.partial(gather, encode_all(source, encode))
    order = order or sampling.shuffled(len(source))
    return sampling.local_batches(order, reader, batch_size, seed, start_step, num_threads)
