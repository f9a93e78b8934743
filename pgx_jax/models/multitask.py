"""A multi-task accessibility model in the style of Basset / Deopen: one shared convolutional
trunk, one logit per cell type (task), trained with per-task masks for missing labels."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import ConvBlock, OneHotConv, dense_head, global_max_pool


class MultiTaskCNN(nn.Module):
    """Motif convolution, `depth - 1` further convolution blocks, global max pooling, a dense
    layer and a multi-label head with `num_tasks` logits [B, T]. `reverse_complement` scans
    both strands with the same motif filters (accessibility does not depend on strand)."""

    num_tasks: int = 4
    num_filters: int = 64
    kernel_size: int = 15
    depth: int = 2
    pool_size: int = 2
    hidden: int = 64
    dropout_rate: float = 0.3
    reverse_complement: bool = True
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        h = OneHotConv(
            self.num_filters,
            self.kernel_size,
            padding="SAME",
            reverse_complement=self.reverse_complement,
            dtype=self.dtype,
            name="motif_conv",
        )(x, mask)
        h = nn.relu(h)
        for _ in range(self.depth - 1):
            h = nn.max_pool(h, window_shape=(self.pool_size,), strides=(self.pool_size,))
            h = ConvBlock(self.num_filters, 5, dtype=self.dtype)(h, train)
        h = global_max_pool(h)
        return dense_head(self, h, train, task="multilabel", num_outputs=self.num_tasks)
