"""Building blocks: convolutions over one-hot and token input, pooling and output heads.

Every module is a pure Flax Linen module (parameters in, arrays out). Sequences are laid out
as [batch, length, channels]; masks as [batch, length] booleans.
"""

import functools
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.data.alphabets import reverse_complement_one_hot

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": nn.relu,
    "gelu": nn.gelu,
    "elu": nn.elu,
    "silu": nn.silu,
    "tanh": jnp.tanh,
    "identity": lambda x: x,
}

TASKS = ("binary", "multiclass", "multilabel", "regression")


class OneHotConv(nn.Module):
    """1-D convolution over one-hot sequence input.

    With `reverse_complement=True` the same filters also scan the reverse-complement strand
    and each output position keeps the larger of the two strands' responses (weights shared
    across strands, as DeepBind scores both strands of a sequence). Strand windows align
    exactly with VALID padding or an odd kernel; SAME padding with an even kernel is refused.
    """

    features: int
    kernel_size: int
    padding: str = "VALID"
    use_bias: bool = True
    reverse_complement: bool = False
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array | None = None) -> jax.Array:
        if self.reverse_complement and self.padding == "SAME" and self.kernel_size % 2 == 0:
            raise ValueError("OneHotConv: reverse_complement with SAME padding needs an odd kernel")
        if x.shape[-2] < self.kernel_size and self.padding == "VALID":
            raise ValueError(
                f"OneHotConv: input length {x.shape[-2]} is shorter than the kernel "
                f"({self.kernel_size}); raise config.data.length or lower the kernel size"
            )
        if mask is not None:
            x = x * mask[..., None].astype(x.dtype)
        conv = nn.Conv(
            self.features,
            (self.kernel_size,),
            padding=self.padding,
            use_bias=self.use_bias,
            dtype=self.dtype,
            name="conv",
        )
        y = conv(x)
        if self.reverse_complement:
            y = jnp.maximum(y, conv(reverse_complement_one_hot(x))[:, ::-1])
        return y


def embed_rows(embed: nn.Embed, ids: jax.Array, dtype: jnp.dtype | None) -> jax.Array:
    """Rows of `embed`'s float32 table gathered first and cast to `dtype` after, so that the
    backward pass scatter-adds in float32: a bfloat16 scatter-add into a few rows runs as
    compare-and-swap loops on GPUs (bfloat16 DeepDTA steps were 10x slower than float32 on an
    H100, docs/performance.md). `embed` must have no compute dtype of its own."""
    x = embed(ids)
    return x if dtype is None else x.astype(dtype)


def conv_weights(
    module: nn.Module, in_features: int, features: int, kernel_size: int
) -> tuple[jax.Array, jax.Array]:
    """The kernel [K, in, F] and bias [F] of a 1-D `nn.Conv`, declared on `module`: same names,
    shapes and initialisers, so a module holding them reads and writes the same parameters."""
    kernel = module.param(
        "kernel", nn.initializers.lecun_normal(), (kernel_size, in_features, features)
    )
    return kernel, module.param("bias", nn.initializers.zeros_init(), (features,))


class _ConvWeights(nn.Module):
    """`conv_weights` as a submodule of their own (EmbeddingConv's `conv`)."""

    in_features: int
    features: int
    kernel_size: int

    @nn.compact
    def __call__(self) -> tuple[jax.Array, jax.Array]:
        return conv_weights(self, self.in_features, self.features, self.kernel_size)


