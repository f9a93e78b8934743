"""The train state: parameters, batch statistics, optimiser state and the dropout key; with
`ema_decay` > 0 also a moving average of the parameters."""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.training import train_state


class TrainState(train_state.TrainState):
    """Flax's TrainState plus BatchNorm statistics and a per-run dropout key (uint32[2])."""

    batch_stats: Any = None
    dropout_key: jax.Array | None = None

    @property
    def eval_params(self) -> Any:
        """The parameters to evaluate, test and predict with."""
        return self.params

    @property
    def variables(self) -> dict:
        """The model's variables for `model.apply` at evaluation: the evaluation parameters
        and, if the model keeps them, its batch statistics."""
        variables = {"params": self.eval_params}
        if self.batch_stats:
            variables["batch_stats"] = self.batch_stats
        return variables

    def update_average(self) -> "TrainState":
        """The state after folding the current parameters into the average (none here)."""
        return self


class AveragedTrainState(TrainState):
    """A TrainState that also keeps an exponential moving average of the parameters (Polyak
    averaging) and evaluates with it. A separate class, so that runs without an average keep
    the checkpoint layout of runs made before averaging existed."""

    ema_params: Any = None
    ema_decay: float = struct.field(pytree_node=False, default=0.999)

    @property
    def eval_params(self) -> Any:
        return self.ema_params

    def update_average(self) -> "AveragedTrainState":
        """Fold the parameters of step t (after its update) in with weight 1 - decay_t, where
        decay_t = min(ema_decay, (1 + t) / (10 + t)): early averages are not dominated by the
        initial parameters."""
        decay = jnp.minimum(self.ema_decay, (1.0 + self.step) / (10.0 + self.step))
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
    With `ema_decay` > 0, an `AveragedTrainState` whose average starts at the initial values."""
    init_key, dropout_key = jax.random.split(jax.random.PRNGKey(seed))
    variables = model.init(init_key, **example_inputs, train=False)
    fields = dict(
        apply_fn=model.apply,
        params=variables["params"],
        tx=tx,
        batch_stats=variables.get("batch_stats", {}),
        dropout_key=dropout_key,
    )
    if ema_decay > 0:
        return AveragedTrainState.create(
            **fields, ema_params=variables["params"], ema_decay=ema_decay
        )
    return TrainState.create(**fields)
