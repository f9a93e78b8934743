"""Recurrent hybrids: padding changes nothing, the focal loss by hand, a tiny hybrid learns."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs.ddi import textcnn as ddi_config
from pgx_jax.models import create_model
from pgx_jax.models.recurrent import BiRNN, ConvRecurrent, TextRecurrent
from pgx_jax.train import losses


def _padded(x: np.ndarray, extra: int, rng: np.random.Generator) -> np.ndarray:
    """x with `extra` positions of random values appended on axis 1."""
    tail = rng.normal(size=(x.shape[0], extra, *x.shape[2:])).astype(x.dtype)
    return np.concatenate([x, tail], axis=1)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_birnn_padding_changes_nothing(cell):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 3)).astype(np.float32)
    mask = np.arange(7)[None, :] < np.array([[4], [7]])
    rnn = BiRNN(5, cell)
    variables = rnn.init(jax.random.key(0), x, mask)
    short = np.asarray(rnn.apply(variables, x, mask))
    x_long, mask_long = _padded(x, 6, rng), np.pad(mask, ((0, 0), (0, 6)))
    long = np.asarray(rnn.apply(variables, x_long, mask_long))
    np.testing.assert_allclose(long[:, :7], short, atol=1e-6)
    assert not long[:, 7:].any() and not short[0, 4:].any()
    # The backward states of row 0 start at its last real position: without the lengths they
    # would read the padding, and differ.
    unmasked = np.asarray(rnn.apply(variables, x, np.ones_like(mask)))
    assert np.abs(unmasked[0, :4, 5:] - short[0, :4, 5:]).max() > 1e-3
    np.testing.assert_allclose(unmasked[1], short[1], atol=1e-6)


def test_conv_recurrent_padding_changes_nothing():
    rng = np.random.default_rng(1)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 20))]
    structure = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (3, 20))]
    mask = np.arange(20)[None, :] < np.array([[20], [13], [8]])
    model = ConvRecurrent(num_filters=6, filter_width=5, structure_filters=3, rnn_hidden=4)
    variables = model.init(jax.random.key(0), x, mask, structure)
    short = model.apply(variables, x, mask, structure)
    padded = (_padded(x, 11, rng), np.pad(mask, ((0, 0), (0, 11))), _padded(structure, 11, rng))
    np.testing.assert_allclose(model.apply(variables, *padded), short, atol=1e-5)


@pytest.mark.parametrize("order", ["rnn_cnn", "cnn_rnn"])
def test_text_recurrent_padding_changes_nothing(order):
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, 30, (2, 9)).astype(np.int32)
    mask = np.arange(9)[None, :] < np.array([[9], [5]])
    pos = np.where(mask, np.arange(9) + 95, 0).astype(np.int32)
    model = TextRecurrent(vocab_size=30, embed_dim=6, num_filters=4, rnn_hidden=3, order=order)
    variables = model.init(jax.random.key(0), tokens, pos, pos, mask)
    short = model.apply(variables, tokens, pos, pos, mask)
    garbage = rng.integers(1, 30, (2, 7)).astype(np.int32)
    long = model.apply(
        variables,
        np.concatenate([tokens, garbage], 1),
        np.concatenate([pos, garbage], 1),
        np.concatenate([pos, garbage], 1),
        np.pad(mask, ((0, 0), (0, 7))),
    )
    np.testing.assert_allclose(long, short, atol=1e-5)


def test_ddi_hybrid_configs_build():
    for variant in ("sgru_cnn", "rhcnn,focal=2"):
        config = ddi_config.get_config(variant)
        model = create_model(**config.model, vocab_size=10, embed_dim=config.words.dim)
        assert isinstance(model, TextRecurrent)
    assert losses.focal_parameters(config.train, "multiclass") == (2.0, -1.0)
    assert losses.focal_parameters(ddi_config.get_config("rhcnn").train, "multiclass") is None


def test_focal_loss_by_hand():
    gamma, alpha = 2.0, 0.25
    got = losses.focal_loss("binary", jnp.array([2.0, -1.0]), jnp.array([1, 0]), gamma, alpha)
    p1, p0 = 1 / (1 + math.exp(-2.0)), 1 - 1 / (1 + math.exp(1.0))  # p_t of each example
    want = [-alpha * (1 - p1) ** 2 * math.log(p1), -(1 - alpha) * (1 - p0) ** 2 * math.log(p0)]
    np.testing.assert_allclose(got, want, rtol=1e-5)

    logits = jnp.array([[1.0, 2.0, 0.5], [0.3, -1.0, 0.0]])
    got = losses.focal_loss("multiclass", logits, jnp.array([1, 0]), gamma, alpha)
    e = np.exp(np.asarray(logits))
    p = [e[0, 1] / e[0].sum(), e[1, 0] / e[1].sum()]
    want = [
        -alpha * (1 - p[0]) ** 2 * math.log(p[0]),
        -(1 - alpha) * (1 - p[1]) ** 2 * math.log(p[1]),
    ]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # gamma 0 and no alpha: the cross-entropy
    plain = losses.weighted_loss("multiclass", logits, jnp.array([1, 0]), jnp.ones(2))
    focal0 = losses.weighted_loss("multiclass", logits, jnp.array([1, 0]), jnp.ones(2), (0.0, -1))
    np.testing.assert_allclose(focal0, plain, rtol=1e-6)


def _motif_data(n: int, rng: np.random.Generator):
    """Random DNA of 24-40 nt; label 1 where 'GATTACA' is planted at a random place."""
    lengths = rng.integers(24, 41, n)
    tokens = rng.integers(0, 4, (n, 40))
    labels = rng.integers(0, 2, n)
    for i in np.flatnonzero(labels):
        start = rng.integers(0, lengths[i] - 7)
        tokens[i, start : start + 7] = [2, 0, 3, 3, 0, 1, 0]
    mask = np.arange(40)[None, :] < lengths[:, None]
    return np.eye(4, dtype=np.float32)[tokens] * mask[..., None], mask, labels


def test_tiny_hybrid_learns_a_motif():
    rng = np.random.default_rng(0)
    train, test = _motif_data(512, rng), _motif_data(256, rng)
    model = ConvRecurrent(num_filters=8, filter_width=7, rnn_hidden=8, hidden=8, dropout_rate=0.0)
    params = model.init(jax.random.key(0), train[0][:2], train[1][:2])["params"]
    tx = optax.adam(1e-2)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, x, mask, y):
        def loss_fn(p):
            logits = model.apply({"params": p}, x, mask)
            return losses.weighted_loss("binary", logits, y, jnp.ones(len(y)), (2.0, -1.0))

        grads = jax.grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state

    for s in range(150):
        rows = slice(64 * (s % 8), 64 * (s % 8 + 1))
        params, opt_state = step(params, opt_state, train[0][rows], train[1][rows], train[2][rows])
    logits = model.apply({"params": params}, test[0], test[1])
    accuracy = np.mean((np.asarray(logits) > 0) == test[2])
    assert accuracy > 0.85, accuracy
