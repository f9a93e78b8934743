"""iDeepE-style RBP binding model (Pan & Shen 2018): a global and a local CNN, averaged.

The global branch reads the whole sequence (padded to the longest); the local branch reads
fixed windows (101 nt overlapping by 20, as iDeepE) with shared weights and keeps each filter's
best window. Like iDeepE, the prediction is the mean of the two branches' probabilities.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from pgx_jax.models.layers import OutputHead, global_max_pool


class SequenceCNN(nn.Module):
    """Convolution, ReLU, max pooling, global max over the real positions, dense: [B, L, C]
    one-hot to a [B, hidden] representation."""

    num_filters: int
    filter_width: int
    pool_size: int
    hidden: int
    dropout_rate: float
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, train: bool = False) -> jax.Array:
        h = nn.Conv(self.num_filters, (self.filter_width,), padding="SAME", dtype=self.dtype)(x)
        h = nn.relu(h)
        length = (h.shape[1] // self.pool_size) * self.pool_size
        h = nn.max_pool(h[:, :length], window_shape=(self.pool_size,), strides=(self.pool_size,))
        pooled_mask = mask[:, :length].reshape(mask.shape[0], -1, self.pool_size).any(-1)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(global_max_pool(h, pooled_mask))
        h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype)(h))
        return nn.Dropout(self.dropout_rate, deterministic=not train)(h)


def windows(x: jax.Array, mask: jax.Array, size: int, stride: int) -> tuple[jax.Array, jax.Array]:
    """Overlapping windows [B, N, size, C] of x [B, L, C] (zero-padded at the end) and their
    masks [B, N, size]; N covers every position at least once."""
    length = x.shape[1]
    count = max(-(-(length - size) // stride), 0) + 1
    padded = (count - 1) * stride + size
    x = jnp.pad(x, ((0, 0), (0, padded - length), (0, 0)))
    mask = jnp.pad(mask, ((0, 0), (0, padded - length)))
    index = np.arange(count)[:, None] * stride + np.arange(size)[None, :]
    return x[:, index], mask[:, index]


def _mean_probability_logit(a: jax.Array, b: jax.Array) -> jax.Array:
    """logit((sigmoid(a) + sigmoid(b)) / 2), computed in log space."""
    log_p = jnp.logaddexp(jax.nn.log_sigmoid(a), jax.nn.log_sigmoid(b))
    log_q = jnp.logaddexp(jax.nn.log_sigmoid(-a), jax.nn.log_sigmoid(-b))
    return log_p - log_q


class IDeepE(nn.Module):
    """One-hot RNA [B, L, C] (C = 4, or 5 with a viewpoint channel) to a binding logit [B].

    `branches` picks "global", "local" or both (the iDeepE ensemble).
    """

    num_filters: int = 32
    filter_width: int = 10
    pool_size: int = 3
    hidden: int = 64
    dropout_rate: float = 0.25
    window: int = 101
    window_stride: int = 81
    branches: tuple[str, ...] = ("global", "local")
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        unknown = set(self.branches) - {"global", "local"}
        if unknown or not self.branches:
            raise ValueError(f"branches must be 'global' and/or 'local', got {self.branches}")
        if mask is None:
            mask = jnp.ones(x.shape[:2], bool)
        x = x * mask[..., None].astype(x.dtype)
        cnn = dict(
            num_filters=self.num_filters,
            filter_width=self.filter_width,
            pool_size=self.pool_size,
            hidden=self.hidden,
            dropout_rate=self.dropout_rate,
            dtype=self.dtype,
        )
        logits = []
        if "global" in self.branches:
            h = SequenceCNN(**cnn, name="global_cnn")(x, mask, train)
            logits.append(OutputHead("binary", dtype=self.dtype, name="global_head")(h))
        if "local" in self.branches:
            xw, mw = windows(x, mask, self.window, self.window_stride)
            batch, count = xw.shape[:2]
            h = SequenceCNN(**cnn, name="local_cnn")(
                xw.reshape(batch * count, *xw.shape[2:]), mw.reshape(batch * count, -1), train
            )
            h = global_max_pool(h.reshape(batch, count, -1), mw.any(-1))
            logits.append(OutputHead("binary", dtype=self.dtype, name="local_head")(h))
        return logits[0] if len(logits) == 1 else _mean_probability_logit(*logits)
