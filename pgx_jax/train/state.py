"""The train state: parameters, batch statistics, optimiser state and the dropout key."""

from typing import Any

import flax.linen as nn
import jax
import optax
from flax.training import train_state


class TrainState(train_state.TrainState):
    """Flax's TrainState plus BatchNorm statistics and a per-run dropout key (uint32[2])."""

    batch_stats: Any = None
    dropout_key: jax.Array | None = None


def create_train_state(
    model: nn.Module, tx: optax.GradientTransformation, example_inputs: dict, seed: int
) -> TrainState:
    """Initialise parameters from `seed`; the dropout key is derived from the same seed."""
    init_key, dropout_key = jax.random.split(jax.random.PRNGKey(seed))
    variables = model.init(init_key, **example_inputs, train=False)
    return TrainState.create(
        apply_fn=model.apply,
        params=variables["params"],
        tx=tx,
        batch_stats=variables.get("batch_stats", {}),
        dropout_key=dropout_key,
    )