class EmbeddingConv(nn.Module):
    """Token embedding followed by a 1-D convolution; token 0 is padding and embeds to zero.

    With a small vocabulary the convolution runs on one-hot tokens against U[k, v] =
    embedding[v] @ kernel[k], computed once per step: the same function and gradients with V
    instead of embed_dim input channels, and no gather of embedding rows or scatter-add of
    their gradients, which on XLA:CPU cost more than the extra multiply-adds
    (`benchmarks/embedding_conv.py`: 3-10x faster for DeepDTA's branches, 1.4x for DeepDBP's
    26 tokens against a 16-d embedding). `one_hot` forces either form; `None` picks the
    one-hot form when `vocab_size <= 2 * embed_dim` (not for a word vocabulary).
    """

    vocab_size: int
    embed_dim: int
    features: int
    kernel_size: int
    padding: str = "VALID"
    dtype: jnp.dtype | None = None
    one_hot: bool | None = None

    @nn.compact
    def __call__(self, tokens: jax.Array, mask: jax.Array | None = None) -> jax.Array:
        embed = nn.Embed(self.vocab_size, self.embed_dim, name="embed")
        kernel, bias = _ConvWeights(self.embed_dim, self.features, self.kernel_size, name="conv")()
        if mask is None:
            mask = tokens > 0
        one_hot = self.vocab_size <= 2 * self.embed_dim if self.one_hot is None else self.one_hot
        if one_hot:
            # Id vocab_size is out of range: jax.nn.one_hot gives it an all-zero row.
            x = jax.nn.one_hot(jnp.where(mask, tokens, self.vocab_size), self.vocab_size)
            kernel = jnp.einsum("vd,kdf->kvf", embed.embedding, kernel)
        else:
            x = embed_rows(embed, tokens, self.dtype)
            x = x * mask[..., None].astype(x.dtype)
        x, kernel = nn.dtypes.promote_dtype(x, kernel, dtype=self.dtype)
        y = jax.lax.conv_general_dilated(
            x, kernel, (1,), self.padding, dimension_numbers=("NWC", "WIO", "NWC")
        )
        return y + bias.astype(y.dtype)


def _pooled_conv_forward(x, kernel, bias, mask, padding):
    h = jax.lax.conv_general_dilated(
        x, kernel, (1,), padding, dimension_numbers=("NWC", "WIO", "NWC")
    )
    h = jnp.where(mask[..., None], h + bias, jnp.finfo(h.dtype).min)
    index = jnp.argmax(h, axis=1)
    valid = jnp.any(mask, axis=1, keepdims=True)
    return jnp.where(valid, jnp.max(h, axis=1), 0.0), (index, valid)


@functools.partial(jax.custom_vjp, nondiff_argnums=(4,))
def max_pooled_conv(
    x: jax.Array, kernel: jax.Array, bias: jax.Array, mask: jax.Array, padding: str
) -> jax.Array:
    """max over the output positions under `mask` [B, L'] of conv(x, kernel) + bias (0 where
    none is real): [B, L, C] -> [B, F], `global_max_pool` of the convolution.

    Its gradient reaches only each filter's best window (the first, on a tie), so the weight
    and input gradients are B x F windows gathered and scattered instead of two convolutions
    over every position.
    """
    return _pooled_conv_forward(x, kernel, bias, mask, padding)[0]


def _max_pooled_conv_fwd(x, kernel, bias, mask, padding):
    pooled, (index, valid) = _pooled_conv_forward(x, kernel, bias, mask, padding)
    return pooled, (x, kernel, index, valid)


