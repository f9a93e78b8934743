"""Predicted RNA secondary structure as a per-position alphabet (iDeepS's structure input),
folded once per sequence and kept in a cache beside the prepared data sets.

Each sequence is folded by ViennaRNA (`RNA.fold`, minimum free energy; iDeepS used
RNAshapes), and each position gets the letter of its structural context, as EDeN annotates
what iDeepS reads: S stem (paired), H hairpin loop, I internal loop or bulge, M multiloop,
F the unpaired 5' end and T the unpaired 3' end; unpaired positions of the exterior loop between
two stems are M (a loop joining several stems), and a sequence with no pair is all F.

Folding is slow (1.5 s for 375 nt on this 2-core CPU while shared), so `StructureCache` keeps every
structure it computes in `rna_structure/<name>.tsv` under the prepared-data cache
(`PGX_TFDS_DIR`), one line per sequence: the SHA-1 of the sequence (upper case, T as U) and
its dot-bracket. A later run folds only what the file lacks.
"""

import hashlib
import os
from collections.abc import Sequence

import numpy as np

from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open

CONTEXTS = "FTSHIM"


def normalise(sequence: str) -> str:
    """What is folded: upper case, T as U."""
    return sequence.upper().replace("T", "U")


def sequence_key(sequence: str) -> str:
    return hashlib.sha1(normalise(sequence).encode("ascii")).hexdigest()


def fold(sequence: str) -> str:
    """The minimum free energy structure of `sequence` in dot-bracket notation."""
    import RNA  # ViennaRNA's bindings, needed only where a structure is computed

    return RNA.fold(normalise(sequence))[0]


def contexts(dot_bracket: str) -> str:
    """Each position's structural context letter (`CONTEXTS`) from a dot-bracket structure."""
    letters = ["S"] * len(dot_bracket)
    stack: list[int] = []
    enclosing = np.full(len(dot_bracket), -1)
    branches: dict[int, int] = {}
    for k, c in enumerate(dot_bracket):
        if c == "(":
            if stack:
                branches[stack[-1]] = branches.get(stack[-1], 0) + 1
            stack.append(k)
        elif c == ")":
            stack.pop()
        else:
            enclosing[k] = stack[-1] if stack else -1
    paired = [k for k, c in enumerate(dot_bracket) if c in "()"]
    first, last = (paired[0], paired[-1]) if paired else (len(dot_bracket), len(dot_bracket))
    for k, c in enumerate(dot_bracket):
        if c in "()":
            continue
        if enclosing[k] >= 0:
            letters[k] = "HIM"[min(branches.get(int(enclosing[k]), 0), 2)]
        else:
            letters[k] = "F" if k < first else "T" if k > last else "M"
    return "".join(letters)


def one_hot_contexts(structures: Sequence[str], length: int) -> np.ndarray:
    """Context letters [B, length, 6] one-hot (zero past each sequence's end)."""
    table = np.full(256, -1, np.int64)
    table[np.frombuffer(CONTEXTS.encode("ascii"), np.uint8)] = np.arange(len(CONTEXTS))
    out = np.zeros((len(structures), length, len(CONTEXTS)), np.float32)
    for row, letters in enumerate(structures):
        codes = table[np.frombuffer(letters[:length].encode("ascii"), np.uint8)]
        out[row, np.arange(len(codes)), codes] = 1.0
    return out


def read_cache(path: str) -> dict[str, str]:
    """SHA-1 -> dot-bracket of a cache file (empty if it does not exist)."""
    if not os.path.exists(path):
        return {}
    cache = {}
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2 or len(parts[0]) != 40 or set(parts[1]) - set("()."):
                raise PgxError(f"{path}:{number}: expected 'sha1<TAB>dot-bracket'")
            cache[parts[0]] = parts[1]
    return cache


class StructureCache:
    """Dot-bracket structures by sequence, read once from the cache file `path`; sequences
    not in it are folded and the file rewritten (atomically) with them."""

    def __init__(self, path: str):
        self.path = path
        self.known = read_cache(path)

    def structures(self, sequences: Sequence[str]) -> list[str]:
        keys = [sequence_key(s) for s in sequences]
        missing = {k: s for k, s in zip(keys, sequences, strict=True) if k not in self.known}
        if missing:
            for key, sequence in missing.items():
                self.known[key] = fold(sequence)
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            with atomic_open(self.path, "w") as f:
                f.writelines(f"{k}\t{v}\n" for k, v in self.known.items())
        for key, sequence in zip(keys, sequences, strict=True):
            if len(self.known[key]) != len(sequence):
                raise PgxError(
                    f"{self.path}: the structure of {key} has {len(self.known[key])} "
                    f"positions, its sequence {len(sequence)}"
                )
        return [self.known[k] for k in keys]

    def contexts(self, sequences: Sequence[str], length: int) -> np.ndarray:
        """The sequences' structural contexts one-hot [B, length, 6]."""
        return one_hot_contexts([contexts(s) for s in self.structures(sequences)], length)
