"""EmbeddingConv on embedded rows against one-hot tokens, forward and backward.

  python benchmarks/embedding_conv.py [--repeats 5] [--steps 20]

For the shapes the models use, times one jitted gradient of a loss through the layer (with
respect to the embedding, kernel and bias) with `one_hot=False` (gather the embedding rows,
convolve them) and `one_hot=True` (convolve one-hot tokens with the per-token table), in turn
within each repeat, and prints the median milliseconds, their ratio and which one the
layer's automatic rule (`one_hot=None`) picks. The two agree to float tolerance (checked here
and in tests/test_layers.py).
"""

import jax
import jax.numpy as jnp
import numpy as np
from in_turn import layer_benchmark_args, median_ms_in_turn

from pgx_jax.models.layers import EmbeddingConv

SHAPES = {
    # name: (rows, length, vocabulary, embedding, filters, kernel, padding)
    "DeepDTA protein, block batch (8 rows)": (8, 1200, 26, 128, 32, 8, "VALID"),
    "DeepDTA protein, blocks of 8 pairs (32 rows)": (32, 1200, 26, 128, 32, 8, "VALID"),
    "DeepDTA SMILES (72 rows)": (72, 85, 65, 128, 32, 4, "VALID"),
    "DeepDTA protein, naive (256 rows)": (256, 1200, 26, 128, 32, 8, "VALID"),
    "DeepDBP bank, width 11 (64 rows)": (64, 512, 26, 16, 256, 11, "SAME"),
    "DeepDBP bank, width 21 (64 rows)": (64, 512, 26, 16, 256, 21, "SAME"),
}


def gradient_fn(rows, length, vocab, embed, filters, kernel, padding, one_hot):
    layer = EmbeddingConv(vocab, embed, filters, kernel, padding=padding, one_hot=one_hot)
    rng = np.random.default_rng(0)
    tokens = jnp.asarray(rng.integers(1, vocab, (rows, length)), jnp.int32)
    params = layer.init(jax.random.key(0), tokens)["params"]
    out_length = length if padding == "SAME" else length - kernel + 1
    weights = jnp.asarray(rng.normal(size=(rows, out_length, filters)), jnp.float32)

    def loss(params, tokens, weights):
        return jnp.sum(layer.apply({"params": params}, tokens) * weights)

    return jax.jit(jax.value_and_grad(loss)), (params, tokens, weights)


def main() -> None:
    args = layer_benchmark_args(__doc__)
    print("| layer shape | embedded rows, ms | one-hot, ms | embedded / one-hot | automatic rule |")
    print("| --- | --- | --- | --- | --- |")
    for name, shape in SHAPES.items():
        runners = {one_hot: gradient_fn(*shape, one_hot) for one_hot in (False, True)}
        results = {one_hot: fn(*inputs) for one_hot, (fn, inputs) in runners.items()}
        (conv_loss, conv_grads), (hot_loss, hot_grads) = results[False], results[True]
        np.testing.assert_allclose(hot_loss, conv_loss, rtol=1e-4)
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(
                a, b, rtol=1e-3, atol=1e-3 * float(jnp.max(jnp.abs(b)))
            ),
            hot_grads,
            conv_grads,
        )
        times = median_ms_in_turn(runners, args.repeats, args.steps)
        conv, hot = times[False], times[True]
        vocab, embed = shape[2], shape[3]
        print(
            f"| {name} | {conv:.2f} | {hot:.2f} | {conv / hot:.2f}x | "
            f"{'one-hot' if vocab <= 2 * embed else 'embedded rows'} |"
        )


if __name__ == "__main__":
    main()
