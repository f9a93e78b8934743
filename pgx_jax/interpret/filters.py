"""First-layer filters of a trained model: their activations and how well each separates classes."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from pgx_jax.metrics import auroc
from pgx_jax.models.layers import OneHotConv


def first_layer_activations(
    model: nn.Module, variables: dict, x: np.ndarray, batch_size: int = 512
) -> np.ndarray:
    """Outputs [N, L - W + 1, F] of the first `OneHotConv` of a model, from a forward pass."""

    @jax.jit
    def capture(batch):
        _, state = model.apply(
            variables,
            batch,
            train=False,
            capture_intermediates=lambda mdl, _: isinstance(mdl, OneHotConv),
            mutable=["intermediates"],
        )
        found = jax.tree_util.tree_leaves(state["intermediates"])
        return found[0]

    chunks = [capture(jnp.asarray(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    return np.concatenate([np.asarray(c) for c in chunks])


def rank_filters(activations: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-filter AUROC of the sequence-level max activation (positives against negatives)."""
    best_site = activations.max(axis=1)
    return np.array([auroc(labels, best_site[:, f]) for f in range(best_site.shape[1])])
