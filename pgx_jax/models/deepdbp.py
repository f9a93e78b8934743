"""DeepDBP-CNN-style classifier (Shadab et al. 2020): embedded protein tokens, convolution,
global max pooling and a dense layer, telling DNA-binding proteins from others."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import EmbeddingConv, dense_head, global_pool, kmer_features


class DeepDBP(nn.Module):
    """Protein tokens [B, L] to a DNA-binding logit [B].

    One `EmbeddingConv` per kernel size (motifs of several lengths), each rectified and
    max-pooled over the real positions (`pooling="max_avg"` adds the mean, which carries
    composition such as the lysine/arginine richness of DNA-binding surfaces), concatenated,
    then dense, dropout and the output. `kmer_sizes` adds the chain's k-mer frequencies over
    the 20 standard residues (amino-acid and dipeptide composition for 1 and 2), as
    composition-based DNA-binding predictors use, beside the pooled filters.
    """

    vocab_size: int = 22
    embed_dim: int = 32
    num_filters: int = 64
    kernel_sizes: tuple[int, ...] = (3, 5, 9)
    hidden: int = 64
    pooling: str = "max_avg"
    kmer_sizes: tuple[int, ...] = ()
    dropout_rate: float = 0.5
    task: str = "binary"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, tokens: jax.Array, mask: jax.Array | None = None, train: bool = False):
        if mask is None:
            mask = tokens > 0
        features = []
        for width in self.kernel_sizes:
            h = EmbeddingConv(
                self.vocab_size,
                self.embed_dim,
                self.num_filters,
                width,
                padding="SAME",
                dtype=self.dtype,
                name=f"conv{width}",
            )(tokens, mask)
            features.append(global_pool(nn.relu(h), mask, self.pooling))
        if self.kmer_sizes:
            residues = jax.nn.one_hot(tokens - 1, 20, dtype=jnp.float32)  # tokens 1..20
            features.append(kmer_features(residues, self.kmer_sizes, mask))
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(jnp.concatenate(features, -1))
        return dense_head(self, h, train)
