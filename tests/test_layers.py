"""Tests for the model building blocks, DeepBind and the model registry."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pgx_jax.data.alphabets import DNA, one_hot, reverse_complement, tokens, vocab_size
from pgx_jax.errors import PgxError
from pgx_jax.models import create_model
from pgx_jax.models.deepbind import DeepBind
from pgx_jax.models.layers import (
    ConvBlock,
    EmbeddingConv,
    MaxPooledConv,
    OneHotConv,
    OutputHead,
    global_avg_pool,
    global_max_pool,
    kmer_spectrum,
    output_mask,
)

KEY = jax.random.key(0, impl="rbg")  # cheap to compile, unlike threefry


def _init(module, *args, seed=0, **kwargs):
    """Random variables of the right shapes, without running the (slow, eager) initialisers."""
    shapes = jax.eval_shape(functools.partial(module.init, **kwargs), KEY, *args)
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda s: (0.5 * rng.normal(size=s.shape)).astype(s.dtype), shapes)


@functools.partial(jax.jit, static_argnums=0, static_argnames=("train", "mutable"))
def _apply(module, variables, *args, train=None, mutable=False, rngs=None):
    """`module.apply` under jit: one compilation is much cheaper than many eager ops."""
    kwargs = {} if train is None else {"train": train}
    return module.apply(variables, *args, mutable=mutable, rngs=rngs, **kwargs)


def _random_dna(rng, count, length):
    return ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(count)]


def _np_conv_valid(x, kernel, bias):
    """Cross-correlation [B, L, C] * [K, C, F] -> [B, L - K + 1, F], VALID padding."""
    k = kernel.shape[0]
    out_len = x.shape[1] - k + 1
    out = np.stack(
        [np.einsum("bkc,kcf->bf", x[:, i : i + k], kernel) for i in range(out_len)], axis=1
    )
    return out + bias


def _kernel_bias(variables):
    conv = variables["params"]["conv"]
    return np.asarray(conv["kernel"], np.float64), np.asarray(conv["bias"], np.float64)


# --- OneHotConv -------------------------------------------------------------------------------


def test_one_hot_conv_matches_numpy_cross_correlation():
    rng = np.random.default_rng(0)
    x, _ = one_hot(_random_dna(rng, 3, 12), DNA)
    layer = OneHotConv(features=5, kernel_size=4)
    variables = _init(layer, x)
    kernel, bias = _kernel_bias(variables)
    assert kernel.shape == (4, 4, 5) and bias.shape == (5,)
    y = np.asarray(_apply(layer, variables, x))
    assert y.shape == (3, 9, 5)
    np.testing.assert_allclose(y, _np_conv_valid(x.astype(np.float64), kernel, bias), atol=1e-5)


def test_one_hot_conv_masked_positions_contribute_zero():
    rng = np.random.default_rng(1)
    x, mask = one_hot(["ACGTTGCA", "GGCAT", "TTA"], DNA, length=8)
    # Put garbage where the mask is False: the layer must ignore it.
    noisy = np.where(mask[..., None], x, rng.normal(size=x.shape).astype(np.float32))
    layer = OneHotConv(features=3, kernel_size=3)
    variables = _init(layer, x)
    kernel, bias = _kernel_bias(variables)
    y = np.asarray(_apply(layer, variables, noisy, mask))
    expected = _np_conv_valid(x.astype(np.float64) * mask[..., None], kernel, bias)
    np.testing.assert_allclose(y, expected, atol=1e-5)
    np.testing.assert_allclose(y, np.asarray(_apply(layer, variables, x, mask)), atol=1e-6)
    # The last window of the 3-long sequence covers only padding: bias alone.
    np.testing.assert_allclose(y[2, -1], bias, atol=1e-6)


def test_one_hot_conv_reverse_complement_is_strand_symmetric():
    rng = np.random.default_rng(2)
    seqs = _random_dna(rng, 4, 15)
    x, _ = one_hot(seqs, DNA)
    x_rc, _ = one_hot(reverse_complement(seqs, DNA), DNA)
    layer = OneHotConv(features=6, kernel_size=5, reverse_complement=True)
    variables = _init(layer, x)
    y = np.asarray(_apply(layer, variables, x))
    y_rc = np.asarray(_apply(layer, variables, x_rc))
    assert y.shape == (4, 11, 6)
    np.testing.assert_allclose(y, y_rc[:, ::-1], atol=1e-5)
    # Independent reference: max of the forward scan and the aligned reverse-strand scan.
    kernel, bias = _kernel_bias(variables)
    forward = _np_conv_valid(x.astype(np.float64), kernel, bias)
    reverse = _np_conv_valid(x_rc.astype(np.float64), kernel, bias)[:, ::-1]
    np.testing.assert_allclose(y, np.maximum(forward, reverse), atol=1e-5)
    # The option changes the output (both strands really are scanned).
    plain = np.asarray(_apply(OneHotConv(features=6, kernel_size=5), variables, x))
    assert np.all(y >= plain - 1e-6) and not np.allclose(y, plain)


def test_one_hot_conv_reverse_complement_with_padding_mask():
    # Padded batch: the real windows of each row still equal max(forward, aligned RC).
    seqs = ["ACGGTCAATG", "TTGCA"]
    x, mask = one_hot(seqs, DNA, length=10)
    layer = OneHotConv(features=4, kernel_size=3, reverse_complement=True)
    variables = _init(layer, x)
    y = np.asarray(_apply(layer, variables, x, mask))
    kernel, bias = _kernel_bias(variables)
    for row, seq in enumerate(seqs):
        xs, _ = one_hot([seq], DNA)
        xr, _ = one_hot(reverse_complement([seq], DNA), DNA)
        fwd = _np_conv_valid(xs.astype(np.float64), kernel, bias)[0]
        rev = _np_conv_valid(xr.astype(np.float64), kernel, bias)[0, ::-1]
        n = len(seq) - 3 + 1
        np.testing.assert_allclose(y[row, :n], np.maximum(fwd, rev), atol=1e-5)


# --- EmbeddingConv ----------------------------------------------------------------------------


def test_embedding_conv_shapes_and_padding_contributes_nothing():
    ids, mask = tokens(["ACGTAC", "GGA"], DNA, length=8)
    layer = EmbeddingConv(vocab_size=vocab_size(DNA), embed_dim=3, features=4, kernel_size=3)
    variables = _init(layer, ids)
    assert variables["params"]["embed"]["embedding"].shape == (6, 3)
    y = np.asarray(_apply(layer, variables, ids))
    assert y.shape == (2, 6, 4)
    # Row 1 has 3 real tokens: window 0 covers only real positions; windows 1.. overlap padding.
    # With an explicit mask, whatever token ids follow the end are ignored everywhere.
    garbage = ids.copy()
    garbage[1, 3:] = [1, 2, 3, 4, 5]
    y_masked = np.asarray(_apply(layer, variables, garbage, mask))
    np.testing.assert_allclose(y_masked, y, atol=1e-6)
    # Without a mask, the garbage is read as real tokens: only windows inside the
    # real sequence keep their value.
    y_unmasked = np.asarray(_apply(layer, variables, garbage))
    np.testing.assert_allclose(y_unmasked[1, :1], y[1, :1], atol=1e-6)
    assert not np.allclose(y_unmasked[1, 1:], y[1, 1:])
    # A window made only of padding gives the bias alone.
    bias = np.asarray(variables["params"]["conv"]["bias"])
    np.testing.assert_allclose(y[1, 3:], np.broadcast_to(bias, (3, 4)), atol=1e-6)


def test_embedding_conv_matches_numpy_reference():
    ids, mask = tokens(["ACGTN", "TG"], DNA, length=5)
    layer = EmbeddingConv(vocab_size=vocab_size(DNA), embed_dim=2, features=3, kernel_size=2)
    variables = _init(layer, ids)
    table = np.asarray(variables["params"]["embed"]["embedding"], np.float64)
    kernel, bias = _kernel_bias(variables)
    x = table[ids] * mask[..., None]
    expected = _np_conv_valid(x, kernel, bias)
    np.testing.assert_allclose(np.asarray(_apply(layer, variables, ids)), expected, atol=1e-5)


class _EmbedThenConv(nn.Module):
    """EmbeddingConv as first written (nn.Embed, mask, nn.Conv): the reference for both paths."""

    vocab_size: int
    embed_dim: int
    features: int
    kernel_size: int
    padding: str

    @nn.compact
    def __call__(self, tokens, mask):
        x = nn.Embed(self.vocab_size, self.embed_dim, name="embed")(tokens) * mask[..., None]
        return nn.Conv(self.features, (self.kernel_size,), padding=self.padding, name="conv")(x)


@pytest.mark.parametrize("padding,kernel_size", [("VALID", 4), ("SAME", 5), ("SAME", 4)])
def test_embedding_conv_one_hot_and_embedded_forms_agree_with_the_reference(padding, kernel_size):
    """Both ways of computing EmbeddingConv give the reference's parameters (same names and
    initial values), outputs and gradients, with garbage token ids under the mask."""
    rng = np.random.default_rng(7)
    ids = rng.integers(1, 6, (3, 11)).astype(np.int32)
    mask = np.ones_like(ids, bool)
    mask[1, 6:] = False
    mask[2, 2] = False
    shape = dict(vocab_size=6, embed_dim=5, features=3, kernel_size=kernel_size, padding=padding)
    reference = _EmbedThenConv(**shape)
    variables = reference.init(jax.random.PRNGKey(0), ids, mask)
    weights = rng.normal(size=reference.apply(variables, ids, mask).shape)

    def loss(module, params):
        return jnp.sum(module.apply({"params": params}, ids, mask) * weights)

    expected_loss, expected_grads = jax.value_and_grad(functools.partial(loss, reference))(
        variables["params"]
    )
    for form in (False, True):
        layer = EmbeddingConv(**shape, one_hot=form)
        initial = layer.init(jax.random.PRNGKey(0), ids, mask)
        jax.tree.map(np.testing.assert_array_equal, initial, variables)
        value, grads = jax.value_and_grad(functools.partial(loss, layer))(variables["params"])
        np.testing.assert_allclose(value, expected_loss, rtol=1e-5)
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5),
            grads,
            expected_grads,
        )


def test_embedding_conv_chooses_one_hot_for_small_vocabularies():
    """The automatic choice: one-hot tokens (no gather of embedding rows) up to a vocabulary
    twice the embedding width (DeepDTA, DeepDBP), embedded rows beyond; both give the same
    output."""
    ids = np.random.default_rng(8).integers(0, 26, (4, 64)).astype(np.int32)
    for embed_dim, vocab, hot in (
        (128, 26, True),
        (16, 26, True),
        (12, 26, False),
        (8, 200, False),
    ):
        layer = EmbeddingConv(vocab, embed_dim, 32, 8)
        variables = layer.init(jax.random.PRNGKey(1), ids)
        jaxpr = str(jax.make_jaxpr(functools.partial(layer.apply, tokens=ids))(variables))
        assert ("gather" not in jaxpr) == hot, (embed_dim, vocab)
        forced = EmbeddingConv(vocab, embed_dim, 32, 8, one_hot=not hot)
        np.testing.assert_allclose(
            layer.apply(variables, ids), forced.apply(variables, ids), rtol=1e-4, atol=1e-4
        )


# --- ConvBlock --------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["VALID", "SAME"])
@pytest.mark.parametrize("kernel_size", [3, 4, 8])
def test_max_pooled_conv_values_and_gradients_equal_the_pooled_convolution(padding, kernel_size):
    """Against global_max_pool(nn.Conv(x)) under the output mask, relu after: rows of full,
    short, window-sized, too-short and empty length; the same parameters; the same loss and
    gradients for x, kernel and bias (no ties in random data)."""
    rng = np.random.default_rng(kernel_size)
    x = jnp.asarray(rng.normal(size=(5, 30, 6)), jnp.float32)
    mask = jnp.asarray(np.arange(30)[None] < np.array([30, 12, kernel_size, 2, 0])[:, None])
    weights = jnp.asarray(rng.normal(size=(5, 7)), jnp.float32)
    conv = nn.Conv(7, (kernel_size,), padding=padding)
    pooled = MaxPooledConv(7, kernel_size, padding)
    params = pooled.init(KEY, x, mask)
    assert jax.tree.map(jnp.shape, params) == jax.tree.map(jnp.shape, conv.init(KEY, x))
    params = jax.tree.map(lambda a: a + jnp.asarray(rng.normal(size=a.shape), a.dtype), params)

    def reference(params, x):
        h = conv.apply(params, x)
        out = global_max_pool(nn.relu(h), output_mask(mask, kernel_size, padding))
        return jnp.sum(out * weights)

    def sparse(params, x):
        return jnp.sum(nn.relu(pooled.apply(params, x, mask)) * weights)

    np.testing.assert_allclose(sparse(params, x), reference(params, x), rtol=1e-6)
    want = jax.grad(reference, argnums=(0, 1))(params, x)
    got = jax.grad(sparse, argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert float(jnp.max(jnp.abs(got[1][4]))) == 0.0  # the empty row gets no gradient


def test_conv_block_pool_shape_and_eval_is_deterministic():
    x = np.random.default_rng(6).normal(size=(2, 12, 4)).astype(np.float32)
    block = ConvBlock(features=5, kernel_size=3, pool_size=3, dropout_rate=0.5)
    variables = _init(block, x)
    y1 = _apply(block, variables, x, train=False)
    y2 = _apply(block, variables, x, train=False)
    assert y1.shape == (2, 4, 5)
    np.testing.assert_array_equal(np.asarray(y1), np.asarray(y2))
    assert np.all(np.asarray(y1) >= 0)  # relu
    # Training mode drops units (needs a dropout rng) and rescales the kept ones by 1/(1-p).
    y_train = np.asarray(_apply(block, variables, x, train=True, rngs={"dropout": KEY}))
    kept = y_train != 0
    assert np.any(~kept & (np.asarray(y1) != 0))
    np.testing.assert_allclose(y_train[kept], 2 * np.asarray(y1)[kept], rtol=1e-5)


def test_conv_block_no_pooling_keeps_length_with_same_padding():
    x = np.ones((1, 7, 4), np.float32)
    block = ConvBlock(features=2, kernel_size=5, activation="identity")
    variables = _init(block, x)
    assert _apply(block, variables, x).shape == (1, 7, 2)


def test_conv_block_batch_norm_stats_and_running_average():
    x = (3.0 + 2.0 * np.random.default_rng(7).normal(size=(4, 10, 3))).astype(np.float32)
    block = ConvBlock(features=2, kernel_size=3, batch_norm=True, activation="identity")
    variables = _init(block, x)
    assert set(variables) == {"params", "batch_stats"}
    assert variables["batch_stats"]["BatchNorm_0"]["mean"].shape == (2,)
    assert variables["batch_stats"]["BatchNorm_0"]["var"].shape == (2,)
    mean, var = np.array([0.5, -1.0], np.float32), np.array([4.0, 0.25], np.float32)
    scale, bias = np.array([2.0, 0.5], np.float32), np.array([0.1, -0.3], np.float32)
    variables = {
        "params": {**variables["params"], "BatchNorm_0": {"scale": scale, "bias": bias}},
        "batch_stats": {"BatchNorm_0": {"mean": mean, "var": var}},
    }
    conv_only = ConvBlock(features=2, kernel_size=3, activation="identity")
    raw = np.asarray(_apply(conv_only, {"params": {"Conv_0": variables["params"]["Conv_0"]}}, x))
    # Eval normalises with the running averages.
    y_eval = np.asarray(_apply(block, variables, x, train=False))
    expected = (raw - mean) / np.sqrt(var + 1e-5) * scale + bias
    np.testing.assert_allclose(y_eval, expected, rtol=1e-4, atol=1e-4)
    # Train normalises with the batch's statistics and updates the running averages.
    y_train, updates = _apply(block, variables, x, train=True, mutable=("batch_stats",))
    z = (np.asarray(y_train) - bias) / scale
    np.testing.assert_allclose(z.mean(axis=(0, 1)), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 1)), 1.0, atol=1e-3)
    stats = updates["batch_stats"]["BatchNorm_0"]
    np.testing.assert_allclose(
        np.asarray(stats["mean"]), 0.99 * mean + 0.01 * raw.mean(axis=(0, 1)), rtol=1e-4
    )
    np.testing.assert_allclose(
        np.asarray(stats["var"]), 0.99 * var + 0.01 * raw.var(axis=(0, 1)), rtol=1e-4
    )


# --- Pooling and masks ------------------------------------------------------------------------


def test_global_pools_ignore_masked_positions():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 6, 2)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 0, 0]], bool)
    x[~mask] = 100.0  # would dominate both pools if read
    expected_max = np.stack([x[b][mask[b]].max(axis=0) for b in range(3)])
    expected_avg = np.stack([x[b][mask[b]].mean(axis=0) for b in range(3)])
    max_pool, avg_pool = jax.jit(global_max_pool), jax.jit(global_avg_pool)
    np.testing.assert_allclose(np.asarray(max_pool(x, mask)), expected_max, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(avg_pool(x, mask)), expected_avg, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(max_pool(x)), x.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(avg_pool(x)), x.mean(axis=1), rtol=1e-6)


def test_global_avg_pool_all_masked_row_is_finite():
    x = np.ones((1, 4, 2), np.float32)
    out = np.asarray(jax.jit(global_avg_pool)(x, np.zeros((1, 4), bool)))
    np.testing.assert_array_equal(out, 0.0)


def test_global_max_pool_all_masked_row_is_zero():
    x = -np.ones((2, 4, 2), np.float32)
    mask = np.array([[0, 0, 0, 0], [0, 1, 0, 0]], bool)
    out = np.asarray(jax.jit(global_max_pool)(x, mask))
    np.testing.assert_array_equal(out, [[0.0, 0.0], [-1.0, -1.0]])


def test_output_mask_marks_exactly_the_valid_windows_inside_the_sequence():
    rng = np.random.default_rng(4)
    lengths = np.array([10, 7, 3, 0, 4])
    mask = np.arange(10)[None, :] < lengths[:, None]
    # A mask with a hole, too: windows over the hole are not valid.
    mask = np.concatenate([mask, (rng.random((1, 10)) < 0.7)])
    for k in (1, 3, 4):
        out = np.asarray(jax.jit(output_mask, static_argnums=(1, 2))(mask, k, "VALID"))
        expected = np.array(
            [[mask[b, i : i + k].all() for i in range(10 - k + 1)] for b in range(len(mask))]
        )
        assert out.shape == (len(mask), 10 - k + 1) and out.dtype == bool
        np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.asarray(output_mask(jnp.asarray(mask), 5, "SAME")), mask)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_kmer_spectrum_counts_the_windows_of_bases(k):
    seqs = ["ACGTTGCAAC", "GGNACGT", "TTTA"]
    x, mask = one_hot(seqs, DNA, length=10)
    got = np.asarray(kmer_spectrum(jnp.asarray(x), k, jnp.asarray(mask)))
    for row, seq in zip(got, seqs, strict=True):
        kmers = [seq[i : i + k] for i in range(len(seq) - k + 1) if "N" not in seq[i : i + k]]
        want = np.zeros(4**k)
        for kmer in kmers:
            want[int("".join(str("ACGT".index(b)) for b in kmer), 4)] += 1 / len(kmers)
        np.testing.assert_allclose(row, want, atol=1e-6)


def test_kmer_spectrum_of_protein_residues_counts_pairs_over_20_letters():
    x = jax.nn.one_hot(jnp.array([[0, 1, 0, 1, 19, 20]]), 20)  # the last position: no letter
    got = np.asarray(kmer_spectrum(x, 2))
    want = np.zeros(400)
    for pair in [(0, 1), (1, 0), (0, 1), (1, 19)]:
        want[20 * pair[0] + pair[1]] += 1 / 4
    np.testing.assert_allclose(got[0], want, atol=1e-6)


def test_deepdbp_feeds_residue_composition_beside_the_pooled_filters():
    tokens_ = jnp.array([[1, 2, 1, 2, 20, 21, 0, 0]])  # A C A C Y X, padding
    model = create_model(
        name="deepdbp", embed_dim=4, num_filters=3, kernel_sizes=(3,), hidden=2, kmer_sizes=(1,)
    )
    variables = _init(model, tokens_)
    seen = {}

    def record_hidden_input(next_fun, args, kwargs, context):
        if context.module.name == "hidden":
            seen["input"] = np.asarray(args[0])
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(record_hidden_input):
        model.apply(variables, tokens_)
    composition = np.zeros(20)
    composition[[0, 1, 19]] = [2 / 5, 2 / 5, 1 / 5]  # the ambiguous X is not a residue
    assert seen["input"].shape == (1, 2 * 3 + 20)  # max and mean of 3 filters, 20 residues
    np.testing.assert_allclose(seen["input"][0, 6:], 20 * composition, atol=1e-6)


# --- OutputHead -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "num_outputs", "shape"),
    [
        ("binary", 1, (3,)),
        ("multiclass", 4, (3, 4)),
        ("multilabel", 5, (3, 5)),
        ("regression", 1, (3,)),
        ("regression", 2, (3, 2)),
    ],
)
def test_output_head_shapes(task, num_outputs, shape):
    head = OutputHead(task, num_outputs)
    x = jnp.ones((3, 7))
    variables = _init(head, x)
    y = _apply(head, variables, x)
    assert y.shape == shape and y.dtype == jnp.float32
    assert variables["params"]["dense"]["kernel"].shape == (7, num_outputs)


def test_output_head_unknown_task_raises():
    head = OutputHead("ranking")
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        _init(head, jnp.ones((2, 3)))


# --- DeepBind and the registry ----------------------------------------------------------------


def test_deepbind_forward_shape_and_deterministic_eval():
    rng = np.random.default_rng(5)
    x, mask = one_hot(_random_dna(rng, 5, 20), DNA)
    model = DeepBind(num_filters=4, filter_width=6, hidden=8, dropout_rate=0.5)
    variables = _init(model, x, mask)
    y = _apply(model, variables, x, mask)
    assert y.shape == (5,) and np.all(np.isfinite(np.asarray(y)))
    np.testing.assert_array_equal(np.asarray(y), np.asarray(_apply(model, variables, x, mask)))
    assert variables["params"]["motif_conv"]["conv"]["kernel"].shape == (6, 4, 4)
    assert variables["params"]["hidden"]["kernel"].shape == (4, 8)
    y_train = _apply(model, variables, x, mask, train=True, rngs={"dropout": KEY})
    assert y_train.shape == (5,)


def _np_deepbind(variables, seq):
    """DeepBind (both strands, max_avg pooling, one hidden layer) on one unpadded sequence."""
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), variables["params"])
    conv = p["motif_conv"]["conv"]
    xs, _ = one_hot([seq], DNA)
    xr, _ = one_hot(reverse_complement([seq], DNA), DNA)
    fwd = _np_conv_valid(xs.astype(np.float64), conv["kernel"], conv["bias"])[0]
    rev = _np_conv_valid(xr.astype(np.float64), conv["kernel"], conv["bias"])[0, ::-1]
    h = np.maximum(np.maximum(fwd, rev), 0.0)
    pooled = np.concatenate([h.max(axis=0), h.mean(axis=0)])
    hidden = np.maximum(pooled @ p["hidden"]["kernel"] + p["hidden"]["bias"], 0.0)
    return (hidden @ p["head"]["dense"]["kernel"] + p["head"]["dense"]["bias"])[0]


def test_deepbind_padded_batch_matches_numpy_reference():
    seqs = ["ACGTACGGTACCA", "TTGACA", "GATTACAGATTACAGA"]
    model = DeepBind(
        num_filters=3, filter_width=4, hidden=5, reverse_complement=True, pooling="max_avg"
    )
    x, mask = one_hot(seqs, DNA, length=16)
    variables = _init(model, x, mask)
    batched = np.asarray(_apply(model, variables, x, mask))
    expected = [_np_deepbind(variables, seq) for seq in seqs]
    np.testing.assert_allclose(batched, expected, rtol=1e-4, atol=1e-4)


def test_deepbind_max_avg_doubles_pooled_features():
    x, mask = one_hot(["ACGTACGTAC"] * 2, DNA)
    for pooling, width in (("max", 3), ("max_avg", 6)):
        model = DeepBind(num_filters=3, filter_width=4, hidden=7, pooling=pooling)
        variables = _init(model, x, mask)
        assert variables["params"]["hidden"]["kernel"].shape == (width, 7)
    direct = DeepBind(num_filters=3, filter_width=4, hidden=0, pooling="max_avg")
    variables = _init(direct, x, mask)
    assert "hidden" not in variables["params"]
    assert variables["params"]["head"]["dense"]["kernel"].shape == (6, 1)


def test_deepbind_unknown_pooling_raises():
    with pytest.raises(ValueError, match="unknown pooling"):
        _init(DeepBind(num_filters=2, filter_width=3, pooling="min"), jnp.ones((1, 5, 4)))


def test_deepbind_sequence_shorter_than_filter_is_finite():
    # No VALID window lies inside "ACG": pooling must not leak finfo.min (-> inf / NaN).
    x, mask = one_hot(["ACGTACGTAC", "ACG"], DNA, length=10)
    for hidden in (8, 0):
        model = DeepBind(num_filters=4, filter_width=5, hidden=hidden)
        variables = _init(model, x, mask)
        y = np.asarray(_apply(model, variables, x, mask))
        assert np.all(np.isfinite(y))
    # With no hidden layer, the short sequence's pooled features are 0: output = head bias.
    np.testing.assert_allclose(y[1], variables["params"]["head"]["dense"]["bias"][0], rtol=1e-6)


def test_create_model_builds_registered_model():
    model = create_model("deepbind", num_filters=2, filter_width=3, hidden=0)
    assert isinstance(model, DeepBind)
    assert (model.num_filters, model.filter_width, model.hidden) == (2, 3, 0)


def test_create_model_unknown_name_raises_pgx_error():
    with pytest.raises(PgxError, match=r"config\.model\.name: unknown model 'deepsee'.*deepbind"):
        create_model("deepsee")


def test_create_model_unknown_field_raises_pgx_error():
    with pytest.raises(PgxError, match=r"config\.model: deepbind has no field\(s\) \['filters'\]"):
        create_model("deepbind", filters=3)
    with pytest.raises(PgxError, match="num_filters"):
        create_model("deepbind", filters=3)
    with pytest.raises(PgxError):
        create_model("deepbind", parent=None)


def test_one_hot_conv_refuses_inputs_it_cannot_scan():
    x = jnp.zeros((1, 5, 4))
    with pytest.raises(ValueError, match="shorter than the kernel"):
        OneHotConv(2, 8).init(jax.random.PRNGKey(0), x)
    with pytest.raises(ValueError, match="odd kernel"):
        OneHotConv(2, 4, padding="SAME", reverse_complement=True).init(jax.random.PRNGKey(0), x)
