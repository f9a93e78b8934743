"""Pure train and eval steps; `loop.py` jits them with shardings and donated state.

The `members_` steps run several runs at once (sweep points that differ only in seed): the
state carries a leading member axis and each step is the one-run step under `jax.vmap`.
"""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from pgx_jax.train import losses
from pgx_jax.train.state import TrainState


def _variables(state: TrainState, params) -> dict:
    if state.batch_stats:
        return {"params": params, "batch_stats": state.batch_stats}
    return {"params": params}


def train_step(
    state: TrainState,
    batch: dict,
    *,
    task: str,
    class_weight: tuple[float, ...] | None = None,
    focal: tuple[float, float] | None = None,
) -> tuple[TrainState, dict]:
    """One optimiser update on a global batch; returns the new state and scalar metrics.
    `class_weight` scales each example's loss by the weight of its class; `focal` (gamma,
    alpha) trains with the focal loss."""
    weight = losses.with_class_weights(batch["weight"], batch["label"], class_weight)
    dropout_key = jax.random.fold_in(state.dropout_key, state.step)

    def loss_fn(params):
        outputs, updates = state.apply_fn(
            _variables(state, params),
            **batch["inputs"],
            train=True,
            rngs={"dropout": dropout_key},
            mutable=["batch_stats"],
        )
        loss = losses.weighted_loss(task, outputs, batch["label"], weight, focal)
        return loss, updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    state = state.apply_gradients(
        grads=grads, batch_stats=updates.get("batch_stats", state.batch_stats)
    )
    return state.update_average(), {"loss": loss, "grad_norm": optax.tree.norm(grads)}


def eval_step(state: TrainState, batch: dict, *, task: str) -> dict:
    """Raw outputs (logits for classification), predictions (probabilities or values) and
    per-example losses for one global batch, from the evaluation parameters (the moving average
    where the state keeps one)."""
    outputs = state.apply_fn(_variables(state, state.eval_params), **batch["inputs"], train=False)
    per_example = losses.per_example_loss(task, outputs, batch["label"])
    return {
        "output": outputs,
        "prediction": losses.link(task, outputs),
        "loss": per_example.astype(jnp.float32),
    }


def members_train_step(
    state: TrainState,
    batch: dict,
    active: jax.Array,
    values: dict | None = None,
    *,
    task: str,
    class_weight: tuple[float, ...] | None = None,
    focal: tuple[float, float] | None = None,
    make_tx: Callable[[dict], optax.GradientTransformation] | None = None,
) -> tuple[TrainState, dict]:
    """`train_step` of every member on its own batch (leading member axis of state and batch);
    members with `active` False (stopped early) keep their state unchanged. A population also
    gives each member's optimizer `values` (arrays with the member axis): member k updates with
    `make_tx(values of k)`, a transform of the state's own structure."""
    one = functools.partial(train_step, task=task, class_weight=class_weight, focal=focal)

    def step(state, batch, values):
        if values is None:
            return one(state, batch)
        updated, metrics = one(state.replace(tx=make_tx(values)), batch)
        return updated.replace(tx=state.tx), metrics

    updated, metrics = jax.vmap(step)(state, batch, values)

    def keep_stopped(new: jax.Array, old: jax.Array) -> jax.Array:
        return jnp.where(active.reshape(active.shape + (1,) * (new.ndim - 1)), new, old)

    return jax.tree.map(keep_stopped, updated, state), metrics


def members_eval_step(state: TrainState, batch: dict, *, task: str) -> dict:
    """`eval_step` of every member (leading member axis of the state) on one shared batch."""
    return jax.vmap(functools.partial(eval_step, task=task), in_axes=(0, None))(state, batch)
