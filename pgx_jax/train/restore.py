"""Rebuild a finished run from its directory: config, experiment and best-or-latest state."""

import dataclasses
import json
import os

import jax
import ml_collections
import numpy as np

from pgx_jax.checkpoint import Checkpoints
from pgx_jax.data import pipeline
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, load_experiment_module
from pgx_jax.train.loop import _with_compute_dtype
from pgx_jax.train.optim import make_optimizer
from pgx_jax.train.state import TrainState, create_train_state


@dataclasses.dataclass(frozen=True)
class Run:
    """A finished run: its directory, config, experiment, restored state and checkpoint."""

    workdir: str
    config: ml_collections.ConfigDict
    experiment: Experiment
    state: TrainState
    step: int
    kind: str

    @property
    def variables(self) -> dict:
        """The model's variables for `model.apply`."""
        variables = {"params": self.state.eval_params}
        if self.state.batch_stats:
            variables["batch_stats"] = self.state.batch_stats
        return variables


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The resolved config a run wrote to `workdir/config.json`."""
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        raise PgxError(
            f"{workdir}: no config.json (not a run directory; a protocol run keeps one per "
            "field=value subdirectory)"
        )
    with open(path) as f:
        return ml_collections.ConfigDict(json.load(f))


def checkpoint_kind(workdir: str) -> str:
    """'best' if the run saved a best checkpoint, else 'latest'."""
    best = os.path.join(workdir, "checkpoints", "best")
    steps = os.listdir(best) if os.path.isdir(best) else []
    return "best" if any(name.isdigit() for name in steps) else "latest"


def restore_run(workdir: str, kind: str | None = None) -> Run:
    """Rebuild the experiment of `workdir` and restore its `kind` (default best-or-latest)."""
    config = load_config(workdir)
    experiment = load_experiment_module(config.experiment).build(config)
    experiment = _with_compute_dtype(experiment, config.train.get("compute_dtype"))
    split = experiment.splits["train"]
    example = next(pipeline.eval_batches(split, experiment.encode, config.data.batch_size))
    tx = make_optimizer(config.optimizer, 1)
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    target = jax.tree.map(
        lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=device),
        jax.eval_shape(
            lambda inputs: create_train_state(
                experiment.model, tx, inputs, config.seed, config.train.get("ema_decay", 0.0)
            ),
            jax.tree.map(np.asarray, example["inputs"]),
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
    return Run(os.path.abspath(workdir), config, experiment, state, step, kind)
