"""Variant callers over read pileups: DeepVariant's image CNN and NeuSomatic's residual net.

`PileupCNN` (after Poplin et al. 2018, DeepVariant, whose network is an Inception v3 over
pileup images): 3x3 convolutions with batch normalisation and 2x2 max-pooling over the
[height (reads), width (positions), 6 channels] image, global average pooling, dense, and one
logit per genotype (hom-ref, het, hom-alt). The convolutions have no bias (batch
normalisation follows; a bias there gets no gradient, and Adam would move it on noise), and
the running statistics follow the batches with momentum 0.9, so short CPU runs evaluate
with statistics of their own training.

`SomaticResNet` (after Sahraeian et al. 2019, NeuSomatic): a convolution, then residual
blocks (two convolutions and a skip, each block followed by pooling along the positions) over
the per-position base frequencies of tumour and normal beside the reference [width, 18],
flattened (as NeuSomatic's fully connected layers read them: a global pool would lose which
column is the candidate's), and one logit per class of type and length (none, SNV,
insertion of 1, 2, 3+, deletion of 1, 2, 3+ bases). NeuSomatic convolves 2-D over
(alleles x positions) with channels for each summary; here the alleles are channels of a 1-D
convolution along the positions.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import dense_head


class PileupCNN(nn.Module):
    """DeepVariant-style genotype classifier over pileup images [B, H, W, 6]."""

    filters: Sequence[int] = (32, 64, 128)
    hidden: int = 128
    dropout_rate: float = 0.2
    task: str = "multiclass"
    num_outputs: int = 3
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, pileup: jax.Array, train: bool = False) -> jax.Array:
        h = pileup.astype(self.dtype or jnp.float32)
        for k, width in enumerate(self.filters):
            h = nn.Conv(width, (3, 3), use_bias=False, dtype=self.dtype, name=f"conv{k}")(h)
            h = nn.BatchNorm(
                use_running_average=not train, momentum=0.9, dtype=self.dtype, name=f"norm{k}"
            )(h)
            h = nn.relu(h)
            if k < len(self.filters) - 1:
                h = nn.max_pool(h, window_shape=(2, 2), strides=(2, 2), padding="SAME")
        return dense_head(self, h.mean(axis=(1, 2)), train)


class SomaticResNet(nn.Module):
    """NeuSomatic-style residual network over base-frequency summaries [B, W, C]."""

    filters: int = 64
    blocks: int = 3
    kernel_size: int = 3
    hidden: int = 128
    dropout_rate: float = 0.2
    task: str = "multiclass"
    num_outputs: int = 8
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, frequencies: jax.Array, train: bool = False) -> jax.Array:
        h = frequencies.astype(self.dtype or jnp.float32)
        h = nn.relu(nn.Conv(self.filters, (self.kernel_size,), dtype=self.dtype, name="stem")(h))
        for k in range(self.blocks):
            y = nn.relu(
                nn.Conv(self.filters, (self.kernel_size,), dtype=self.dtype, name=f"res{k}_a")(h)
            )
            y = nn.Conv(self.filters, (self.kernel_size,), dtype=self.dtype, name=f"res{k}_b")(y)
            h = nn.relu(h + y)
            if h.shape[1] > 4:
                h = nn.max_pool(h, window_shape=(2,), strides=(2,), padding="SAME")
        return dense_head(self, h.reshape(h.shape[0], -1), train)  # where, not only what
