"""The embedded default data set: JASPAR motif instances planted in random DNA.

Positives carry motif instances sampled from a JASPAR probability matrix, on a random strand, at
uniformly random positions in i.i.d. background; negatives are background alone. Everything is
drawn from one np.random.default_rng(seed), so a seed fixes the data set exactly, and no
download is needed. Splits are cut from one generated pool (split_examples), which keeps record
ids unique across train, validation and test.
"""

from dataclasses import dataclass

import numpy as np

from pgx_jax.data.jaspar import jaspar_pfm
from pgx_jax.errors import PgxError

BASES = np.array(list("ACGT"))
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class PlantedData:
    """Generated sequences as base indices (A=0, C=1, G=2, T=3) with what was planted where.

    tokens [N, L]; labels [N]; for each example and instance slot: positions [N, I] (-1 for
    negatives), strands [N, I] ('+', '-' or '' for negatives) and the planted instance
    tokens [N, I, W] as read on the forward strand of the sequence (-1 for negatives).
    Later instances overwrite earlier ones where they overlap.
    """

    tokens: np.ndarray
    labels: np.ndarray
    positions: np.ndarray
    strands: np.ndarray
    instances: np.ndarray


def _check_probabilities(background: tuple[float, ...]) -> np.ndarray:
    """Validate a four-base background distribution."""
    p = np.asarray(background, dtype=np.float64)
    if p.shape != (4,) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise PgxError(
            f"background must be 4 non-negative A,C,G,T probabilities summing to 1, "
            f"got {background!r}"
        )
    return p


def sample_motif_instances(pfm: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw `count` motif instances [count, W] as base indices, each column from the PFM."""
    cumulative = np.cumsum(pfm / pfm.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((count, pfm.shape[0], 1))
    return (u >= cumulative[None, :, :3]).sum(axis=2)


def plant_motifs(
    pfm: np.ndarray,
    num_examples: int,
    length: int,
    rng: np.random.Generator,
    positive_fraction: float = 0.5,
    background: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
    instances: int = 1,
) -> PlantedData:
    """Generate background sequences and plant `instances` sampled motif copies in positives.

    The number of positives is round(num_examples * positive_fraction), shuffled among examples.
    Each instance lands on the reverse strand with probability one half.
    """
    width = pfm.shape[0]
    if num_examples < 1:
        raise PgxError(f"num_examples must be at least 1, got {num_examples}")
    if length < width:
        raise PgxError(f"sequence length {length} is shorter than the motif width {width}")
    if not 0.0 <= positive_fraction <= 1.0:
        raise PgxError(f"positive_fraction must lie in [0, 1], got {positive_fraction}")
    if instances < 1:
        raise PgxError(f"instances must be at least 1, got {instances}")
    p = _check_probabilities(background)

    num_pos = int(round(num_examples * positive_fraction))
    labels = rng.permutation(np.arange(num_examples) < num_pos).astype(np.int64)
    tokens = rng.choice(4, size=(num_examples, length), p=p)

    pos_rows = np.flatnonzero(labels)
    sampled = sample_motif_instances(pfm, num_pos * instances, rng)
    sampled = sampled.reshape(num_pos, instances, width)
    reverse = rng.random((num_pos, instances)) < 0.5
    sampled = np.where(reverse[..., None], 3 - sampled[..., ::-1], sampled)
    starts = rng.integers(0, length - width + 1, size=(num_pos, instances))
    for k in range(instances):
        columns = starts[:, k, None] + np.arange(width)
        tokens[pos_rows[:, None], columns] = sampled[:, k]

    positions = np.full((num_examples, instances), -1, dtype=np.int64)
    positions[pos_rows] = starts
    strands = np.full((num_examples, instances), "", dtype="<U1")
    strands[pos_rows] = np.where(reverse, "-", "+")
    planted = np.full((num_examples, instances, width), -1, dtype=np.int64)
    planted[pos_rows] = sampled
    return PlantedData(tokens, labels, positions, strands, planted)


def planted_motif_examples(
    motif_id: str,
    num_examples: int,
    length: int,
    seed: int,
    positive_fraction: float = 0.5,
    background: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
    instances: int = 1,
) -> list[dict]:
    """Records {"id", "sequence", "label"} with a JASPAR motif planted in the positives."""
    data = plant_motifs(
        jaspar_pfm(motif_id),
        num_examples,
        length,
        np.random.default_rng(seed),
        positive_fraction,
        background,
        instances,
    )
    sequences = ["".join(row) for row in BASES[data.tokens]]
    return [
        {"id": f"planted_{i:06d}", "sequence": seq, "label": int(label)}
        for i, (seq, label) in enumerate(zip(sequences, data.labels, strict=True))
    ]


def split_examples(
    records: list[dict],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> dict[str, list[dict]]:
    """Shuffle records into train/validation/test, stratified by label so each keeps the balance.

    Within each label the split sizes are the rounded cumulative fractions, so every record
    lands in exactly one split; each split keeps the records' original order.
    """
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (3,) or np.any(f < 0) or not np.isclose(f.sum(), 1.0):
        raise PgxError(f"fractions must be 3 non-negative numbers summing to 1, got {fractions!r}")
    rng = np.random.default_rng(seed)
    labels = np.array([r["label"] for r in records])
    parts: dict[str, list[int]] = {name: [] for name in SPLITS}
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        cuts = np.round(np.cumsum(f)[:2] * len(idx)).astype(int)
        for name, chunk in zip(SPLITS, np.split(idx, cuts), strict=True):
            parts[name].extend(chunk.tolist())
    return {name: [records[i] for i in sorted(parts[name])] for name in SPLITS}