def _max_pooled_conv_bwd(padding, residuals, g):
    x, kernel, index, valid = residuals
    k = kernel.shape[0]
    before = (k - 1) // 2 if padding == "SAME" else 0
    padded = jnp.pad(x, ((0, 0), (before, k - 1 - before if padding == "SAME" else 0), (0, 0)))
    g = jnp.where(valid, g, 0.0).astype(x.dtype)
    rows = index[..., None] + jnp.arange(k)  # [B, F, k]: each filter's best window
    windows = jax.vmap(lambda xb, r: xb[r])(padded, rows).reshape(*g.shape, -1)  # [B, F, k*C]
    # Contracting B with F as the batch axis is 3x faster on CPU than "bf,bfkc->kcf".
    dkernel = jnp.einsum("bf,bfn->fn", g, windows).reshape(-1, k, x.shape[-1])
    dkernel = dkernel.transpose(1, 2, 0).astype(kernel.dtype)
    # Scatter-added in float32: a bfloat16 scatter-add runs as compare-and-swap loops on GPUs.
    updates = jnp.einsum("bf,kcf->bfkc", g.astype(jnp.float32), kernel.astype(jnp.float32))

    def scatter(r, u):
        flat = u.reshape(-1, x.shape[-1])
        return jnp.zeros(padded.shape[1:], flat.dtype).at[r.reshape(-1)].add(flat)

    dx = jax.vmap(scatter)(rows, updates)[:, before : before + x.shape[1]].astype(x.dtype)
    return dx, dkernel, g.sum(0).astype(kernel.dtype), None


max_pooled_conv.defvjp(_max_pooled_conv_fwd, _max_pooled_conv_bwd)


class MaxPooledConv(nn.Module):
    """A 1-D convolution max-pooled over its real output positions: [B, L, C] -> [B, F].

    `nn.Conv`'s parameters (kernel [K, C, F], bias [F]) and the values of
    `global_max_pool(conv(x), output_mask(mask))`, with `max_pooled_conv`'s sparse gradient,
    which pays for long sequences (DeepDTA's 1,000-residue proteins: the last convolution's
    backward pass becomes a few thousand window reads). A monotone activation goes after it:
    relu(max) = max(relu).
    """

    features: int
    kernel_size: int
    padding: str = "VALID"
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        kernel, bias = conv_weights(self, x.shape[-1], self.features, self.kernel_size)
        x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
        return max_pooled_conv(
            x, kernel, bias, output_mask(mask, self.kernel_size, self.padding), self.padding
        )


class ConvBlock(nn.Module):
    """Convolution, optional batch norm, activation, max pooling and dropout."""

    features: int
    kernel_size: int
    activation: str = "relu"
    pool_size: int = 1
    dropout_rate: float = 0.0
    batch_norm: bool = False
    padding: str = "SAME"
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = nn.Conv(self.features, (self.kernel_size,), padding=self.padding, dtype=self.dtype)(x)
        if self.batch_norm:
            x = nn.BatchNorm(use_running_average=not train, dtype=self.dtype)(x)
        x = ACTIVATIONS[self.activation](x)
        if self.pool_size > 1:
            x = nn.max_pool(x, window_shape=(self.pool_size,), strides=(self.pool_size,))
        return nn.Dropout(self.dropout_rate, deterministic=not train)(x)


