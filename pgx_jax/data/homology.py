"""The most similar reference of each query protein by local alignment: how much of a test set
could be answered by homology to the training set alone (DNA-binding protein benchmarks
leak this way; Luo et al. 2024, Brief Bioinform 26:bbae634)."""

from collections.abc import Sequence

import numpy as np
from Bio import Align
from Bio.Align import substitution_matrices

HOMOLOGY_THRESHOLD = 0.3
"""Similarity from which a test protein counts as a training protein's homolog (default)."""


def _aligner() -> Align.PairwiseAligner:
    """Smith-Waterman with BLOSUM62 and gaps of -11 to open, -1 to extend (BLASTP's defaults)."""
    return Align.PairwiseAligner(
        mode="local",
        substitution_matrix=substitution_matrices.load("BLOSUM62"),
        open_gap_score=-11,
        extend_gap_score=-1,
    )


def _readable(sequence: str, alphabet: str) -> str:
    """Upper case, with letters outside the substitution matrix (J, U, O) read as X."""
    return "".join(c if c in alphabet else "X" for c in sequence.upper())


def _kmers(sequence: str, k: int) -> set[str]:
    return {sequence[i : i + k] for i in range(len(sequence) - k + 1)}


def nearest_references(
    queries: Sequence[str], references: Sequence[str], *, candidates: int = 25, k: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, index) of each query's most similar reference.

    Similarity is the local alignment score over the geometric mean of the two sequences'
    scores against themselves: 1 for identical sequences, about 0.1 for unrelated proteins,
    0 against a sequence that scores nothing against itself (all X).
    A query found verbatim among the references gets 1 and the first such reference; the
    others are aligned only against the `candidates` references whose `k`-mer sets are
    closest to theirs (cosine; BLAST's seeding idea), which keeps a few hundred queries to
    seconds.
    """
    aligner = _aligner()
    alphabet = aligner.substitution_matrix.alphabet
    queries = [_readable(q, alphabet) for q in queries]
    references = [_readable(r, alphabet) for r in references]
    self_scores = np.array([aligner.score(r, r) for r in references])
    reference_kmers = [_kmers(r, k) for r in references]
    kmer_counts = np.array([len(kmers) for kmers in reference_kmers])
    first_index: dict[str, int] = {}
    for i, r in enumerate(references):
        first_index.setdefault(r, i)
    similarity = np.zeros(len(queries))
    index = np.zeros(len(queries), np.int64)
    for q, query in enumerate(queries):
        if query in first_index:
            similarity[q], index[q] = 1.0, first_index[query]
            continue
        kmers = _kmers(query, k)
        shared = np.array([len(kmers & other) for other in reference_kmers])
        picked = np.argsort(-shared / np.sqrt(len(kmers) * kmer_counts), kind="stable")
        picked = picked[:candidates]
        own = aligner.score(query, query)
        scores = np.array([aligner.score(query, references[i]) for i in picked])
        scale = np.sqrt(own * self_scores[picked])
        scores = np.divide(scores, scale, out=np.zeros_like(scores), where=scale > 0)
        best = int(np.argmax(scores))
        similarity[q], index[q] = scores[best], picked[best]
    return similarity, index
