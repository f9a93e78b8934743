"""CNNProm (Umarov & Solovyev 2017): convolution layers over one-hot DNA, dense, dropout."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import OneHotConv, dense_head, kmer_features


class CNNProm(nn.Module):
    """`conv_layers` is ((filters, width, pool), ...); CNNProm used one layer of 200 filters of
    width 21 with pooling 2 for bacteria and TATA promoters, and more layers for non-TATA. The
    pooled feature map is flattened (positions matter in a promoter) into a dense layer;
    `kmer_sizes` adds the input's k-mer frequencies for each k (scaled by 4**k) beside it."""

    conv_layers: tuple[tuple[int, int, int], ...] = ((200, 21, 2),)
    kmer_sizes: tuple[int, ...] = ()
    hidden: int = 128
    dropout_rate: float = 0.5
    task: str = "binary"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        h = x
        for index, (filters, width, pool) in enumerate(self.conv_layers):
            if index == 0:
                h = OneHotConv(filters, width, dtype=self.dtype, name="conv0")(h, mask)
            else:
                h = nn.Conv(filters, (width,), padding="VALID", dtype=self.dtype)(h)
            h = nn.relu(h)
            if pool > 1:
                h = nn.max_pool(h, window_shape=(pool,), strides=(pool,))
        h = h.reshape(h.shape[0], -1)
        if self.kmer_sizes:
            h = jnp.concatenate([h, kmer_features(x, self.kmer_sizes, mask)], -1)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return dense_head(self, h, train)
