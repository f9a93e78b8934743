"""DeepDTA: factorised and per-pair batches give the same loss and gradients; exact CI."""

import itertools

import flax.linen as nn
import jax
import numpy as np
import pytest

from pgx_jax.data import pair_batches
from pgx_jax.metrics import concordance_index
from pgx_jax.models import create_model
from pgx_jax.models.deepdta import PairDense
from pgx_jax.train import losses


def small_deepdta():
    return create_model(
        "deepdta",
        smiles_vocab=65,
        protein_vocab=26,
        embed_dim=8,
        num_filters=4,
        smiles_kernel=3,
        protein_kernel=5,
        hidden=(32, 32, 16),
        dropout_rate=0.1,
    )


def random_tokens(rng, rows, length, vocab):
    tokens = rng.integers(1, vocab, (rows, length))
    lengths = rng.integers(length // 3, length + 1, rows)
    return np.where(np.arange(length) < lengths[:, None], tokens, 0).astype(np.int32)


def test_factorised_gradients_equal_per_pair_gradients():
    rng = np.random.default_rng(0)
    drug_tokens = random_tokens(rng, 7, 20, 65)
    protein_tokens = random_tokens(rng, 5, 60, 26)
    records = {
        "drug_index": rng.integers(0, 7, 48).astype(np.int32),
        "protein_index": rng.integers(0, 3, 48).astype(np.int32),
        "label": rng.normal(6.0, 1.0, 48).astype(np.float32),
    }
    records["label"][5] = np.nan
    model = small_deepdta()
    batches = {
        factorised: pair_batches.encode_pairs(
            records, drug_tokens=drug_tokens, protein_tokens=protein_tokens, factorised=factorised
        )
        for factorised in (False, True)
    }
    assert batches[True]["inputs"]["protein_tokens"].shape[0] == 8  # 3 distinct, bucket of 8
    params = model.init(jax.random.key(0), **batches[False]["inputs"])["params"]

    def loss(params, batch):
        out = model.apply(
            {"params": params}, **batch["inputs"], train=True, rngs={"dropout": jax.random.key(1)}
        )
        return losses.weighted_loss("regression", out, batch["label"], batch["weight"])

    grad = jax.jit(jax.value_and_grad(loss))
    (naive_loss, naive_grads), (fact_loss, fact_grads) = (
        grad(params, batches[False]),
        grad(params, batches[True]),
    )
    np.testing.assert_allclose(fact_loss, naive_loss, rtol=1e-5)
    flat_naive = jax.tree_util.tree_leaves_with_path(naive_grads)
    for (path, a), b in zip(flat_naive, jax.tree.leaves(fact_grads), strict=True):
        scale = float(np.max(np.abs(a))) + 1e-12
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5 * scale, err_msg=str(path))
    assert float(np.max(np.abs(naive_grads["protein"]["conv3"]["kernel"]))) > 0


def test_pair_dense_is_dense_over_the_concatenated_pair():
    """Same parameters (names, shapes, initial values) and outputs as nn.Dense on
    concat(drugs[i], proteins[j])."""
    rng = np.random.default_rng(3)
    drugs, proteins = rng.normal(size=(7, 6)), rng.normal(size=(4, 9))
    i, j = rng.integers(0, 7, 30), rng.integers(0, 4, 30)
    pairs = np.concatenate([drugs[i], proteins[j]], axis=-1)
    dense, pair_dense = nn.Dense(5), PairDense(5)
    variables = dense.init(jax.random.key(2), pairs)
    jax.tree.map(
        np.testing.assert_array_equal,
        pair_dense.init(jax.random.key(2), drugs, proteins, i, j),
        variables,
    )
    np.testing.assert_allclose(
        pair_dense.apply(variables, drugs, proteins, i, j),
        dense.apply(variables, pairs),
        rtol=1e-5,
        atol=1e-6,
    )


def brute_force_ci(y, f):
    score = pairs = 0.0
    for i, j in itertools.permutations(range(len(y)), 2):
        if y[i] > y[j]:
            pairs += 1
            score += 1.0 if f[i] > f[j] else 0.5 if f[i] == f[j] else 0.0
    return score / pairs


@pytest.mark.parametrize("seed", range(5))
def test_concordance_index_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 6, 120).astype(float)  # many tied targets
    f = np.round(y + rng.normal(0, 2, 120))  # and tied predictions
    assert concordance_index(y, f) == pytest.approx(brute_force_ci(y, f), abs=1e-12)
