"""bfloat16 compute with float32 parameters and loss, switched on by config alone."""

import re

import jax
import jax.numpy as jnp
import pytest
from conftest import read_json, run_pgx

from pgx_jax.models.deepbind import DeepBind
from pgx_jax.models.layers import EmbeddingConv, MaxPooledConv
from pgx_jax.models.textcnn import TextCNN


def test_bfloat16_model_keeps_float32_parameters_and_outputs():
    model = DeepBind(dtype=jnp.bfloat16)
    x = jnp.ones((2, 30, 4))
    variables = model.init(jax.random.PRNGKey(0), x)
    assert {p.dtype for p in jax.tree.leaves(variables)} == {jnp.dtype("float32")}
    _, state = model.apply(variables, x, capture_intermediates=True, mutable=["intermediates"])
    conv_out = state["intermediates"]["motif_conv"]["__call__"][0]
    assert conv_out.dtype == jnp.bfloat16
    assert model.apply(variables, x).dtype == jnp.float32


def test_bfloat16_text_cnn_computes_in_bfloat16_close_to_float32():
    tokens = jax.random.randint(jax.random.PRNGKey(1), (3, 12), 1, 50)
    pos = jnp.broadcast_to(jnp.arange(1, 13), (3, 12))
    mask = jnp.arange(12)[None, :] < jnp.array([[12], [9], [5]])
    inputs = (tokens, pos, pos[:, ::-1], mask)
    full = TextCNN(vocab_size=50, embed_dim=8, num_filters=6, max_distance=20)
    half = full.clone(dtype=jnp.bfloat16)
    variables = full.init(jax.random.PRNGKey(0), *inputs)
    half_variables = half.init(jax.random.PRNGKey(0), *inputs)
    assert {p.dtype for p in jax.tree.leaves(half_variables)} == {jnp.dtype("float32")}
    _, state = half.apply(variables, *inputs, capture_intermediates=True, mutable="intermediates")
    assert state["intermediates"]["conv3"]["__call__"][0].dtype == jnp.bfloat16
    logits = half.apply(variables, *inputs)
    assert logits.dtype == jnp.float32
    reference = full.apply(variables, *inputs)
    assert jnp.max(jnp.abs(logits - reference)) < 0.02 * jnp.max(jnp.abs(reference)) + 1e-3


def _scatter_add_dtypes(model, variables, *inputs) -> list[str]:
    """Result dtypes of every scatter-add in the parameter gradient's jaxpr."""

    def loss(params):
        return jnp.sum(model.apply({"params": params}, *inputs) ** 2)

    jaxpr = str(jax.make_jaxpr(jax.grad(loss))(variables["params"]))
    return re.findall(r"\b(\w+)\[[^\]]*\] = scatter-add", jaxpr)


@pytest.mark.parametrize("one_hot", [False, True])
def test_bfloat16_embedding_gradients_scatter_add_in_float32(one_hot):
    """bfloat16 scatter-adds into a few embedding rows are 10x slower on GPUs
    (docs/performance.md): the embedded form gathers in float32 and casts after, and the
    one-hot form has no gather or scatter at all."""
    tokens = jax.random.randint(jax.random.PRNGKey(1), (4, 40), 0, 5)
    full = EmbeddingConv(5, 8, 6, 3, one_hot=one_hot)
    half = full.clone(dtype=jnp.bfloat16)
    variables = full.init(jax.random.PRNGKey(0), tokens)
    assert half.apply(variables, tokens).dtype == jnp.bfloat16
    dtypes = _scatter_add_dtypes(half, variables, tokens)
    if one_hot:
        assert dtypes == []
    else:
        assert dtypes and set(dtypes) == {"f32"}


def test_bfloat16_max_pooled_conv_input_gradient_scatter_adds_in_float32():
    """The input gradient of `MaxPooledConv` (DeepDTA's third convolutions) is a scatter-add
    of window gradients: float32 there too, cast to bfloat16 after."""
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 40, 6)).astype(jnp.bfloat16)
    mask = jnp.arange(40)[None] < jnp.array([[40], [30], [9], [3]])
    full = MaxPooledConv(5, 3)
    half = full.clone(dtype=jnp.bfloat16)
    variables = full.init(jax.random.PRNGKey(0), x, mask)
    assert half.apply(variables, x, mask).dtype == jnp.bfloat16

    def loss(x):
        return jnp.sum(half.apply(variables, x, mask).astype(jnp.float32) ** 2)

    jaxpr = str(jax.make_jaxpr(jax.grad(loss))(x))
    dtypes = re.findall(r"\b(\w+)\[[^\]]*\] = scatter-add", jaxpr)
    assert dtypes and set(dtypes) == {"f32"}
    assert jax.grad(loss)(x).dtype == jnp.bfloat16


@pytest.mark.slow
def test_bfloat16_trains_to_the_same_quality(tmp_path):
    auroc = {}
    for dtype in ("float32", "bfloat16"):
        workdir = str(tmp_path / dtype)
        run_pgx(
            [
                "train",
                "--config=configs/binding/deepbind.py",
                "--config.data.num_examples=6000",
                "--config.train.num_epochs=8",
                f"--config.train.compute_dtype={dtype}",
                f"--workdir={workdir}",
            ]
        )
        auroc[dtype] = read_json(f"{workdir}/results.json")["test/auroc"]
    assert auroc["float32"] > 0.85 and auroc["bfloat16"] > 0.85
    assert abs(auroc["float32"] - auroc["bfloat16"]) < 0.03
