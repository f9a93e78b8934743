"""Batches of drug-target pairs, naive or factorised.

A pair model spends almost all its work encoding the two sequences, yet a data set like Davis
has only 68 drugs and 442 proteins behind 30,056 pairs. A factorised batch carries each
distinct drug and protein of the batch once (`drug_tokens` [D, Ld], `protein_tokens` [P, Lp])
and, per pair, the row of each (`drug_index`, `protein_index` [B]); the model encodes D + P
sequences instead of 2B. A naive batch carries both sequences for every pair (indices 0..B-1).
D and P are rounded up to a multiple of `bucket` (zero rows, never indexed) so jit sees few
shapes. Block ordering (`pgx_jax.data.sampling.pair_blocks`) visits each epoch protein by
protein, so a batch holds few proteins.

Under several processes each process encodes its own rows of a global batch, which must come
out the same shape in every process and index the process's block of the assembled global
arrays: the pairs are naive there, their indices offset by the process's first row.
"""

import jax
import numpy as np


def _distinct(index: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of `index` padded to a multiple of `bucket` (with the first value), and
    each entry's row among them."""
    values, inverse = np.unique(index, return_inverse=True)
    padded = -(-values.size // bucket) * bucket
    return np.pad(values, (0, padded - values.size), mode="edge"), inverse.astype(np.int32)


def encode_pairs(
    records: dict[str, np.ndarray],
    *,
    drug_tokens: np.ndarray,
    protein_tokens: np.ndarray,
    factorised: bool,
    bucket: int = 8,
    process_rows: int = 0,
) -> dict:
    """Pair records (drug_index, protein_index, label) to model inputs, label and weight.

    NaN labels (unlabelled pairs) get weight 0 and label 0. `process_rows`: the rows of a
    global batch each process reads (needed under several processes).
    """
    drugs = np.asarray(records["drug_index"])
    proteins = np.asarray(records["protein_index"])
    label = np.asarray(records["label"], np.float32)
    if jax.process_count() > 1:
        drug_rows, protein_rows = drugs, proteins
        first = jax.process_index() * process_rows
        drug_index = protein_index = np.arange(first, first + drugs.size, dtype=np.int32)
    elif factorised:
        drug_rows, drug_index = _distinct(drugs, bucket)
        protein_rows, protein_index = _distinct(proteins, bucket)
    else:
        drug_rows, protein_rows = drugs, proteins
        drug_index = protein_index = np.arange(drugs.size, dtype=np.int32)
    labelled = np.isfinite(label)
    return {
        "inputs": {
            "drug_tokens": drug_tokens[drug_rows],
            "protein_tokens": protein_tokens[protein_rows],
            "drug_index": drug_index,
            "protein_index": protein_index,
        },
        "label": np.where(labelled, label, 0.0).astype(np.float32),
        "weight": labelled.astype(np.float32),
    }
