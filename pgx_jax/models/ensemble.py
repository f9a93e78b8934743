"""Ensembles trained in one program: members stacked with `nn.vmap` over their parameters.

Every member is the same registered model with its own parameters (its own initialisation,
as if from its own seed) and its own dropout masks; members may also differ by kernel size.
Members sharing a kernel size (or `num_members` identical ones) form one vmapped stack, so a
single jitted step computes and updates them all, as iEnhancer-ECNN's ensemble of CNNs without
a Python loop of trainings. `unroll=True` computes a stack's members one after another in the
same jitted step instead (an unrolled `nn.scan`, the same parameter layout): members that embed
their own tokens (the text CNN) make vmapped convolutions grouped ones, whose weight gradients
XLA:CPU runs as dilated convolutions (a step 24x slower, `benchmarks/ensemble_stack.py`).
A stack of one member (each kernel size once) is computed as is either way: a scan of length
one trained 3.6x slower than the plain member on XLA:CPU (`benchmarks/ensemble_training.py`).
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
    def __call__(self, args: tuple, inputs: Mapping[str, jax.Array]) -> jax.Array:
        from pgx_jax.models import create_model

        return create_model(**self.options)(*args, **inputs, train=self.train)


class _ScannedMember(_Member):
    """`_Member` as an `nn.scan` body: the carry passes through unchanged."""

    @nn.compact
    def __call__(self, carry: None, args: tuple, inputs: Mapping[str, jax.Array]):
        from pgx_jax.models import create_model

        return carry, create_model(**self.options)(*args, **inputs, train=self.train)


class Ensemble(nn.Module):
    """Binary or multiclass members averaged in probability.

    member: the member model's config (`name` plus its fields). kernel_sizes: one entry per
    member, written into the member's `kernel_field`; or, without them, `num_members` members
    with the member's config as it is. Training returns each member's logits, [B, M] or
    [B, M, C], so each member learns from its own loss (labels [B], broadcast over members
    by `losses.per_example_loss`); evaluation returns the logit of the members' mean
    probability, [B, 1], or the log of their mean class probabilities, [B, C]. The inputs are
    the member's own.
    """

    member: Mapping[str, Any]
    kernel_sizes: tuple[int, ...] = ()
    kernel_field: str = "kernel_size"
    num_members: int = 0
    unroll: bool = False

    def __post_init__(self):
        # A frozen member config keeps the module hashable (jit treats apply_fn as static).
        object.__setattr__(self, "member", FrozenDict(self.member))
        super().__post_init__()

    @nn.compact
    def __call__(self, *args: jax.Array | None, train: bool = False, **inputs: jax.Array):
        logits = []
        lifted = {"params": 0, "batch_stats": 0}
        split = {"params": True, "dropout": True}
        for name, options, count in self._groups():
            if self.unroll and count > 1:
                stack = nn.scan(
                    _ScannedMember,
                    variable_axes=lifted,
                    split_rngs=split,
                    in_axes=(nn.broadcast, nn.broadcast),
                    out_axes=1,
                    length=count,
                    unroll=count,
                )
                logits.append(stack(options, train, name=name)(None, args, inputs)[1])
                continue
            stack = nn.vmap(
                _Member,
                variable_axes=lifted,
                split_rngs=split,
                in_axes=(None, None),
                out_axes=1,
                axis_size=count,
            )
            logits.append(stack(options, train, name=name)(args, inputs))
        logits = jnp.concatenate(logits, axis=1)
        if train:
            return logits
        if self._member_task() == "multiclass":
            probability = jnp.mean(nn.softmax(logits, axis=-1), axis=1)
            return jnp.log(jnp.clip(probability, 1e-7, 1.0))
        probability = jnp.clip(jnp.mean(nn.sigmoid(logits), axis=1, keepdims=True), 1e-7, 1 - 1e-7)
        return jnp.log(probability) - jnp.log1p(-probability)

    def _member_task(self) -> str:
        from pgx_jax.models import MODELS

        return self.member.get("task", getattr(MODELS[self.member["name"]], "task", "binary"))

    def _groups(self) -> list[tuple[str, FrozenDict, int]]:
        """(name, member options, count) of each vmapped stack."""
        if bool(self.kernel_sizes) == (self.num_members > 0):
            raise ValueError(
                f"ensemble: give kernel_sizes (one per member) or num_members > 0, not both; "
                f"got kernel_sizes={self.kernel_sizes}, num_members={self.num_members}"
            )
        if self.num_members:
            return [("members", self.member, self.num_members)]
        return [
            (f"{self.kernel_field}{size}", FrozenDict({**self.member, self.kernel_field: size}), n)
            for size, n in sorted(Counter(self.kernel_sizes).items())
        ]
