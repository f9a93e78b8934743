"""DeepConv-DTI (Lee, Keum & Nam, PLoS Comput Biol 2019): does a drug interact with a protein?

Protein: residues embedded (20-d), spatial dropout 0.2, then convolutions of several widths
(10, 15, 20, 25, 30 residues; 64 filters each, SAME padding, ELU), each filter max-pooled
over the whole sequence, concatenated and passed through dense 128-64. Drug: its ECFP4 bit
vector (2,048 bits) through dense 128. The two are concatenated per pair, dense 256, and one
logit. Sizes and activations are the defaults of the authors' `DeepConvDTI.py`
(`GIST-CSBL/DeepConv-DTI`); dropout 0.2 after every branch layer, as there.

Left out: batch normalisation after each layer (a factorised batch holds a few distinct
proteins, so a protein layer's batch statistics would be those of a handful of rows) and the
L2 penalty on the weights (`config.optimizer.weight_decay` is the knob); the output is a logit
trained with the framework's binary cross-entropy, where the script maps tanh to (x + 1) / 2.

Inputs are factorised like DeepDTA's: the drugs' fingerprint words (`pgx_jax.data.
fingerprints`, set bits + 1, 0 padding) [D, W], the proteins' tokens [P, L], and per pair the
row of each; the bit vectors are rebuilt from the words inside the model.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from pgx_jax.models.deepdta import PairDense
from pgx_jax.models.layers import MaxPooledConv, OutputHead, embed_rows


def fingerprint_bits(words: jax.Array, bits: int) -> jax.Array:
    """The bit vectors [N, bits] (float32) whose set bits FP2VEC words [N, W] list."""
    rows = jnp.arange(words.shape[0])[:, None]
    return jnp.zeros((words.shape[0], bits + 1), jnp.float32).at[rows, words].set(1.0)[:, 1:]


class DeepConvDTI(nn.Module):
    """ECFP dense branch and multi-width protein CNN, concatenated, dense head, one logit."""

    bits: int = 2048
    protein_vocab: int = 26
    protein_embed: int = 20
    windows: tuple[int, ...] = (10, 15, 20, 25, 30)
    num_filters: int = 64
    protein_hidden: tuple[int, ...] = (128, 64)
    drug_hidden: tuple[int, ...] = (128,)
    hidden: tuple[int, ...] = (256,)
    dropout_rate: float = 0.2
    spatial_dropout: float = 0.2
    task: str = "binary"
    num_outputs: int = 1
    dtype: jnp.dtype | None = None

    def _dense_stack(self, h: jax.Array, widths: tuple[int, ...], name: str, train: bool):
        for i, width in enumerate(widths):
            h = nn.elu(nn.Dense(width, dtype=self.dtype, name=f"{name}{i}")(h))
            h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return h

    def _protein(self, tokens: jax.Array, train: bool) -> jax.Array:
        mask = tokens > 0
        embed = nn.Embed(self.protein_vocab, self.protein_embed, name="protein_embed")
        x = embed_rows(embed, tokens, self.dtype) * mask[..., None]
        x = nn.Dropout(self.spatial_dropout, broadcast_dims=(1,), deterministic=not train)(x)
        pooled = [
            MaxPooledConv(
                self.num_filters, width, padding="SAME", dtype=self.dtype, name=f"conv{width}"
            )(x, mask)
            for width in self.windows
        ]  # ELU is monotone: elu(max) = max(elu)
        return self._dense_stack(
            nn.elu(jnp.concatenate(pooled, -1)), self.protein_hidden, "protein_dense", train
        )

    @nn.compact
    def __call__(
        self,
        drug_tokens: jax.Array,
        protein_tokens: jax.Array,
        drug_index: jax.Array,
        protein_index: jax.Array,
        train: bool = False,
    ) -> jax.Array:
        drugs = fingerprint_bits(drug_tokens, self.bits).astype(self.dtype or jnp.float32)
        drugs = self._dense_stack(drugs, self.drug_hidden, "drug_dense", train)
        proteins = self._protein(protein_tokens, train)
        h = PairDense(self.hidden[0], dtype=self.dtype, name="dense0")(
            drugs, proteins, drug_index, protein_index
        )
        h = nn.elu(h)
        for i, width in enumerate(self.hidden[1:], start=1):
            h = nn.elu(nn.Dense(width, dtype=self.dtype, name=f"dense{i}")(h))
        return OutputHead(self.task, self.num_outputs, dtype=self.dtype, name="head")(h)
