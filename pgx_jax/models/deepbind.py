"""DeepBind (Alipanahi et al., 2015): convolution, rectification, global pooling, dense, dropout."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import OneHotConv, dense_head, global_pool, output_mask


class DeepBind(nn.Module):
    """One convolutional layer of motif detectors over one-hot DNA/RNA, pooled over positions.

    `pooling="max"` keeps each filter's best site; `"max_avg"` adds the mean, as DeepBind's
    calibration allowed. `hidden=0` connects the pooled features straight to the output.
    """

    num_filters: int = 16
    filter_width: int = 24
    hidden: int = 32
    dropout_rate: float = 0.5
    pooling: str = "max"
    reverse_complement: bool = False
    task: str = "binary"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None, train: bool = False):
        h = OneHotConv(
            self.num_filters,
            self.filter_width,
            reverse_complement=self.reverse_complement,
            dtype=self.dtype,
            name="motif_conv",
        )(x, mask)
        h = nn.relu(h)
        pooled_mask = None if mask is None else output_mask(mask, self.filter_width, "VALID")
        h = global_pool(h, pooled_mask, self.pooling)
        return dense_head(self, h, train)
