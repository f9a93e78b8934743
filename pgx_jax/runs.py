"""A run directory, and a trained run restored from it alone.

A run writes `config.json` (the resolved config) and `predictor.json` (+ `predictor.npz` for
arrays) when it starts: what its Predictor's encoder chose from the training data (`fitted`)
and the shapes of the model's inputs. `load_run(workdir)` rebuilds the Predictor from those
and restores the best (or latest) checkpoint into it: no data directory, no data set
preparation. Runs made before `predictor.json` existed rebuild it once from their data and
write it.
"""

import dataclasses
import json
import os
from typing import Any

import jax
import ml_collections
import numpy as np

from pgx_jax import inference, parallel
from pgx_jax.checkpoint import Checkpoints, checkpoint_kind
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Predictor, build_experiment, build_predictor
from pgx_jax.files import atomic_open, write_atomically
from pgx_jax.train.optim import make_optimizer
from pgx_jax.train.state import TrainState, create_train_state

CONFIG_FILE = "config.json"
PREDICTOR_FILE = "predictor.json"
PREDICTOR_ARRAYS = "predictor.npz"


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The resolved config a run wrote to `workdir/config.json`."""
    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.isfile(path):
        raise PgxError(
            f"{workdir}: no {CONFIG_FILE} (not a run directory; a protocol run keeps one per "
            "field=value subdirectory)"
        )
    with open(path) as f:
        return ml_collections.ConfigDict(json.load(f))


def save_predictor(workdir: str, predictor: Predictor, example_inputs: dict) -> None:
    """Write `predictor.json` (the fitted values that are not arrays, the input shapes and the
    task) and `predictor.npz` (the fitted arrays) into `workdir`, atomically."""
    arrays = {k: np.asarray(v) for k, v in predictor.fitted.items() if isinstance(v, np.ndarray)}
    values = {k: v for k, v in predictor.fitted.items() if k not in arrays}
    description = {
        "task": predictor.task,
        "reads": list(predictor.reads),
        "inputs": {
            name: {"shape": list(np.shape(x)), "dtype": str(np.asarray(x).dtype)}
            for name, x in example_inputs.items()
        },
        "fitted": values,
        "fitted_arrays": sorted(arrays),
    }
    if arrays:
        with atomic_open(os.path.join(workdir, PREDICTOR_ARRAYS), "wb") as f:
            np.savez(f, **arrays)
    write_atomically(
        os.path.join(workdir, PREDICTOR_FILE), json.dumps(description, indent=2, sort_keys=True)
    )


def _read_predictor(workdir: str) -> tuple[dict[str, Any], dict[str, jax.ShapeDtypeStruct]]:
    """The fitted values and input shapes a run saved (`save_predictor`)."""
    with open(os.path.join(workdir, PREDICTOR_FILE)) as f:
        description = json.load(f)
    fitted = dict(description["fitted"])
    if description["fitted_arrays"]:
        with np.load(os.path.join(workdir, PREDICTOR_ARRAYS)) as arrays:
            fitted.update({name: arrays[name] for name in description["fitted_arrays"]})
    inputs = {
        name: jax.ShapeDtypeStruct(tuple(spec["shape"]), np.dtype(spec["dtype"]))
        for name, spec in description["inputs"].items()
    }
    return fitted, inputs


def _predictor_of(workdir: str, config: ml_collections.ConfigDict) -> tuple[Predictor, dict]:
    """The run's Predictor and its input shapes; a run made before `predictor.json` existed
    rebuilds its experiment from the data once and saves them."""
    if os.path.isfile(os.path.join(workdir, PREDICTOR_FILE)):
        fitted, inputs = _read_predictor(workdir)
        return build_predictor(config, fitted), inputs
    from pgx_jax.data.pipeline import eval_batches

    experiment = build_experiment(config)
    example = next(
        eval_batches(experiment.splits["train"], experiment.encode_split, config.data.batch_size)
    )["inputs"]
    save_predictor(workdir, experiment.predictor, example)
    return experiment.predictor, jax.tree.map(np.asarray, example)


@dataclasses.dataclass(frozen=True)
class Run:
    """A trained run: its directory, config, Predictor, restored state and which checkpoint."""

    workdir: str
    config: ml_collections.ConfigDict
    predictor: Predictor
    state: TrainState
    step: int
    kind: str
    inputs: dict = dataclasses.field(default_factory=dict)
    """The model's inputs as the run saw them: name -> ShapeDtypeStruct of one batch."""

    @property
    def variables(self) -> dict:
        """The model's variables for `model.apply` (`TrainState.variables`)."""
        return self.state.variables

    def batch_size(self, requested: int = 0) -> int:
        """`requested` (default the run's batch size), rounded up to a multiple of the devices."""
        size = requested or int(self.config.data.batch_size)
        devices = jax.device_count()
        return -(-size // devices) * devices

    def predict(self, batches, batch_size: int, progress=None) -> inference.Predictions:
        """Predictions of the run on encoded batches of at most `batch_size` records
        (`inference.predict` over every device)."""
        mesh = parallel.make_mesh()
        eval_fn = inference.eval_function(self.predictor.task, mesh)
        return inference.predict(eval_fn, self.state, batches, batch_size, mesh, progress=progress)


def load_run(workdir: str, kind: str | None = None) -> Run:
    """A trained run restored from `workdir` alone: its Predictor (from `predictor.json`) and
    its `kind` checkpoint (default: best if it saved one, else latest)."""
    config = load_config(workdir)
    predictor, inputs = _predictor_of(workdir, config)
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    target = jax.tree.map(
        lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=device),
        jax.eval_shape(
            lambda inputs: create_train_state(
                predictor.model,
                make_optimizer(config.optimizer, 1),
                inputs,
                config.seed,
                config.train.get("ema_decay", 0.0),
            ),
            inputs,
        ),
    )
    kind = kind or checkpoint_kind(workdir)
    checkpoints = Checkpoints(os.path.join(workdir, "checkpoints"))
    try:
        restored = checkpoints.restore(kind, target)
    finally:
        checkpoints.close()
    if restored is None:
        raise PgxError(f"{workdir}: no {kind} checkpoint; was the run started?")
    step, state, _ = restored
    shapes = jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), x.dtype), inputs)
    return Run(os.path.abspath(workdir), config, predictor, state, step, kind, shapes)


def check_same_config(config: ml_collections.ConfigDict, workdir: str) -> None:
    """PgxError naming the first field where `config` differs from the one `workdir` was run
    with, so a resumed or finished run never continues (or reports) under another config."""
    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.exists(path):
        return
    with open(path) as f:
        saved = _flatten(json.load(f))
    wanted = _flatten(json.loads(config.to_json_best_effort()))
    for field in sorted(saved.keys() | wanted.keys()):
        if saved.get(field, "<absent>") != wanted.get(field, "<absent>"):
            raise PgxError(
                f"{workdir} was run with another config: {field} is "
                f"{saved.get(field, '<absent>')!r} there, {wanted.get(field, '<absent>')!r} "
                "here; use a new --workdir, or the run's own config.json"
            )


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
