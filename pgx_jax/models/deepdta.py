"""DeepDTA (Öztürk et al., 2018): two 1-D CNN encoders, SMILES and protein, and a dense head.

Each branch embeds tokens (128-d), applies three VALID convolutions with F, 2F and 3F filters
and ReLU, and max-pools over the real (unpadded) windows. The pooled drug and protein vectors
are concatenated per pair and regressed through dense 1024-1024-512 layers (dropout after the
first two), as in the paper. The branches run on the rows they are given and the head on
pairs `(drug_index, protein_index)` into those rows, so a factorised batch encodes each
distinct drug and protein once; a naive batch passes one row per pair and indices 0..B-1.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.layers import EmbeddingConv, MaxPooledConv, OutputHead, output_mask


class SequenceCNN(nn.Module):
    """Token embedding and three VALID convolutions (F, 2F, 3F filters), global max pool."""

    vocab_size: int
    embed_dim: int = 128
    num_filters: int = 32
    kernel_size: int = 4
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, tokens: jax.Array) -> jax.Array:
        mask = tokens > 0
        h = EmbeddingConv(
            self.vocab_size,
            self.embed_dim,
            self.num_filters,
            self.kernel_size,
            dtype=self.dtype,
            name="embed_conv",
        )(tokens, mask)
        mask = output_mask(mask, self.kernel_size, "VALID")
        h = nn.Conv(
            2 * self.num_filters,
            (self.kernel_size,),
            padding="VALID",
            dtype=self.dtype,
            name="conv2",
        )(nn.relu(h))
        mask = output_mask(mask, self.kernel_size, "VALID")
        pooled = MaxPooledConv(
            3 * self.num_filters, self.kernel_size, dtype=self.dtype, name="conv3"
        )(nn.relu(h), mask)
        return nn.relu(pooled)


class PairDense(nn.Module):
    """`nn.Dense` over concat(drugs[drug_index], proteins[protein_index]), computed as
    drugs @ W_drug and proteins @ W_protein once per distinct row, then added per pair: the
    same parameters (`kernel` [drug + protein width, features], `bias`) and outputs."""

    features: int
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, drugs, proteins, drug_index, protein_index) -> jax.Array:
        width = drugs.shape[-1]
        kernel = self.param(
            "kernel", nn.initializers.lecun_normal(), (width + proteins.shape[-1], self.features)
        )
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        drugs, proteins, kernel, bias = nn.dtypes.promote_dtype(
            drugs, proteins, kernel, bias, dtype=self.dtype
        )
        return (
            (drugs @ kernel[:width])[drug_index] + (proteins @ kernel[width:])[protein_index] + bias
        )


class DeepDTA(nn.Module):
    """Drug-target affinity regressor: SMILES CNN and protein CNN, concatenated, dense head."""

    smiles_vocab: int = 65
    protein_vocab: int = 26
    embed_dim: int = 128
    num_filters: int = 32
    smiles_kernel: int = 4
    protein_kernel: int = 8
    hidden: tuple[int, ...] = (1024, 1024, 512)
    dropout_rate: float = 0.1
    task: str = "regression"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(
        self,
        drug_tokens: jax.Array,
        protein_tokens: jax.Array,
        drug_index: jax.Array,
        protein_index: jax.Array,
        train: bool = False,
    ) -> jax.Array:
        drugs = SequenceCNN(
            self.smiles_vocab,
            self.embed_dim,
            self.num_filters,
            self.smiles_kernel,
            self.dtype,
            name="smiles",
        )(drug_tokens)
        proteins = SequenceCNN(
            self.protein_vocab,
            self.embed_dim,
            self.num_filters,
            self.protein_kernel,
            self.dtype,
            name="protein",
        )(protein_tokens)
        h = PairDense(self.hidden[0], dtype=self.dtype, name="dense0")(
            drugs, proteins, drug_index, protein_index
        )
        for i, width in enumerate(self.hidden):
            if i > 0:
                h = nn.Dense(width, dtype=self.dtype, name=f"dense{i}")(h)
            h = nn.relu(h)
            if i < len(self.hidden) - 1:
                h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return OutputHead(self.task, self.num_outputs, dtype=self.dtype, name="head")(h)


class SmilesCNN(nn.Module):
    """DeepDTA's SMILES branch alone with a dense head: a 1-D CNN QSAR regressor."""

    smiles_vocab: int = 65
    embed_dim: int = 128
    num_filters: int = 32
    kernel_size: int = 4
    hidden: tuple[int, ...] = (256, 128)
    dropout_rate: float = 0.1
    task: str = "regression"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, tokens: jax.Array, train: bool = False) -> jax.Array:
        h = SequenceCNN(
            self.smiles_vocab,
            self.embed_dim,
            self.num_filters,
            self.kernel_size,
            self.dtype,
            name="smiles",
        )(tokens)
        for i, width in enumerate(self.hidden):
            h = nn.relu(nn.Dense(width, dtype=self.dtype, name=f"dense{i}")(h))
            h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return OutputHead(self.task, self.num_outputs, dtype=self.dtype, name="head")(h)
