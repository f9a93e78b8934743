"""Motif grammar: what a model makes of a motif, and of a pair of motifs at each spacing and
orientation, measured on backgrounds that hold neither (as tangermeme's `marginalize` and
`space`, bpnet-lite's marginalisation).

Backgrounds are dinucleotide shuffles of given sequences (`data.shuffle`), so they keep the
sequences' composition and lose their motifs. `marginalize` plants a motif at the centre of each
background; `spacing` plants motif A and motif B `gap` bases after A's end, the pair centred,
for the four orientations ++, +-, -+, -- (a minus is the motif's reverse complement). Both
report the model's change from the background alone. They work on
`predict(sequences) -> [N, T]` (the command passes the run's predictions), so any scorer, a
hand-built one included, can be measured.
"""

import re
from collections.abc import Callable, Sequence

import numpy as np

from pgx_jax.data.alphabets import DNA, reverse_complement
from pgx_jax.data.shuffle import dinucleotide_shuffle
from pgx_jax.errors import PgxError

PredictFn = Callable[[list[str]], np.ndarray]
ORIENTATIONS = ("++", "+-", "-+", "--")


def motif_sequence(spec: str) -> str:
    """A JASPAR id's consensus (each position's most probable base), or a consensus given as
    bases."""
    if re.fullmatch(r"MA\d{4}(\.\d+)?", spec):
        from pgx_jax.data.jaspar import jaspar_pfm

        return "".join("ACGT"[i] for i in jaspar_pfm(spec).argmax(axis=1))
    if not re.fullmatch(r"[ACGTacgt]+", spec):
        raise PgxError(f"motif {spec!r}: neither a JASPAR id (MA0139) nor bases (CCGCGNGGNGGCAG)")
    return spec.upper()


def backgrounds(sequences: Sequence[str], count: int, rng: np.random.Generator) -> list[str]:
    """`count` dinucleotide shuffles, of the sequences in turn."""
    if not sequences:
        raise PgxError("no sequences to shuffle into backgrounds")
    return [dinucleotide_shuffle(sequences[i % len(sequences)], rng) for i in range(count)]


def plant(sequence: str, motif: str, start: int) -> str:
    """`sequence` with `motif` written over it from `start`."""
    if start < 0 or start + len(motif) > len(sequence):
        raise PgxError(f"a {len(motif)}-base motif at {start} does not fit {len(sequence)} bases")
    return sequence[:start] + motif + sequence[start + len(motif) :]


def marginalize(predict: PredictFn, background: list[str], motif: str) -> dict[str, np.ndarray]:
    """`before` and `after` [N, T]: predictions of the backgrounds, and of them with `motif` at
    the centre (one `predict` call)."""
    start = (len(background[0]) - len(motif)) // 2
    planted = [plant(b, motif, start) for b in background]
    before, after = np.split(_rows(predict(background + planted)), 2)
    return {"before": before, "after": after}


def pair_sequences(background: list[str], first: str, second: str, gap: int) -> list[str]:
    """The backgrounds with `first`, then `gap` bases, then `second`, the pair centred."""
    start = (len(background[0]) - len(first) - gap - len(second)) // 2
    return [plant(plant(b, first, start), second, start + len(first) + gap) for b in background]


def spacing(
    predict: PredictFn, background: list[str], first: str, second: str, gaps: Sequence[int]
) -> dict[str, np.ndarray]:
    """Mean change [len(gaps), T] from the backgrounds for each orientation of the pair (one
    `predict` call for all)."""
    flip = {"+": lambda m: m, "-": lambda m: reverse_complement([m], DNA)[0]}
    sequences = list(background)
    for orientation in ORIENTATIONS:
        a, b = flip[orientation[0]](first), flip[orientation[1]](second)
        for gap in gaps:
            sequences += pair_sequences(background, a, b, gap)
    before, *pairs = np.split(_rows(predict(sequences)), 1 + len(ORIENTATIONS) * len(gaps))
    means = np.stack([p.mean(0) for p in pairs]) - before.mean(0)
    return dict(zip(ORIENTATIONS, np.split(means, len(ORIENTATIONS)), strict=True))


def _rows(predictions) -> np.ndarray:
    predictions = np.asarray(predictions, np.float64)
    return predictions.reshape(len(predictions), -1)


def _axes():
    """A figure and its axes, matplotlib without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(5.5, 3.5))


def _save(fig, path: str) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def marginal_picture(result: dict, task: int, title: str, path: str) -> str:
    """Histograms of one task's predictions before and after planting, as PNG."""
    before, after = result["before"][:, task], result["after"][:, task]
    fig, ax = _axes()
    low, high = min(before.min(), after.min()), max(before.max(), after.max())
    bins = np.linspace(low, high, 30) if high > low else 30
    ax.hist(before, bins=bins, alpha=0.6, label=f"background (mean {before.mean():.3f})")
    ax.hist(after, bins=bins, alpha=0.6, label=f"motif planted (mean {after.mean():.3f})")
    ax.set(xlabel=f"prediction, output {task}", ylabel="backgrounds", title=title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def spacing_picture(curves: dict, gaps: Sequence[int], task: int, title: str, path: str) -> str:
    """One task's mean change against the gap, a line per orientation, as PNG."""
    fig, ax = _axes()
    for orientation, curve in curves.items():
        ax.plot(list(gaps), curve[:, task], marker=".", label=orientation)
    ax.set(xlabel="gap between the motifs (bases)", ylabel=f"mean change, output {task}")
    ax.set_title(title)
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.legend(fontsize=8)
    return _save(fig, path)
