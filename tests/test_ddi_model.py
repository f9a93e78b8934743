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
