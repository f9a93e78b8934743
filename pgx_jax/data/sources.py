"""Random-access record sources and batched reads from them.

A TFDS array_record data source decodes one record at a time (about 0.1 ms each); for data sets
that fit in memory, `InMemorySource` decodes every record once into numpy columns so a batch
is a single fancy-index per column.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

RecordSource = Sequence[dict[str, Any]]
"""A random-access collection of raw records (a TFDS data source, an InMemorySource, a list of
dicts, or any object with `__len__` and `take(indices)`)."""


class InMemorySource:
    """A table of equal-length numpy columns; `source[i]` is one record, `take(idx)` a batch."""

    def __init__(self, columns: dict[str, np.ndarray]):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(
                f"columns differ in length: { {k: len(v) for k, v in columns.items()} }"
            )
        self.columns = columns
        self._length = lengths.pop() if lengths else 0

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {name: column[index] for name, column in self.columns.items()}

    def take(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        return {name: column[indices] for name, column in self.columns.items()}


def text_values(values: Any) -> list[str]:
    """A string column (bytes, as array_record stores it, or str) as Python strings."""
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def stack_records(records: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """A list of records (dicts) to one dict of numpy columns."""
    return {key: np.asarray([r[key] for r in records]) for key in records[0]}


def take(source: Sequence[dict[str, Any]], indices: np.ndarray) -> dict[str, np.ndarray]:
    """The records at `indices` as numpy columns, read in one batched call where possible."""
    if hasattr(source, "take"):
        return source.take(np.asarray(indices))
    indices = [int(i) for i in indices]
    if hasattr(source, "__getitems__"):
        return stack_records(source.__getitems__(indices))
    return stack_records([source[i] for i in indices])


def materialize(source: Sequence[dict[str, Any]], chunk: int = 4096) -> InMemorySource:
    """Decode every record of `source` once into an InMemorySource."""
    if isinstance(source, InMemorySource):
        return source
    parts = [
        take(source, np.arange(i, min(i + chunk, len(source))))
        for i in range(0, len(source), chunk)
    ]
    return InMemorySource({key: np.concatenate([p[key] for p in parts]) for key in parts[0]})
