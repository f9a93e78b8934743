"""Motifs as matrices: first-layer filters as PFMs (in the manner of DeepBind and Basset), and
TomTom (memelite) against JASPAR with Benjamini-Hochberg q-values, for filters and for
TF-MoDISco patterns (`modisco.py`) alike.

All matrices are [W, 4] in A, C, G, T column order, so the reverse complement of a matrix is
the matrix flipped along both axes.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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


def bh_qvalues(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values along the last axis: for the i-th smallest of m p-values,
    the least m p_(j) / j over j >= i, capped at 1."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1) * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[..., ::-1], axis=-1)[..., ::-1]
    q = np.empty_like(p)
    np.put_along_axis(q, order, np.minimum(ranked, 1.0), axis=-1)
    return q


def tomtom_matches(
    queries: list[np.ndarray],
    collection: list[tuple[str, str, np.ndarray]] | None = None,
    top: int = 5,
) -> list[list[dict]]:
    """TomTom (memelite) of each query PFM [W, 4] against a collection (default JASPAR CORE
    vertebrates): the `top` matches of each query, smallest p-value first.

    Each match is {"matrix_id", "name", "p_value", "q_value", "score", "offset", "strand"}:
    the q-value by Benjamini-Hochberg over the query's p-values against the whole collection;
    score, offset and strand ('+' or '-', the target's reverse complement) of the best
    alignment as memelite gives them. Trim queries first (`trim_pfm`): TomTom's complete
    score counts a query's uninformative flanks against it.
    """
    from memelite import tomtom

    if collection is None:
        from pgx_jax.data.jaspar import jaspar_collection

        collection = jaspar_collection()
    if not collection:
        raise PgxError("cannot match a motif against an empty collection")
    if not queries:
        return []
    targets = [np.ascontiguousarray(_as_pfm(m, "target").T) for _, _, m in collection]
    qs = [np.ascontiguousarray(_as_pfm(q, "query").T) for q in queries]
    p, scores, offsets, _, strands = tomtom(qs, targets)[:5]
    q = bh_qvalues(p)
    found = []
    for i in range(len(queries)):
        order = np.argsort(p[i], kind="stable")[:top]
        found.append(
            [
                {
                    "matrix_id": collection[j][0],
                    "name": collection[j][1],
                    "p_value": float(p[i, j]),
                    "q_value": float(q[i, j]),
                    "score": float(scores[i, j]),
                    "offset": int(offsets[i, j]),
                    "strand": "+-"[int(strands[i, j])],
                }
                for j in order
            ]
        )
    return found


MATCH_Q = 0.05
"""The q-value below which a motif is named after its best JASPAR match
(`pgx motifs --match_q`)."""
MATCH_THRESHOLD = 0.7
"""The similarity score (mean column Pearson r) from which a filter was named, in the
`motif_matches.tsv` of runs made before matches carried q-values (read by the report)."""


def named_match(matches: list[dict], threshold: float | None = None, by: str | None = None) -> str:
    """The best match as "MA0139.2 CTCF (q 3.1e-05)" when its q-value is below `threshold`
    (default MATCH_Q), else "no match with q below T". Matches with a similarity score and no
    q-value (`by="score"`, inferred from the matches when None; outputs made before TomTom)
    read "MA0139.2 CTCF (0.861)" from `threshold` (default MATCH_THRESHOLD) up, else "no
    match above T"."""
    by = by or ("score" if matches and "q_value" not in matches[0] else "q_value")
    if by == "score":
        threshold = MATCH_THRESHOLD if threshold is None else threshold
        if not matches or matches[0]["score"] < threshold:
            return f"no match above {threshold:g}"
        best = matches[0]
        return f"{best['matrix_id']} {best['name']} ({best['score']:.3f})"
    threshold = MATCH_Q if threshold is None else threshold
    if not matches or matches[0]["q_value"] >= threshold:
        return f"no match with q below {threshold:g}"
    best = matches[0]
    return f"{best['matrix_id']} {best['name']} (q {best['q_value']:.2g})"


def is_named(matches: list[dict], threshold: float | None = None) -> bool:
    """Whether `named_match` names the best match."""
    return not named_match(matches, threshold).startswith("no match")


def best_jaspar_matches(
    pfm: np.ndarray, collection: list[tuple[str, str, np.ndarray]] | None = None, top: int = 5
) -> list[dict]:
    """The `top` TomTom matches of one PFM (`tomtom_matches`), smallest p-value first."""
    return tomtom_matches([pfm], collection, top)[0]
