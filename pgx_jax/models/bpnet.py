"""BPNet (Avsec et al. 2021): base-resolution coverage profiles and total counts of a DNA
window, from a dilated residual convolution tower.

A first convolution (`first_width`, a `OneHotConv` so its filters read as motifs), then
`layers` residual convolutions of width 3 with dilation 2, 4, 8, ...; a profile head (one
convolution of `profile_width` per task, the central `profile_length` positions kept) and a
count head (the tower's mean over positions, one dense output per task: log(1 + total count)).

The output is one array [B, profile_length + 1, T]: rows 0..P-1 the profile logits, row P
the log count, which the "profile" task's loss and link read (`pgx_jax.train.losses`).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import OneHotConv


class BPNet(nn.Module):
    num_tasks: int = 1
    filters: int = 64
    layers: int = 8
    first_width: int = 21
    profile_width: int = 75
    profile_length: int = 1000
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        length = x.shape[-2]
        if self.profile_length > length:
            raise ValueError(
                f"BPNet: profile_length {self.profile_length} is longer than the input {length}"
            )
        h = nn.relu(
            OneHotConv(
                self.filters, self.first_width, padding="SAME", dtype=self.dtype, name="motif_conv"
            )(x, mask)
        )
        for i in range(1, self.layers + 1):
            conv = nn.Conv(
                self.filters, (3,), kernel_dilation=(2**i,), padding="SAME", dtype=self.dtype
            )
            h = h + nn.relu(conv(h))
        start = (length - self.profile_length) // 2
        profile = nn.Conv(
            self.num_tasks, (self.profile_width,), padding="SAME", dtype=self.dtype, name="profile"
        )(h)[:, start : start + self.profile_length]
        counts = nn.Dense(self.num_tasks, dtype=self.dtype, name="counts")(jnp.mean(h, axis=1))
        return jnp.concatenate([profile, counts[:, None, :]], axis=1).astype(jnp.float32)


class CountOffset(nn.Module):
    """A count model's log counts shifted by fixed per-task `offsets` (the training windows'
    mean log(1 + count)): the head starts at the data's scale instead of log counts near 0,
    which Adam would take thousands of steps to climb (a small Basset's count Pearson was
    0.08 after 300 steps without it). Shifts the outputs [B, T] of a "counts" model or the
    last row of a "profile" model's [B, P + 1, T]."""

    model: nn.Module
    offsets: tuple[float, ...]
    profile: bool = False

    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        out = self.model(x, mask, train=train)
        shift = jnp.asarray(self.offsets, out.dtype)
        if self.profile:
            return out.at[:, -1].add(shift)
        return out + shift
