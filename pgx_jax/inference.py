"""The one prediction function: a model's outputs on every record of a stream of batches.

Training evaluation, `after_fit`, `pgx predict`, variant scoring and the DDI report all call
`predict`: each batch is padded to one fixed shape (padding rows weighted 0), put on the mesh
as a global array, run through the jitted eval step (`pgx_jax.train.steps.eval_step`: raw
output, linked prediction, per-example loss), gathered to the host, and the padding dropped.
"""

import dataclasses
from collections.abc import Callable, Iterable

import jax
import numpy as np

from pgx_jax import parallel
from pgx_jax.data.pipeline import pad_to
from pgx_jax.train import steps


@dataclasses.dataclass(frozen=True)
class Predictions:
    """Per record, in input order: label, prediction (probabilities or values), raw output
    (logits for classification), weight and per-example loss. With several members (a stacked
    state), `predictions`, `outputs` and `losses` have a leading member axis."""

    labels: np.ndarray
    predictions: np.ndarray
    outputs: np.ndarray
    weights: np.ndarray
    losses: np.ndarray

    def mean_loss(self) -> np.ndarray:
        """The weighted mean loss per member of predictions with a leading member axis (as
        `pgx_jax.train.evaluation.split_predictions` gives); entries weighted 0 do not count."""
        losses = self.losses.astype(np.float64)
        weight = _broadcast(self.weights, losses.shape[1:])
        total = np.where(weight > 0, losses * weight, 0.0)
        return total.reshape(len(losses), -1).sum(axis=1) / max(float(np.sum(weight)), 1.0)


def _broadcast(weight: np.ndarray, shape: tuple) -> np.ndarray:
    return np.broadcast_to(weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim)), shape)


def eval_function(task: str, mesh, state_sharding=None, stacked: bool = False) -> Callable:
    """The jitted eval step (`members_eval_step` for a `stacked` state): batch split over the
    mesh's `data` axis, the state as `state_sharding` says (default: replicated)."""
    step = steps.members_eval_step if stacked else steps.eval_step
    return jax.jit(
        lambda state, batch: step(state, batch, task=task),
        in_shardings=(state_sharding or parallel.replicated(mesh), parallel.data_sharded(mesh)),
        out_shardings=parallel.data_sharded(mesh, stacked),
    )


def predict(
    eval_fn: Callable,
    state,
    batches: Iterable[dict],
    batch_size: int,
    mesh,
    stacked: bool = False,
    progress=None,
) -> Predictions | None:
    """`eval_fn(state, batch)` over every record of `batches` (encoded local batches of at most
    `batch_size` / processes rows, "weight" optional), in order; padding rows and records
    whose weight is 0 throughout are dropped; None without a batch. `progress` (a tqdm bar)
    counts records."""
    rows = batch_size // jax.process_count()
    parts = []
    for local in batches:
        if "weight" not in local:
            local = {**local, "weight": np.ones(len(local["label"]), np.float32)}
        local = {k: local[k] for k in ("inputs", "label", "weight")}
        batch = parallel.to_global(pad_to(local, rows), mesh)
        out = parallel.to_host(eval_fn(state, batch))
        label, weight = parallel.to_host((batch["label"], batch["weight"]))
        keep = (weight if weight.ndim == 1 else weight.max(axis=1)) > 0
        axis = 1 if stacked else 0
        kept = {k: np.compress(keep, v, axis=axis) for k, v in out.items()}
        parts.append((label[keep], weight[keep], kept))
        if progress is not None:
            progress.update(int(keep.sum()))
    if not parts:
        return None
    axis = 1 if stacked else 0
    return Predictions(
        labels=np.concatenate([p[0] for p in parts]),
        predictions=np.concatenate([p[2]["prediction"] for p in parts], axis=axis),
        outputs=np.concatenate([p[2]["output"] for p in parts], axis=axis),
        weights=np.concatenate([p[1] for p in parts]),
        losses=np.concatenate([p[2]["loss"] for p in parts], axis=axis),
    )
