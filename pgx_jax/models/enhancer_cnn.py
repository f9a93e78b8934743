"""A small enhancer CNN in the style of iEnhancer-ECNN's members (Nguyen et al. 2019)."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import OneHotConv, dense_head, global_pool, kmer_features


class EnhancerCNN(nn.Module):
    """Two convolutions (batch norm, ReLU, max pooling, dropout) over one-hot DNA, global max
    pooling, a dense layer and the output head; both convolutions share `kernel_size`.
    `reverse_complement` shares the first layer's filters across both strands (enhancers act
    on either strand). `pooling="max_avg"` adds the mean of the second layer's activations
    beside their maximum: composition (GC, k-mer frequencies, what ECNN's k-mer descriptors
    carry) as well as the strongest motif match. `kmer_sizes` gives the dense layer the input's
    k-mer frequencies for each k beside the pooled filters, as ECNN fed its k-mer descriptors
    (scaled by 4**k: observed over expected under uniform composition, so each k has mean 1)."""

    num_filters: int = 64
    kernel_size: int = 9
    pool_size: int = 2
    hidden: int = 32
    conv_dropout: float = 0.2
    pooling: str = "max"
    kmer_sizes: tuple[int, ...] = ()
    reverse_complement: bool = False
    dropout_rate: float = 0.5
    task: str = "binary"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        h = OneHotConv(
            self.num_filters,
            self.kernel_size,
            padding="SAME",
            reverse_complement=self.reverse_complement,
            dtype=self.dtype,
            name="conv1",
        )(x, mask)
        h = nn.BatchNorm(use_running_average=not train, dtype=self.dtype, name="norm1")(h)
        h = nn.max_pool(nn.relu(h), window_shape=(self.pool_size,), strides=(self.pool_size,))
        h = nn.Dropout(self.conv_dropout, deterministic=not train)(h)
        h = nn.Conv(self.num_filters, (self.kernel_size,), padding="SAME", dtype=self.dtype)(h)
        h = nn.BatchNorm(use_running_average=not train, dtype=self.dtype, name="norm2")(h)
        h = global_pool(nn.relu(h), pooling=self.pooling)
        h = nn.Dropout(self.conv_dropout, deterministic=not train)(h)
        if self.kmer_sizes:
            h = jnp.concatenate([h, kmer_features(x, self.kmer_sizes, mask)], -1)
        return dense_head(self, h, train)
