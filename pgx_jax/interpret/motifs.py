"""First-layer filters as motifs, compared with JASPAR, in the manner of DeepBind and Basset.

All matrices are [W, 4] in A, C, G, T column order, so the reverse complement of a matrix is
the matrix flipped along both axes.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pgx_jax.data.alphabets import reverse_complement_one_hot
from pgx_jax.errors import PgxError


def _as_pfm(pfm: np.ndarray, name: str = "pfm") -> np.ndarray:
    """Check a [W, 4] matrix and normalise its rows to probabilities."""
    m = np.asarray(pfm, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] != 4 or m.shape[0] == 0:
        raise PgxError(f"{name} must have shape [W, 4] with W >= 1, got {m.shape}")
    return m / np.maximum(m.sum(axis=1, keepdims=True), 1e-12)


def information_content(pfm: np.ndarray) -> np.ndarray:
    """Bits per column [W] against a uniform background: 2 minus the column entropy."""
    p = _as_pfm(pfm)
    plogp = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return 2.0 + plogp.sum(axis=1)


def trim_pfm(pfm: np.ndarray, min_ic: float = 0.2) -> np.ndarray:
    """Drop low-information flanks, since a wide filter usually learns a shorter motif.

    Returns an empty [0, 4] array when no column reaches min_ic.
    """
    m = np.asarray(pfm, dtype=np.float64)
    keep = np.flatnonzero(information_content(m) >= min_ic)
    if keep.size == 0:
        return m[:0]
    return m[keep[0] : keep[-1] + 1]


def log_odds(pfm: np.ndarray, background: float = 0.25, pseudocount: float = 0.01) -> np.ndarray:
    """Position weight matrix [W, 4]: log2 of (smoothed probability / background)."""
    p = _as_pfm(pfm)
    return np.log2((p + pseudocount) / (1.0 + 4.0 * pseudocount) / background)


def pwm_scan(onehot: np.ndarray, pwm: np.ndarray) -> np.ndarray:
    """Score of every VALID window [N, L - W + 1] of one-hot sequences [N, L, 4] under a PWM."""
    windows = sliding_window_view(np.asarray(onehot, dtype=np.float64), pwm.shape[0], axis=1)
    return np.einsum("npcw,wc->np", windows, np.asarray(pwm, dtype=np.float64))


def filter_pfms(
    onehot: np.ndarray,
    activations: np.ndarray,
    width: int,
    threshold: float = 0.5,
    pseudocount: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-filter PFMs [F, W, 4] and window counts [F] from strongly activating subsequences.

    A window contributes its one-hot subsequence to a filter when its activation exceeds
    threshold times that filter's maximum over the data set. A filter whose maximum is not
    positive gets no windows and a uniform PFM.
    """
    x = np.asarray(onehot, dtype=np.float32)
    act = np.asarray(activations, dtype=np.float32)
    if x.ndim != 3 or x.shape[2] != 4:
        raise PgxError(f"onehot must have shape [N, L, 4], got {x.shape}")
    positions = x.shape[1] - width + 1
    if act.ndim != 3 or act.shape[:2] != (x.shape[0], positions):
        raise PgxError(
            f"activations must have shape [N, L - W + 1, F] = "
            f"[{x.shape[0]}, {positions}, F] for width {width}, got {act.shape}"
        )
    peak = act.max(axis=(0, 1))
    mask = (act > threshold * peak) & (peak > 0)
    flat_mask = mask.reshape(-1, act.shape[2]).astype(np.float32)
    counts = np.stack(
        [flat_mask.T @ x[:, w : w + positions].reshape(-1, 4) for w in range(width)], axis=1
    ).astype(np.float64)
    pfms = (counts + pseudocount) / (counts.sum(axis=2, keepdims=True) + 4.0 * pseudocount)
    return pfms, mask.sum(axis=(0, 1))


def _standardise_columns(m: np.ndarray) -> np.ndarray:
    """Centre each column's four values and scale to unit norm, so dot products are Pearson r.

    A constant column (such as padding or a uniform column) becomes zero and correlates 0.
    """
    centred = m - m.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    return np.where(norm > 1e-12, centred / np.where(norm > 1e-12, norm, 1.0), 0.0)


