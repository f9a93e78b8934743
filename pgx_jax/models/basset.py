"""Genome-scale multi-task CNNs: Basset (Kelley et al. 2016) and DeepSEA (Zhou & Troyanskaya
2015), one logit per task (a peak file's cell type or assay) of a DNA window.

Basset: 300 filters of width 19, then 200 of width 11 and 200 of width 7, each with batch
norm, ReLU and max pooling (3, 4, 4); two dense layers of 1000 with dropout 0.3. DeepSEA:
320, 480 and 960 filters of width 8, ReLU, pooling 4 after the first two, dropout 0.2, 0.2,
0.5; a dense layer of 925. The first layer is a `OneHotConv`, so its filters read as motifs.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import ConvBlock, OneHotConv, OutputHead


class Basset(nn.Module):
    num_tasks: int = 164
    filters: tuple[int, ...] = (300, 200, 200)
    widths: tuple[int, ...] = (19, 11, 7)
    pools: tuple[int, ...] = (3, 4, 4)
    hidden: tuple[int, ...] = (1000, 1000)
    dropout_rate: float = 0.3
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        h = OneHotConv(
            self.filters[0], self.widths[0], padding="SAME", dtype=self.dtype, name="motif_conv"
        )(x, mask)
        h = nn.BatchNorm(use_running_average=not train, dtype=self.dtype)(h)
        h = nn.max_pool(nn.relu(h), window_shape=(self.pools[0],), strides=(self.pools[0],))
        for features, width, pool in zip(
            self.filters[1:], self.widths[1:], self.pools[1:], strict=True
        ):
            block = ConvBlock(features, width, pool_size=pool, batch_norm=True, dtype=self.dtype)
            h = block(h, train)
        h = h.reshape(h.shape[0], -1)
        for i, width in enumerate(self.hidden):
            h = nn.relu(nn.Dense(width, dtype=self.dtype, name=f"dense{i}")(h))
            h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return OutputHead("multilabel", self.num_tasks, dtype=self.dtype, name="head")(h)


class DeepSEA(nn.Module):
    num_tasks: int = 919
    filters: tuple[int, ...] = (320, 480, 960)
    width: int = 8
    pool: int = 4
    dropout_rates: tuple[float, ...] = (0.2, 0.2, 0.5)
    hidden: int = 925
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        h = OneHotConv(self.filters[0], self.width, dtype=self.dtype, name="motif_conv")(x, mask)
        h = nn.max_pool(nn.relu(h), window_shape=(self.pool,), strides=(self.pool,))
        h = nn.Dropout(self.dropout_rates[0], deterministic=not train)(h)
        last = len(self.filters) - 1
        for i in range(1, len(self.filters)):
            block = ConvBlock(
                self.filters[i],
                self.width,
                pool_size=self.pool if i < last else 1,
                dropout_rate=self.dropout_rates[i],
                padding="VALID",
                dtype=self.dtype,
            )
            h = block(h, train)
        h = h.reshape(h.shape[0], -1)
        h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype, name="hidden")(h))
        return OutputHead("multilabel", self.num_tasks, dtype=self.dtype, name="head")(h)
