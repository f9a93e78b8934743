"""A CNN that predicts a variant's effect from its reference and alternative windows, and the
two simple baselines it is compared with (position mean, k-mer ridge regression; numpy)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse

from pgx_jax.models.layers import ConvBlock, OneHotConv, OutputHead, embed_rows, global_max_pool


class VariantEffectCNN(nn.Module):
    """One convolutional trunk applied to both windows (shared weights), then a dense head on
    the pooled features of ref, alt and alt - ref.

    The trunk keeps the length axis until the end; alt - ref is pooled over the central
    `center` positions, where a single-base change alters the filter responses, and with
    `context_features` the global max pools of each window join it (they also let the model
    recognise, and memorise, the position's context).

    With `num_elements > 0` an embedding of the element (the experiment: its cell type and
    construct) joins the head and adds a per-element offset, because the same sequence change
    matters differently in different elements; `element_scale` also multiplies the output by
    a learnt per-element factor (effects spread 0.12 to 0.78 log2 units by element).
    `antisymmetric` scores the change both ways and returns score(ref->alt) - score(alt->ref),
    so swapping the alleles negates the effect. `hidden=0` puts the output layer straight on
    the features (a linear read-out of the filter changes).
    """

    num_filters: int = 64
    kernel_size: int = 15
    conv_layers: int = 1
    conv_kernel_size: int = 5
    reverse_complement: bool = True
    center: int = 21
    context_features: bool = True
    hidden: int = 64
    num_elements: int = 0
    element_dim: int = 8
    element_scale: bool = False
    antisymmetric: bool = False
    dropout_rate: float = 0.2
    task: str = "regression"
    dtype: jnp.dtype | None = None

    def _trunk(self, x: jax.Array, train: bool) -> jax.Array:
        h = OneHotConv(
            self.num_filters,
            self.kernel_size,
            padding="SAME",
            reverse_complement=self.reverse_complement,
            dtype=self.dtype,
            name="conv1",
        )(x)
        h = nn.relu(h)
        for layer in range(self.conv_layers):
            h = ConvBlock(
                self.num_filters, self.conv_kernel_size, dtype=self.dtype, name=f"conv{layer + 2}"
            )(h, train)
        return h

    @nn.compact
    def __call__(
        self,
        ref: jax.Array,
        alt: jax.Array,
        element: jax.Array | None = None,
        train: bool = False,
    ) -> jax.Array:
        both = self._trunk(jnp.concatenate([ref, alt], axis=0), train)
        h_ref, h_alt = jnp.split(both, 2, axis=0)
        middle = h_ref.shape[-2] // 2
        lo, hi = max(middle - self.center // 2, 0), middle + self.center // 2 + 1
        shared = []
        offset, scale = 0.0, 1.0
        if self.num_elements:
            embed = nn.Embed(self.num_elements, self.element_dim, name="element")
            shared.append(embed_rows(embed, element, self.dtype))
            zeros = nn.initializers.zeros_init()
            offset = self.param("element_offset", zeros, (self.num_elements,))[element]
            if self.element_scale:
                log_scale = self.param("element_log_scale", zeros, (self.num_elements,))
                scale = jnp.exp(log_scale[element])
        dropout = nn.Dropout(self.dropout_rate, deterministic=not train)
        hidden = nn.Dense(self.hidden, dtype=self.dtype, name="hidden") if self.hidden else None
        head = OutputHead(self.task, dtype=self.dtype, name="head")

        def score(h_from: jax.Array, h_to: jax.Array) -> jax.Array:
            local = h_to[:, lo:hi] - h_from[:, lo:hi]
            features = [
                jnp.sum(local, axis=-2),
                jnp.max(jnp.abs(local), axis=-2),
                jnp.max(h_to[:, lo:hi], axis=-2) - jnp.max(h_from[:, lo:hi], axis=-2),
            ]
            if self.context_features:
                f_from, f_to = global_max_pool(h_from), global_max_pool(h_to)
                features += [f_from, f_to, f_to - f_from]
            h = dropout(jnp.concatenate(features + shared, axis=-1))
            return head(dropout(nn.relu(hidden(h))) if hidden else h)

        effect = score(h_ref, h_alt)
        if self.antisymmetric:
            effect = effect - score(h_alt, h_ref)
        return effect * scale + offset


def position_mean_baseline(
    train_element: np.ndarray,
    train_offset: np.ndarray,
    train_label: np.ndarray,
    element: np.ndarray,
    offset: np.ndarray,
) -> np.ndarray:
    """Predict the mean training effect at the same (element, position), else the element's
    mean training effect, else the global mean."""
    labels = np.asarray(train_label, np.float64)
    by_position: dict[tuple[str, int], list[float]] = {}
    by_element: dict[str, list[float]] = {}
    for name, at, value in zip(train_element.tolist(), train_offset.tolist(), labels, strict=True):
        by_position.setdefault((name, at), []).append(value)
        by_element.setdefault(name, []).append(value)
    position_mean = {key: float(np.mean(v)) for key, v in by_position.items()}
    element_mean = {key: float(np.mean(v)) for key, v in by_element.items()}
    overall = float(labels.mean())
    return np.array(
        [
            position_mean.get((name, at), element_mean.get(name, overall))
            for name, at in zip(element.tolist(), offset.tolist(), strict=True)
        ]
    )


def kmer_differences(
    ref_windows: np.ndarray, alt_windows: np.ndarray, ks: tuple[int, ...]
) -> scipy.sparse.csr_matrix:
    """Counts of each k-mer (k in `ks`, ACGT only) overlapping the centre base in the alt
    window minus those in the ref window: one column per k-mer, k-mers of each k in
    lexicographic order, k ascending."""
    rows, cols, values = [], [], []
    offsets = np.cumsum([0, *(4**k for k in ks)])
    code = {base: i for i, base in enumerate("ACGT")}
    for row, (reference, alternative) in enumerate(zip(ref_windows, alt_windows, strict=True)):
        centre = len(reference) // 2
        for k, first in zip(ks, offsets, strict=False):
            for window, sign in ((reference, -1.0), (alternative, 1.0)):
                span = window[centre - k + 1 : centre + k]
                for start in range(len(span) - k + 1):
                    kmer = span[start : start + k]
                    if all(base in code for base in kmer):
                        index = 0
                        for base in kmer:
                            index = 4 * index + code[base]
                        rows.append(row)
                        cols.append(first + index)
                        values.append(sign)
    shape = (len(ref_windows), int(offsets[-1]))
    return scipy.sparse.csr_matrix((values, (rows, cols)), shape=shape)


def ridge_fit(features, targets: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge weights argmin |X w - y|^2 + alpha |w|^2 in closed form, (X'X + alpha I)^-1 X'y;
    `features` dense or scipy sparse."""
    gram = features.T @ features
    gram = gram.toarray() if scipy.sparse.issparse(gram) else np.asarray(gram)
    moment = features.T @ np.asarray(targets, np.float64)
    return np.linalg.solve(gram + alpha * np.eye(gram.shape[0]), np.asarray(moment).ravel())
