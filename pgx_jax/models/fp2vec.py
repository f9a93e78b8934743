"""FP2VEC (Jeon & Kim, Bioinformatics 2019): a fingerprint's set bits read as words.

The indices of a Morgan fingerprint's set bits (`pgx_jax.data.fingerprints`; 0 is padding)
are embedded (100-d), convolved by one layer of wide filters (2,048 of width 5, ReLU) and each
filter max-pooled over the real windows; dropout and a dense output follow. Sizes are those of
the authors' ESOL regression script (`wsjeon92/FP2VEC`, ESOL/esol.py: 1,024-bit radius-2
fingerprints, 100 words, embedding 100, 2,048 filters of width 5, dropout 0.5, Adam 5e-4,
batch 32). Unlike that script, windows that reach into the padding are left out of the pool.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import MaxPooledConv, OutputHead, embed_rows


def uniform_init(key: jax.Array, shape: tuple, dtype=jnp.float32) -> jax.Array:
    """U(-1, 1), FP2VEC's embedding initialiser."""
    return jax.random.uniform(key, shape, dtype, -1.0, 1.0)


class FP2VEC(nn.Module):
    """Fingerprint-word CNN: embedding, one convolution max-pooled, dropout, output head."""

    bits: int = 1024
    embed_dim: int = 100
    num_filters: int = 2048
    kernel_size: int = 5
    dropout_rate: float = 0.5
    task: str = "regression"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, tokens: jax.Array, train: bool = False) -> jax.Array:
        mask = tokens > 0
        embed = nn.Embed(
            self.bits + 1,
            self.embed_dim,
            embedding_init=uniform_init,
            name="embed",
        )
        x = embed_rows(embed, tokens, self.dtype) * mask[..., None]
        h = nn.relu(MaxPooledConv(self.num_filters, self.kernel_size, dtype=self.dtype)(x, mask))
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return OutputHead(self.task, self.num_outputs, dtype=self.dtype, name="head")(h)
