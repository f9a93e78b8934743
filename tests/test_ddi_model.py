"""The DDI text CNN's pooling: per-stretch maxima when the two drugs cut the sentence."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.ddi import relative_positions
from pgx_jax.models.textcnn import TextCNN


@pytest.mark.parametrize("swap", [False, True])
def test_piecewise_pooling_cuts_the_sentence_at_the_two_drugs(swap):
    """Drugs at tokens 2 and 5 of 8 (then padding): stretches 0-2, 3-5 and 6-7, whichever
    drug is DRUG1; the logits are the head applied to the per-stretch convolution maxima."""
    max_distance, length, first, second = 4, 10, 2, 5
    e1, e2 = (second, first) if swap else (first, second)
    mask = np.arange(length) < 8
    inputs = {
        "tokens": jnp.asarray(np.where(mask, np.arange(1, length + 1), 0)[None]),
        "pos1": jnp.asarray(np.where(mask, relative_positions(length, e1, max_distance), 0)[None]),
        "pos2": jnp.asarray(np.where(mask, relative_positions(length, e2, max_distance), 0)[None]),
        "mask": jnp.asarray(mask[None]),
    }
    model = TextCNN(
        vocab_size=12,
        embed_dim=4,
        max_distance=max_distance,
        window_sizes=(1,),
        num_filters=3,
        pooling="piecewise",
    )
    masks = model._pool_masks(inputs["pos1"], inputs["pos2"], inputs["mask"])
    stretches = [np.flatnonzero(np.asarray(m[0])).tolist() for m in masks]
    assert stretches == [[0, 1, 2], [3, 4, 5], [6, 7]]

    variables = model.init(jax.random.PRNGKey(0), **inputs)
    logits, state = model.apply(
        variables, **inputs, capture_intermediates=True, mutable=["intermediates"]
    )
    conv = np.maximum(np.asarray(state["intermediates"]["conv1"]["__call__"][0][0]), 0.0)
    pooled = np.concatenate([conv[s].max(axis=0) for s in stretches])
    head = variables["params"]["head"]["dense"]
    expected = pooled @ np.asarray(head["kernel"]) + np.asarray(head["bias"])
    np.testing.assert_allclose(np.asarray(logits[0]), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("unroll", [False, True])
def test_text_cnn_ensemble_averages_class_probabilities_and_trains_each_member(unroll):
    """Members' softmax averaged at evaluation; in training each member's logits [B, M, C]
    meet the class labels [B] in its own cross entropy. Vmapped or unrolled, the members are
    stacked the same way and start from different parameters."""
    from experiments.ddi import text_model
    from pgx_jax.train import losses

    rng = np.random.default_rng(0)
    mask = np.arange(7)[None] < np.array([[7], [4], [6]])
    inputs = {
        "tokens": jnp.asarray(np.where(mask, rng.integers(1, 9, (3, 7)), 0)),
        "pos1": jnp.asarray(np.where(mask, rng.integers(1, 9, (3, 7)), 0)),
        "pos2": jnp.asarray(np.where(mask, rng.integers(1, 9, (3, 7)), 0)),
        "mask": jnp.asarray(mask),
    }
    fields = {"name": "textcnn", "max_distance": 4, "window_sizes": (2, 3), "num_filters": 3}
    model = text_model(
        {"name": "ensemble", "num_members": 3, "member": fields, "unroll": unroll},
        vocab_size=9,
        embed_dim=4,
    )
    variables = model.init(jax.random.PRNGKey(0), **inputs)
    single = TextCNN(vocab_size=9, embed_dim=4, **{k: v for k, v in fields.items() if k != "name"})
    members = [
        jax.tree.map(lambda a, i=i: a[i], variables["params"]["members"]["TextCNN_0"])
        for i in range(3)
    ]
    words = [np.asarray(p["words"]["embedding_0"]) for p in members]
    assert not np.allclose(words[0], words[1]) and not np.allclose(words[1], words[2])
    probabilities = [jax.nn.softmax(single.apply({"params": p}, **inputs)) for p in members]
    out = model.apply(variables, **inputs)
    assert out.shape == (3, 5)
    np.testing.assert_allclose(
        jax.nn.softmax(out), np.mean(probabilities, axis=0), rtol=1e-5, atol=1e-6
    )

    labels = jnp.array([0, 3, 1])
    train_logits = model.apply(variables, **inputs, train=True, rngs={"dropout": jax.random.key(1)})
    assert train_logits.shape == (3, 3, 5)
    expected = np.mean(
        [
            losses.weighted_loss("multiclass", train_logits[:, m], labels, jnp.ones(3))
            for m in range(3)
        ]
    )
    loss = losses.weighted_loss("multiclass", train_logits, labels, jnp.ones(3))
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
