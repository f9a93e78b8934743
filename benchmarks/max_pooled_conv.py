"""A convolution then a global max pool: dense gradients against `MaxPooledConv`'s sparse one.

  python benchmarks/max_pooled_conv.py [--repeats 5] [--steps 20]

For the shapes the models use, times one jitted gradient of a loss through
relu(max over real positions of conv(x)) with respect to the input, kernel and bias: as
`nn.Conv` followed by `global_max_pool` (autodiff: two convolutions over every position in
the backward pass) and as `MaxPooledConv` (the gradient through each filter's best window),
in turn within each repeat. Prints the median milliseconds and their ratio; the two agree to
float tolerance (checked here and in tests/test_layers.py). DeepDTA's third convolutions use
`MaxPooledConv`; the text CNN keeps the dense form, which is faster at its shapes on a CPU.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from in_turn import layer_benchmark_args, median_ms_in_turn

from pgx_jax.models.layers import MaxPooledConv, global_max_pool, output_mask

SHAPES = {
    # name: (rows, length, channels, filters, kernel, padding)
    "DeepDTA protein conv3, block batch (8 rows)": (8, 1186, 64, 96, 8, "VALID"),
    "DeepDTA protein conv3, naive (256 rows)": (256, 1186, 64, 96, 8, "VALID"),
    "DeepDTA SMILES conv3 (72 rows)": (72, 79, 64, 96, 4, "VALID"),
    "DDI text CNN, width 5 (256 sentences)": (256, 64, 120, 100, 5, "SAME"),
}


class DensePooledConv(nn.Module):
    """The autodiff reference: `nn.Conv`, then `global_max_pool` under the output mask."""

    features: int
    kernel_size: int
    padding: str

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        h = nn.Conv(self.features, (self.kernel_size,), padding=self.padding, name="conv")(x)
        return global_max_pool(h, output_mask(mask, self.kernel_size, self.padding))


def gradient_fn(layer: nn.Module, rows, length, channels, filters, kernel):
    """A jitted loss-and-gradient through `layer` and its inputs; both layers get the same
    kernel and bias (the dense one holds them under `conv`)."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(rows, length, channels)), jnp.float32)
    mask = jnp.asarray(np.arange(length)[None] < rng.integers(length // 2, length + 1, (rows, 1)))
    params = {
        "kernel": jnp.asarray(rng.normal(size=(kernel, channels, filters)) * 0.1, jnp.float32),
        "bias": jnp.zeros(filters, jnp.float32),
    }
    weights = jnp.asarray(rng.normal(size=(rows, filters)), jnp.float32)
    dense = isinstance(layer, DensePooledConv)

    def loss(params, x, mask):
        variables = {"params": {"conv": params} if dense else params}
        return jnp.sum(nn.relu(layer.apply(variables, x, mask)) * weights)

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1))), (params, x, mask)


def main() -> None:
    args = layer_benchmark_args(__doc__)
    # A GPU convolves float32 in TF32 (10-bit mantissa), so the two forms agree less closely.
    tol = 1e-4 if jax.default_backend() == "cpu" else 2e-2
    print("| layer shape | dense gradient, ms | best windows only, ms | dense / sparse |")
    print("| --- | --- | --- | --- |")
    for name, (rows, length, channels, filters, kernel, padding) in SHAPES.items():
        layers = {
            "dense": DensePooledConv(filters, kernel, padding),
            "sparse": MaxPooledConv(filters, kernel, padding),
        }
        runners = {
            k: gradient_fn(v, rows, length, channels, filters, kernel) for k, v in layers.items()
        }
        results = {k: fn(*inputs) for k, (fn, inputs) in runners.items()}
        (dense_loss, dense_grads), (sparse_loss, sparse_grads) = results["dense"], results["sparse"]
        np.testing.assert_allclose(sparse_loss, dense_loss, rtol=tol / 10)
        for a, b in zip(jax.tree.leaves(sparse_grads), jax.tree.leaves(dense_grads), strict=True):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * float(jnp.max(jnp.abs(b))))
        times = median_ms_in_turn(runners, args.repeats, args.steps)
        dense, sparse = times["dense"], times["sparse"]
        print(f"| {name} | {dense:.2f} | {sparse:.2f} | {dense / sparse:.2f}x |")


if __name__ == "__main__":
    main()
