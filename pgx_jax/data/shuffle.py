"""Dinucleotide-preserving shuffles (Altschul & Erikson 1985, by a random Eulerian walk).

DeepBind trains on ChIP-seq peaks against negatives made by shuffling each positive while
keeping its dinucleotide counts, so a model cannot win on composition alone. A sequence is a
walk through the graph whose vertices are letters and whose edges are its adjacent pairs; a
shuffle is a random Eulerian walk through the same edges, from the same first letter to the
same last letter. Choosing each letter's last exit edge as a random tree towards the final
letter (and then shuffling the other exits) draws the walk uniformly (Kandel et al. 1996).
"""

from collections.abc import Sequence

import numpy as np


def _last_exits(edges: dict[str, list[str]], end: str, rng: np.random.Generator) -> dict:
    """Random last exit per letter (other than `end`) such that they all lead to `end`."""
    while True:
        exits = {v: int(rng.integers(len(out))) for v, out in edges.items() if v != end and out}
        targets = {v: edges[v][i] for v, i in exits.items()}
        if all(_reaches(v, end, targets) for v in targets):
            return exits


def _reaches(start: str, end: str, targets: dict[str, str]) -> bool:
    seen, v = set(), start
    while v != end:
        if v in seen:
            return False
        seen.add(v)
        v = targets[v]
    return True


def dinucleotide_shuffle(sequence: str, rng: np.random.Generator) -> str:
    """A random sequence with the same first letter, last letter and dinucleotide counts.

    Letters are taken as they are (case-sensitive, any alphabet). Sequences of length <= 2
    have only one such arrangement and are returned unchanged.
    """
    if len(sequence) <= 2:
        return sequence
    edges: dict[str, list[str]] = {}
    for a, b in zip(sequence[:-1], sequence[1:], strict=True):
        edges.setdefault(a, []).append(b)
        edges.setdefault(b, [])
    end = sequence[-1]
    exits = _last_exits(edges, end, rng)
    order: dict[str, list[str]] = {}
    for v, out in edges.items():
        out = list(out)
        last = [out.pop(exits[v])] if v in exits else []
        order[v] = [out[i] for i in rng.permutation(len(out))] + last
    walk, position = [sequence[0]], {v: 0 for v in order}
    for _ in range(len(sequence) - 1):
        v = walk[-1]
        walk.append(order[v][position[v]])
        position[v] += 1
    return "".join(walk)


def dinucleotide_shuffles(sequences: Sequence[str], seed: int) -> list[str]:
    """One dinucleotide shuffle of each sequence, all drawn from `np.random.default_rng(seed)`."""
    rng = np.random.default_rng(seed)
    return [dinucleotide_shuffle(s, rng) for s in sequences]


def dinucleotide_counts(sequence: str) -> dict[str, int]:
    """How often each adjacent pair of letters occurs."""
    counts: dict[str, int] = {}
    for i in range(len(sequence) - 1):
        pair = sequence[i : i + 2]
        counts[pair] = counts.get(pair, 0) + 1
    return counts
