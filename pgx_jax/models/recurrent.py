"""Convolution-recurrent hybrids: a bidirectional LSTM or GRU over convolution outputs (or
under them), masked for padding, pooled by attention, max or mean.

`BiRNN` runs Flax's `nn.RNN` both ways with each row's length (`seq_lengths`), so the
backward pass starts at the last real position and padding changes no real output.
`ConvRecurrent` reads one-hot sequences (BiRen for enhancers; with a second track of RNA
structure letters, iDeepS for RBP binding); `TextRecurrent` reads DDI-2013 sentences as the text
CNN does (SGRU-CNN: recurrent then convolution; RHCNN: convolution then recurrent).
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import ACTIVATIONS, OutputHead, global_pool
from pgx_jax.models.textcnn import TextCNN

CELLS = {"lstm": nn.OptimizedLSTMCell, "gru": nn.GRUCell}


class BiRNN(nn.Module):
    """[B, L, D] to [B, L, 2 * hidden]: forward and backward states concatenated, 0 at padding.
    `mask` [B, L] must mark a prefix of each row (padding at the end)."""

    hidden: int
    cell: str = "lstm"
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}; known: {sorted(CELLS)}")
        lengths = jnp.sum(mask, axis=-1).astype(jnp.int32)
        cell = CELLS[self.cell]
        forward = nn.RNN(cell(self.hidden, dtype=self.dtype), name="forward")
        backward = nn.RNN(cell(self.hidden, dtype=self.dtype), name="backward")
        h = nn.Bidirectional(forward, backward, name="bidirectional")(x, seq_lengths=lengths)
        return h * mask[..., None].astype(h.dtype)


class AttentionPool(nn.Module):
    """[B, L, D] to [B, D]: the mean of the real positions weighted by a learned softmax score
    (tanh of a dense layer, then a dense scorer), so the model can say where to look."""

    hidden: int = 32
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        h = jnp.tanh(nn.Dense(self.hidden, dtype=self.dtype, name="project")(x))
        scores = nn.Dense(1, dtype=self.dtype, name="score")(h)[..., 0].astype(jnp.float32)
        scores = jnp.where(mask.astype(bool), scores, -1e9)
        weights = jax.nn.softmax(scores, axis=-1).astype(x.dtype)
        return jnp.einsum("bl,bld->bd", weights, x)


def pool(x: jax.Array, mask: jax.Array, pooling: str, attention_dim: int, dtype) -> jax.Array:
    """ "attention" (`AttentionPool`, defined in the calling module), "max" or "mean" over the
    real positions."""
    if pooling == "attention":
        return AttentionPool(attention_dim, dtype=dtype, name="attention")(x, mask)
    return global_pool(x, mask, pooling)


def conv_pool(x: jax.Array, mask: jax.Array, width: int, filters: int, size: int, name: str, dtype):
    """Convolution, ReLU (0 at padding) and max pooling by `size` (the length padded up to a
    multiple of it, so no real position is dropped); returns the pooled features and mask."""
    h = nn.relu(nn.Conv(filters, (width,), padding="SAME", dtype=dtype, name=name)(x))
    h = h * mask[..., None].astype(h.dtype)
    extra = -h.shape[1] % size
    h = jnp.pad(h, ((0, 0), (0, extra), (0, 0)))
    mask = jnp.pad(mask.astype(bool), ((0, 0), (0, extra)))
    h = nn.max_pool(h, window_shape=(size,), strides=(size,))
    return h, mask.reshape(mask.shape[0], -1, size).any(-1)


class ConvRecurrent(nn.Module):
    """One-hot [B, L, C] (and optionally `structure` [B, L, S], a second track convolved apart,
    iDeepS) to logits: convolution, ReLU, max pooling, dropout, a bidirectional LSTM/GRU,
    pooling over positions, a dense layer and the head."""

    num_filters: int = 64
    filter_width: int = 9
    structure_filters: int = 16
    pool_size: int = 3
    cell: str = "gru"
    rnn_hidden: int = 32
    pooling: str = "attention"
    attention_dim: int = 32
    hidden: int = 32
    dropout_rate: float = 0.3
    task: str = "binary"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(
        self,
        x: jax.Array,
        mask: jax.Array | None = None,
        structure: jax.Array | None = None,
        train: bool = False,
    ) -> jax.Array:
        if mask is None:
            mask = jnp.ones(x.shape[:2], bool)
        keep = mask[..., None].astype(x.dtype)
        layer = (self.filter_width, self.num_filters, self.pool_size)
        h, pooled_mask = conv_pool(x * keep, mask, *layer, "conv", self.dtype)
        if structure is not None:
            layer = (self.filter_width, self.structure_filters, self.pool_size)
            s, _ = conv_pool(structure * keep, mask, *layer, "structure_conv", self.dtype)
            h = jnp.concatenate([h, s], axis=-1)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        h = BiRNN(self.rnn_hidden, self.cell, self.dtype, name="rnn")(h, pooled_mask)
        h = pool(h, pooled_mask, self.pooling, self.attention_dim, self.dtype)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype, name="hidden")(h))
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return OutputHead(self.task, self.num_outputs, dtype=self.dtype, name="head")(h)


class TextRecurrent(TextCNN):
    """The text CNN's inputs and head with a bidirectional LSTM/GRU: `order="rnn_cnn"` runs it
    over the embedded tokens and convolves its states, max-pooled as the text CNN
    (SGRU-CNN-style); `"cnn_rnn"` runs it over the convolutions' outputs and pools its states
    by `rnn_pooling` (RHCNN-style)."""

    order: str = "rnn_cnn"
    cell: str = "gru"
    rnn_hidden: int = 100
    rnn_pooling: str = "attention"
    attention_dim: int = 100
    window_sizes: Sequence[int] = (3, 4, 5)

    @nn.compact
    def __call__(
        self,
        tokens: jax.Array,
        pos1: jax.Array,
        pos2: jax.Array,
        mask: jax.Array,
        train: bool = False,
    ) -> jax.Array:
        if self.order not in ("rnn_cnn", "cnn_rnn"):
            raise ValueError(f"unknown order {self.order!r}; expected 'rnn_cnn' or 'cnn_rnn'")
        x = self.embed(tokens, pos1, pos2, mask)
        rnn = BiRNN(self.rnn_hidden, self.cell, self.dtype, name="rnn")
        if self.order == "rnn_cnn":
            x = nn.Dropout(self.dropout_rate, deterministic=not train)(rnn(x, mask))
        convolved = [
            ACTIVATIONS[self.activation](
                nn.Conv(self.num_filters, (k,), padding="SAME", dtype=self.dtype, name=f"conv{k}")(
                    x
                )
            )
            for k in self.window_sizes
        ]
        if self.order == "rnn_cnn":
            masks = self._pool_masks(pos1, pos2, mask)
            pooled = jnp.concatenate([global_pool(h, m) for h in convolved for m in masks], -1)
        else:
            states = rnn(jnp.concatenate(convolved, -1), mask)
            pooled = pool(states, mask, self.rnn_pooling, self.attention_dim, self.dtype)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(pooled)
        return OutputHead(self.task, self.num_outputs, dtype=self.dtype, name="head")(h)