def global_max_pool(x: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """Max over the length axis, ignoring masked-out positions (0 if none): [B, L, C] -> [B, C]."""
    if mask is None:
        return jnp.max(x, axis=-2)
    pooled = jnp.max(jnp.where(mask[..., None], x, jnp.finfo(x.dtype).min), axis=-2)
    return jnp.where(jnp.any(mask, axis=-1)[..., None], pooled, 0.0)


def global_avg_pool(x: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """Mean over the length axis, ignoring masked-out positions: [B, L, C] -> [B, C]."""
    if mask is None:
        return jnp.mean(x, axis=-2)
    weights = mask[..., None].astype(x.dtype)
    return jnp.sum(x * weights, axis=-2) / jnp.maximum(jnp.sum(weights, axis=-2), 1.0)


def global_pool(x: jax.Array, mask: jax.Array | None = None, pooling: str = "max") -> jax.Array:
    """`max`: each filter's best position; `max_avg`: that and the mean over the positions
    (composition), concatenated: [B, L, C] -> [B, C] or [B, 2C]."""
    if pooling == "max":
        return global_max_pool(x, mask)
    if pooling == "max_avg":
        return jnp.concatenate([global_max_pool(x, mask), global_avg_pool(x, mask)], axis=-1)
    raise ValueError(f"unknown pooling {pooling!r}; expected 'max' or 'max_avg'")


def kmer_spectrum(x: jax.Array, k: int, mask: jax.Array | None = None) -> jax.Array:
    """Frequencies of the C**k k-mers of one-hot sequences [B, L, C] -> [B, C**k] (C = 4 for
    DNA), over windows whose k positions are all letters (masked in, one channel set: an
    ambiguous code, all-zero or uniform, breaks a window). k-mer index: the letters' channel
    numbers read as a base-C number, first letter most significant.
    """
    letters = x.shape[-1]
    valid = jnp.max(x, axis=-1) > 0.5
    if mask is not None:
        valid = valid & mask.astype(bool)
    codes = jnp.argmax(x, axis=-1)
    length = x.shape[-2] - k + 1
    if length < 1:
        raise ValueError(f"kmer_spectrum: input length {x.shape[-2]} is shorter than k={k}")
    index = sum(codes[:, i : i + length] * letters ** (k - 1 - i) for i in range(k))
    windows = output_mask(valid, k, "VALID")
    counts = jax.vmap(lambda i, w: jnp.zeros(letters**k, x.dtype).at[i].add(w))(
        index, windows.astype(x.dtype)
    )
    return counts / jnp.maximum(jnp.sum(windows, axis=-1, keepdims=True), 1).astype(x.dtype)


def kmer_features(x: jax.Array, sizes: tuple[int, ...], mask: jax.Array | None = None):
    """`kmer_spectrum` for each k in `sizes`, each scaled by C**k (observed over expected under
    uniform composition, so every k has mean 1), concatenated: [B, sum_k C**k]."""
    letters = x.shape[-1]
    return jnp.concatenate([letters**k * kmer_spectrum(x, k, mask) for k in sizes], axis=-1)


def output_mask(mask: jax.Array, kernel_size: int, padding: str) -> jax.Array:
    """The mask of a convolution's output: a VALID window counts if all its inputs are real."""
    if padding == "SAME":
        return mask
    length = mask.shape[-1] - kernel_size + 1
    cumsum = jnp.cumsum(jnp.pad(mask.astype(jnp.int32), ((0, 0), (1, 0))), axis=-1)
    return (cumsum[:, kernel_size : kernel_size + length] - cumsum[:, :length]) == kernel_size


class OutputHead(nn.Module):
    """Final dense layer giving logits (or values) for one task kind.

    binary: [B] logit; multiclass: [B, num_outputs] logits; multilabel: [B, num_outputs]
    logits; regression: [B] value, or [B, num_outputs] when num_outputs > 1.
    """

    task: str
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {TASKS}")
        y = nn.Dense(self.num_outputs, dtype=self.dtype, name="dense")(x).astype(jnp.float32)
        if self.task in ("binary", "regression") and self.num_outputs == 1:
            return y[..., 0]
        return y


def dense_head(
    model: nn.Module,
    h: jax.Array,
    train: bool,
    *,
    task: str | None = None,
    num_outputs: int | None = None,
) -> jax.Array:
    """The models' common tail: a dense `hidden` layer with ReLU (none when `hidden` is 0),
    dropout, then `OutputHead`, with the model's own `hidden`, `dropout_rate`, `dtype` and
    (unless given) `task` and `num_outputs` fields.

    A plain function, called inside the model's `nn.compact` method, so its layers are the
    model's own `hidden` and `head` (parameters `hidden/kernel`, `head/dense/kernel`), the
    names that checkpoints, sharding rules and `init_skip` patterns match.
    """
    if model.hidden:
        h = nn.relu(nn.Dense(model.hidden, dtype=model.dtype, name="hidden")(h))
    h = nn.Dropout(model.dropout_rate, deterministic=not train)(h)
    task = task or model.task
    num_outputs = num_outputs or model.num_outputs
    return OutputHead(task, num_outputs, dtype=model.dtype, name="head")(h)
