"""The train state: parameters, batch statistics, optimiser state and the dropout key."""

from typing import Any

import flax.linen as nn
import jax
import optax
from flax import struct
from flax.training import train_state


class TrainState(train_state.TrainState):
    """Flax's TrainState plus BatchNorm statistics, a per-run dropout key (uint32[2]) and, with
    `ema_decay` > 0, an exponential moving average of the parameters (Polyak averaging)."""

    batch_stats: Any = None
    dropout_key: jax.Array | None = None
    ema_params: Any = None
    ema_decay: float = struct.field(pytree_node=False, default=0.0)

    @property
    def eval_params(self) -> Any:
        """The parameters to evaluate and predict with: the moving average where kept."""
        return self.params if self.ema_params is None else self.ema_params

    def update_ema(self) -> "TrainState":
        """Fold the current parameters into the average (after an update at `self.step`).

        The decay ramps up as min(decay, (1 + t) / (10 + t)), so early averages are not
        dominated by the initial parameters.
        """
        if self.ema_params is None:
            return self
        decay = jax.numpy.minimum(self.ema_decay, (1.0 + self.step) / (10.0 + self.step))
        return self.replace(
            ema_params=optax.incremental_update(self.params, self.ema_params, 1.0 - decay)
        )


def create_train_state(
    model: nn.Module,
    tx: optax.GradientTransformation,
    example_inputs: dict,
    seed: int,
    ema_decay: float = 0.0,
) -> TrainState:
    """Initialise parameters from `seed`; the dropout key is derived from the same seed.
    With `ema_decay` > 0 the state also keeps a moving average of the parameters."""
    init_key, dropout_key = jax.random.split(jax.random.PRNGKey(seed))
    variables = model.init(init_key, **example_inputs, train=False)
    return TrainState.create(
        apply_fn=model.apply,
        params=variables["params"],
        tx=tx,
        batch_stats=variables.get("batch_stats", {}),
        dropout_key=dropout_key,
        ema_params=variables["params"] if ema_decay > 0 else None,
        ema_decay=ema_decay,
    )
