"""Relation-extraction text CNNs: Liu et al. 2016 (one channel) and MCCNN (Quan et al. 2016).

Each token is a word embedding (one per channel) plus two relative-position embeddings (its
distance to DRUG1 and to DRUG2); convolutions of several window sizes run over the sequence,
each filter is max-pooled over time, and a dropout + dense layer gives the class logits.
`pooling="piecewise"` max-pools the three stretches that the two drugs cut the sentence into
separately (PCNN, Zeng et al. 2015), so a filter can tell a cue between the drugs from one
outside them.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from pgx_jax.models.layers import ACTIVATIONS, OutputHead, embed_rows, global_max_pool


class WordChannels(nn.Module):
    """Several word-embedding tables over the same tokens, concatenated on the feature axis.

    `init_vectors[c]` (a [vocab, dim] array, or None for random init) seeds channel c; a
    channel listed in `frozen` is a constant (its vectors are never updated), as MCCNN keeps
    its pre-trained channels static.
    """

    vocab_size: int
    embed_dim: int
    num_channels: int = 1
    init_vectors: Sequence[np.ndarray | None] = ()
    frozen: Sequence[int] = ()

    @nn.compact
    def __call__(self, tokens: jax.Array) -> jax.Array:
        channels = []
        for c in range(self.num_channels):
            vectors = self.init_vectors[c] if c < len(self.init_vectors) else None
            if vectors is not None and vectors.shape != (self.vocab_size, self.embed_dim):
                raise ValueError(
                    f"channel {c}: vectors of shape {vectors.shape}, expected "
                    f"{(self.vocab_size, self.embed_dim)}"
                )
            if c in self.frozen and vectors is not None:
                channels.append(jnp.asarray(vectors, jnp.float32)[tokens])
                continue
            init = (
                nn.initializers.normal(0.1)
                if vectors is None
                else (lambda key, shape, v=vectors: jnp.asarray(v, jnp.float32))
            )
            table = self.param(f"embedding_{c}", init, (self.vocab_size, self.embed_dim))
            channels.append(table[tokens])
        return jnp.concatenate(channels, axis=-1)


class TextCNN(nn.Module):
    """Liu et al. 2016 CNN; `num_channels > 1` makes it MCCNN's multichannel variant.

    Inputs: `tokens` [B, L] word ids (0 = padding), `pos1`/`pos2` [B, L] shifted relative
    positions (1..2*max_distance+1; 0 = padding) and `mask` [B, L].
    """

    vocab_size: int
    embed_dim: int = 200
    num_channels: int = 1
    init_vectors: Sequence[np.ndarray | None] = ()
    frozen: Sequence[int] = ()
    max_distance: int = 100
    position_dim: int = 10
    window_sizes: Sequence[int] = (3, 4, 5)
    num_filters: int = 200
    activation: str = "relu"
    pooling: str = "max"
    dropout_rate: float = 0.5
    task: str = "multiclass"
    num_outputs: int = 5
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(
        self,
        tokens: jax.Array,
        pos1: jax.Array,
        pos2: jax.Array,
        mask: jax.Array,
        train: bool = False,
    ) -> jax.Array:
        x = self.embed(tokens, pos1, pos2, mask)
        pool_masks = self._pool_masks(pos1, pos2, mask)
        pooled = []
        for k in self.window_sizes:
            conv = nn.Conv(
                self.num_filters, (k,), padding="SAME", dtype=self.dtype, name=f"conv{k}"
            )
            h = ACTIVATIONS[self.activation](conv(x))
            pooled.extend(global_max_pool(h, m) for m in pool_masks)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(jnp.concatenate(pooled, -1))
        return OutputHead(self.task, self.num_outputs, dtype=self.dtype, name="head")(h)

    def embed(self, tokens: jax.Array, pos1: jax.Array, pos2: jax.Array, mask: jax.Array):
        """Each token's word channels and two position embeddings [B, L, D], 0 at padding
        (the recurrent hybrids read the same features)."""
        words = WordChannels(
            self.vocab_size,
            self.embed_dim,
            self.num_channels,
            tuple(self.init_vectors),
            tuple(self.frozen),
            name="words",
        )(tokens)
        positions = 2 * self.max_distance + 2
        p1 = embed_rows(nn.Embed(positions, self.position_dim, name="position1"), pos1, self.dtype)
        p2 = embed_rows(nn.Embed(positions, self.position_dim, name="position2"), pos2, self.dtype)
        x = jnp.concatenate([words.astype(p1.dtype), p1, p2], axis=-1)
        return x * mask[..., None].astype(x.dtype)

    def _pool_masks(self, pos1: jax.Array, pos2: jax.Array, mask: jax.Array) -> list[jax.Array]:
        """The whole sentence (`max`), or the stretches up to the first drug, between the two
        and after the second (`piecewise`); each drug closes its stretch."""
        if self.pooling == "max":
            return [mask]
        if self.pooling != "piecewise":
            raise ValueError(f"unknown pooling {self.pooling!r}; expected 'max' or 'piecewise'")
        mask = mask.astype(bool)
        d1 = pos1 - (self.max_distance + 1)
        d2 = pos2 - (self.max_distance + 1)
        to_first, to_second = jnp.maximum(d1, d2), jnp.minimum(d1, d2)
        return [
            mask & (to_first <= 0),
            mask & (to_first > 0) & (to_second <= 0),
            mask & (to_second > 0),
        ]
