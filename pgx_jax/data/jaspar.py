"""Cached access to the JASPAR motif database shipped offline with pyjaspar.

Matrices are returned as probabilities of shape [W, 4] in A, C, G, T column order, the
channel order of the project's DNA one-hot encoding.
"""

import functools
import warnings

import numpy as np

from pgx_jax.errors import PgxError

BASES = "ACGT"


@functools.cache
def _db():
    """Open the bundled JASPAR release once; opening and querying it is slow."""
    from pyjaspar import jaspardb

    return jaspardb()


def _counts_to_pfm(counts) -> np.ndarray:
    """Turn a Bio.motifs count matrix into column-normalised probabilities [W, 4]."""
    matrix = np.array([counts[base] for base in BASES], dtype=np.float64).T
    return matrix / matrix.sum(axis=1, keepdims=True)


@functools.cache
def _motif(matrix_id: str):
    """Fetch one motif by 'MA0139' (latest version) or 'MA0139.2', or raise PgxError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        motif = _db().fetch_motif_by_id(matrix_id)
    if motif is None:
        raise PgxError(f"unknown JASPAR matrix id {matrix_id!r}")
    return motif


def jaspar_pfm(matrix_id: str) -> np.ndarray:
    """Probability matrix [W, 4] (A, C, G, T) of a JASPAR motif, e.g. 'MA0139' or 'MA0139.2'."""
    return _counts_to_pfm(_motif(matrix_id).counts).copy()


def jaspar_name(matrix_id: str) -> str:
    """Transcription factor name of a JASPAR motif, e.g. 'CTCF' for 'MA0139'."""
    return str(_motif(matrix_id).name)


def jaspar_matrix_id(matrix_id: str) -> str:
    """Full versioned id, resolving a base id such as 'MA0139' to its latest 'MA0139.2'."""
    return str(_motif(matrix_id).matrix_id)


@functools.cache
def _collection(collection: str, tax_group: str) -> tuple[tuple[str, str, np.ndarray], ...]:
    """Query the latest version of every motif in a collection once and keep it."""
    motifs = _db().fetch_motifs(collection=collection, tax_group=[tax_group])
    if not motifs:
        raise PgxError(f"no JASPAR motifs in collection {collection!r}, tax group {tax_group!r}")
    return tuple((str(m.matrix_id), str(m.name), _counts_to_pfm(m.counts)) for m in motifs)


def jaspar_collection(
    collection: str = "CORE", tax_group: str = "vertebrates"
) -> list[tuple[str, str, np.ndarray]]:
    """(matrix_id, name, pfm [W, 4]) for each motif in a JASPAR collection and taxonomic group."""
    return [(mid, name, pfm.copy()) for mid, name, pfm in _collection(collection, tax_group)]