def _stack_targets(targets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-padded standardised targets [M, Wmax, 4] for both strands ([2M, ...]) and widths."""
    widths = np.array([t.shape[0] for t in targets])
    padded = np.zeros((len(targets), widths.max(), 4))
    padded_rc = np.zeros_like(padded)
    for i, t in enumerate(targets):
        padded[i, : len(t)] = t
        padded_rc[i, : len(t)] = reverse_complement_one_hot(t)
    both = np.concatenate([padded, padded_rc])
    return _standardise_columns(both), np.concatenate([widths, widths])


def _best_alignments(
    query: np.ndarray, targets: list[np.ndarray], min_overlap: int, count_overhang: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best score, offset and strand index (0 '+', 1 '-') for each target.

    Offset o aligns query column i with target column i + o; every offset with at least
    min(min_overlap, Wq, Wt) overlapping columns is tried, all targets and offsets at once.
    The score is the mean column Pearson r over the overlap, or, with count_overhang, over all
    columns the alignment spans, overhanging columns counting r = 0.
    """
    q = _standardise_columns(_as_pfm(query, "query"))
    t, widths = _stack_targets([_as_pfm(m, "target") for m in targets])
    wq, wmax = q.shape[0], t.shape[1]
    corr = np.einsum("ic,mjc->mij", q, t)
    corr = np.pad(corr, ((0, 0), (0, 0), (wq - 1, wq - 1)))
    shifts = np.arange(wq + wmax - 1)
    rows = np.arange(wq)[:, None]
    sums = corr[:, rows, rows + shifts[None, :]].sum(axis=1)
    offsets = shifts - (wq - 1)
    overlap = np.minimum(wq, widths[:, None] - offsets) - np.maximum(0, -offsets)
    needed = np.minimum(min_overlap, np.minimum(wq, widths))[:, None]
    columns = wq + widths[:, None] - overlap if count_overhang else np.maximum(overlap, 1)
    scores = np.where(overlap >= needed, sums / columns, -np.inf)
    best = scores.argmax(axis=1)
    best_scores = scores[np.arange(len(scores)), best]
    n = len(targets)
    strand = (best_scores[n:] > best_scores[:n]).astype(int)
    pick = np.arange(n) + n * strand
    return best_scores[pick], offsets[best[pick]], strand


def compare_motifs(
    query: np.ndarray, target: np.ndarray, min_overlap: int = 5, count_overhang: bool = True
) -> tuple[float, int, str]:
    """TomTom-like similarity: best mean column Pearson r over offsets and target strands.

    Returns (score, offset, strand), where query column i sits on column i + offset of the
    target ('+') or of its reverse complement ('-'). With count_overhang (the default) the mean
    runs over every column the alignment spans, overhanging columns counting 0, so that a few
    well-correlated columns of a partial overlap cannot outscore a full-length match; without
    it the mean runs over the overlapping columns only. Identical motifs score 1.0.
    """
    score, offset, strand = _best_alignments(query, [target], min_overlap, count_overhang)
    return float(score[0]), int(offset[0]), "+-"[strand[0]]


MATCH_THRESHOLD = 0.7
"""The similarity score (`compare_motifs`) from which a filter's best JASPAR match is named
(`pgx motifs --match_threshold`): about the 95th percentile of the best score that random
motifs reach against JASPAR CORE vertebrates (docs/interpretation.md)."""


def named_match(matches: list[dict], threshold: float = MATCH_THRESHOLD) -> str:
    """The best match as "MA0139.2 CTCF (0.861)", or "no match above T" when it scores below
    `threshold` (or there is none)."""
    if not matches or matches[0]["score"] < threshold:
        return f"no match above {threshold:g}"
    best = matches[0]
    return f"{best['matrix_id']} {best['name']} ({best['score']:.3f})"


def best_jaspar_matches(
    pfm: np.ndarray,
    collection: list[tuple[str, str, np.ndarray]] | None = None,
    top: int = 5,
    min_overlap: int = 5,
    count_overhang: bool = True,
) -> list[dict]:
    """The `top` motifs of a collection (default JASPAR CORE vertebrates) most similar to pfm.

    Each match is {"matrix_id", "name", "score", "offset", "strand"}, best score first, scored
    as in compare_motifs. Trim the query first (trim_pfm) so its uninformative flanks do not
    count as overhang.
    """
    if collection is None:
        from pgx_jax.data.jaspar import jaspar_collection

        collection = jaspar_collection()
    if not collection:
        raise PgxError("cannot match a motif against an empty collection")
    targets = [m for _, _, m in collection]
    scores, offsets, strands = _best_alignments(pfm, targets, min_overlap, count_overhang)
    order = np.argsort(-scores, kind="stable")[:top]
    return [
        {
            "matrix_id": collection[i][0],
            "name": collection[i][1],
            "score": float(scores[i]),
            "offset": int(offsets[i]),
            "strand": "+-"[strands[i]],
        }
        for i in order
    ]
