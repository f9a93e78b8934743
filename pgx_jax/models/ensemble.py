"""Ensembles trained in one program: members stacked with `nn.vmap` over their parameters.

Every member is the same registered model with its own parameters (its own initialisation,
as if from its own seed) and its own dropout masks; members may also differ by kernel size.
Members sharing a kernel size form one vmapped stack, so a single jitted step computes and
updates them all, as iEnhancer-ECNN's ensemble of CNNs without a Python loop of trainings.
"""

from collections import Counter
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.core import FrozenDict


class _Member(nn.Module):
    """One member: the registered model `options["name"]`; `train` is static under vmap."""

    options: Mapping[str, Any]
    train: bool

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None) -> jax.Array:
        from pgx_jax.models import create_model

        return create_model(**self.options)(x, mask, train=self.train)


class Ensemble(nn.Module):
    """Binary-output members averaged in probability.

    member: the member model's config (`name` plus its fields). kernel_sizes: one entry per
    member, written into the member's `kernel_field`. Training returns each member's logit
    [B, M], so each member learns from its own loss (labels [B, 1] broadcast over members);
    evaluation returns the logit of the members' mean probability, [B, 1].
    """

    member: Mapping[str, Any]
    kernel_sizes: tuple[int, ...] = (9,)
    kernel_field: str = "kernel_size"

    def __post_init__(self):
        # A frozen member config keeps the module hashable (jit treats apply_fn as static).
        object.__setattr__(self, "member", FrozenDict(self.member))
        super().__post_init__()

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        logits = []
        for size, count in sorted(Counter(self.kernel_sizes).items()):
            stack = nn.vmap(
                _Member,
                variable_axes={"params": 0, "batch_stats": 0},
                split_rngs={"params": True, "dropout": True},
                in_axes=(None, None),
                out_axes=-1,
                axis_size=count,
            )
            options = FrozenDict({**self.member, self.kernel_field: size})
            logits.append(stack(options, train, name=f"{self.kernel_field}{size}")(x, mask))
        logits = jnp.concatenate(logits, axis=-1)
        if train:
            return logits
        probability = jnp.clip(jnp.mean(nn.sigmoid(logits), axis=-1, keepdims=True), 1e-7, 1 - 1e-7)
        return jnp.log(probability) - jnp.log1p(-probability)
