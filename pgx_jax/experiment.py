"""The experiment contract: what a trained model needs (`Predictor`), apart from its data.

`experiments/<domain>.py` defines two functions:
  `predictor(config, fitted) -> Predictor`: the model, task, encoder and metrics, from the config
    and `fitted`, what the encoder chose from the training data (a length, a vocabulary, word
    vectors). A run saves `fitted` in its workdir when it starts, so `pgx_jax.load_run` and
    every command that uses a trained model rebuild the Predictor from the workdir alone.
  `build(config) -> Experiment`: the data (splits, the training order) and the Predictor.
`pgx train` builds the Experiment of `config.experiment` and hands it to the one training loop
(`pgx_jax.train.loop.fit`).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import flax.linen as nn
import jax.numpy as jnp
import ml_collections
import numpy as np

from pgx_jax.data.lengths import InputLengths
from pgx_jax.data.sampling import Order
from pgx_jax.data.sources import RecordSource
from pgx_jax.errors import PgxError

if TYPE_CHECKING:
    from pgx_jax.inference import Predictions


@dataclasses.dataclass(frozen=True)
class Predictor:
    """A model and how records become its inputs: everything a trained run needs to predict.

    encode: raw records (a dict of numpy columns, one row per record, holding at least the
      fields `reads`) to `{"inputs": {...model keyword arguments...}, "label": array}`,
      optionally with "weight" ([B], or [B, T] to mask missing multi-label entries). Records
      without labels (new data) encode with zero labels (`label_column`).
    reads: the record fields `encode` reads ("sequence"; "smiles" and "protein"; ...), which
      `pgx predict` must find in its input.
    fitted: what the encoder chose from the training data, JSON values or numpy arrays (saved
      with the run, `pgx_jax.runs`).
    classes: names of a multiclass model's classes (its prediction columns).
    call: optional `(records, probabilities [N, C], negative_weight) -> class index [N]` of a
      multiclass model, where a call is more than the most probable class (the DDI papers
      call pairs their filter rules match negative); default the most probable class after
      class 0's probability is multiplied by `negative_weight`.
    input_lengths: optional `records -> {field: (lengths, the model's length)}` for the fields
      read at a fixed length (`pgx_jax.data.lengths.letters`): training reports the records it
      cuts and pads, `pgx predict` refuses longer ones or scores them in windows.
    """

    model: nn.Module
    task: str
    encode: Callable[[dict[str, np.ndarray]], dict]
    metrics: Sequence[str]
    reads: tuple[str, ...] = ("sequence",)
    fitted: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    classes: tuple[str, ...] = ()
    call: Callable[[dict, np.ndarray, float], np.ndarray] | None = None
    input_lengths: InputLengths | None = None


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A Predictor and the data it trains on.

    splits: 'train', and optionally 'validation' (early stopping, best checkpoint) and 'test'.
    order: how training visits the 'train' records (`pgx_jax.data.sampling`); default a new
      permutation every epoch.
    encode: for splits whose records are not the Predictor's raw records (drug-target pairs
      stored as indices into token tables), their encoder; default the Predictor's.
    after_fit: optional `(Finished) -> dict` adding domain results (such as the best JASPAR
      match of a filter) to `results.json` once training ends.
    files: text files (name -> content) written into the workdir when the run starts: what
      was read and inferred from the data (a data summary, every row's split, the rows left
      out).
    """

    predictor: Predictor
    splits: Mapping[str, RecordSource]
    order: Order | None = None
    encode: Callable[[dict[str, np.ndarray]], dict] | None = None
    after_fit: Callable[[Finished], dict] | None = None
    files: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def encode_split(self) -> Callable[[dict[str, np.ndarray]], dict]:
        """The encoder of the splits' records."""
        return self.encode or self.predictor.encode


@dataclasses.dataclass(frozen=True)
class Finished:
    """What `after_fit` gets when training ends: the evaluated state (best, or final), the
    experiment, the run's workdir, its test predictions (None without a test split) and
    `predict(source)`, the same predictions for any other records of the splits' kind."""

    state: Any
    experiment: Experiment
    workdir: str
    test: Predictions | None
    predict: Callable[[RecordSource], Predictions]

    @property
    def variables(self) -> dict:
        """The model's variables for `model.apply` (`TrainState.variables`)."""
        return self.state.variables


def label_column(
    records: Mapping[str, Any], name: str = "label", dtype: Any = np.float32, shape: tuple = ()
) -> np.ndarray:
    """`records[name]` as `dtype`; zeros of per-record `shape` for records without labels."""
    if name in records:
        return np.asarray(records[name], dtype)
    rows = len(next(iter(records.values())))
    return np.zeros((rows, *shape), dtype)


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


def build_experiment(config: ml_collections.ConfigDict) -> Experiment:
    """The Experiment of `config.experiment`, its model computing in `train.compute_dtype`."""
    experiment = load_experiment_module(config.experiment).build(config)
    predictor = with_compute_dtype(experiment.predictor, _compute_dtype(config))
    return dataclasses.replace(experiment, predictor=predictor)


def build_predictor(config: ml_collections.ConfigDict, fitted: Mapping[str, Any]) -> Predictor:
    """The Predictor of a run from its config and saved `fitted` values, without its data."""
    predictor = load_experiment_module(config.experiment).predictor(config, fitted)
    return with_compute_dtype(predictor, _compute_dtype(config))


def _compute_dtype(config: ml_collections.ConfigDict) -> str | None:
    return config.get("train", {}).get("compute_dtype")


def with_compute_dtype(predictor: Predictor, dtype: str | None) -> Predictor:
    """Mixed precision: the model computes in `dtype` (e.g. bfloat16); parameters, the loss
    and the optimiser stay float32 (every module keeps float32 `param_dtype`, and the output
    head casts its result to float32)."""
    if not dtype or dtype == "float32":
        return predictor
    if "dtype" not in predictor.model.__dataclass_fields__:
        name = type(predictor.model).__name__
        raise PgxError(f"config.train.compute_dtype: model {name} has no dtype field")
    return dataclasses.replace(predictor, model=predictor.model.clone(dtype=jnp.dtype(dtype)))
