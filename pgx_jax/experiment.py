"""The experiment contract: what a domain script hands to the one training loop.

`experiments/<domain>.py` defines `build(config) -> Experiment`; `pgx train` imports the
module named by `config.experiment` and passes its Experiment to `pgx_jax.train.loop.fit`.
"""

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import flax.linen as nn
import numpy as np

from pgx_jax.errors import PgxError

RecordSource = Sequence[dict[str, Any]]
"""A random-access collection of raw records (a TFDS data source, or a list of dicts)."""


@dataclasses.dataclass(frozen=True)
class Experiment:
    """Everything domain-specific about a run.

    splits: 'train', and optionally 'validation' (early stopping, best checkpoint) and 'test'.
    encode: a batch of raw records (a dict of numpy arrays, one row per record) to
      `{"inputs": {...model keyword arguments...}, "label": array}`, optionally with a
      "weight" ([B], or [B, T] to mask missing multi-label entries).
    metrics: names from `pgx_jax.metrics.METRICS`, computed on every evaluated split.
    after_fit: optional `(state, experiment, workdir) -> dict` adding domain results (such as
      the best JASPAR match of a filter) to `results.json` once training ends.
    train_batches: optional `(local_batch_size, seed, start_step) -> Iterator[batch]` replacing
      the default shuffled pipeline (e.g. block batches that encode each distinct sequence
      once); it must be a pure function of (seed, step) for exact resume.
    """

    model: nn.Module
    task: str
    splits: Mapping[str, RecordSource]
    encode: Callable[[dict[str, np.ndarray]], dict]
    metrics: Sequence[str]
    after_fit: Callable[..., dict] | None = None
    train_batches: Callable[[int, int, int], Iterator[dict]] | None = None


def load_experiment_module(name: str):
    """Import `experiments.<name>`, the domain script named by `config.experiment`."""
    try:
        return importlib.import_module(f"experiments.{name}")
    except ModuleNotFoundError as err:
        if err.name in (f"experiments.{name}", "experiments"):
            raise PgxError(
                f"config.experiment: no experiment script experiments/{name}.py"
            ) from None
        raise
