"""Sequence alphabets and vectorised encoders (one-hot and integer tokens).

Encoding goes through a 256-entry byte lookup table, so a batch of strings is encoded with
numpy array operations rather than a Python loop per character.

Conventions:
  * Lower case is accepted everywhere and encodes like upper case.
  * DNA and RNA both accept T and U as the fourth letter (DNA reads U as T, RNA reads T as U),
    so data mixing the two (e.g. CLIP reads) encodes without preprocessing.
  * IUPAC ambiguity codes (N, R, Y, ... for nucleotides; X, B, Z, J, U, O for protein) are
    accepted and encode as "unknown"; any other character raises PgxError.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pgx_jax.errors import PgxError

_INVALID = -1
_IUPAC_COMPLEMENT = str.maketrans("NRYSWKMBDHV", "NYRSWMKVHDB")


@dataclass(frozen=True)
class Alphabet:
    """A sequence alphabet.

    letters: the channels / tokens, in order. aliases: extra characters read as one of the
    letters (e.g. 'U' -> 'T' for DNA). ambiguous: codes accepted and encoded as unknown.
    complement: the complement of each letter, aligned with `letters`, or None (protein).
    unknown_letter: the character an unknown position decodes to.
    """

    name: str
    letters: str
    ambiguous: str
    complement: str | None
    unknown_letter: str
    aliases: dict[str, str] = field(default_factory=dict, hash=False)


DNA = Alphabet("DNA", "ACGT", "NRYSWKMBDHV", "TGCA", "N", {"U": "T"})
RNA = Alphabet("RNA", "ACGU", "NRYSWKMBDHV", "UGCA", "N", {"T": "U"})
PROTEIN = Alphabet("PROTEIN", "ACDEFGHIKLMNPQRSTVWY", "XBZJUO", None, "X")


def vocab_size(alphabet: Alphabet) -> int:
    """Number of token ids: padding (0), one per letter, and unknown."""
    return len(alphabet.letters) + 2


@functools.cache
def _lookup(alphabet: Alphabet) -> np.ndarray:
    """Byte -> token id table: 1..K letters, K+1 unknown, _INVALID for anything else."""
    table = np.full(256, _INVALID, dtype=np.int32)
    unknown = len(alphabet.letters) + 1
    pairs = [(c, i + 1) for i, c in enumerate(alphabet.letters)]
    pairs += [(a, alphabet.letters.index(t) + 1) for a, t in alphabet.aliases.items()]
    pairs += [(c, unknown) for c in alphabet.ambiguous]
    for char, token in pairs:
        table[ord(char.upper())] = token
        table[ord(char.lower())] = token
    return table


def _check_options(length: int | None, truncate: str) -> None:
    """Reject a bad `length` or `truncate` argument."""
    if length is not None and length < 1:
        raise PgxError(f"sequence length must be at least 1, got {length}")
    if truncate not in ("right", "center", "error"):
        raise PgxError(f"truncate must be 'right', 'center' or 'error', got {truncate!r}")


def _label(names: Sequence[str] | None, index: int) -> str:
    """The name used for sequence `index` in error messages."""
    return names[index] if names is not None else f"#{index}"


def _flat_codes(
    seqs: Sequence[str], alphabet: Alphabet, names: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of all sequences concatenated, and each sequence's length.

    Raises PgxError naming the first invalid character. Non-ASCII characters become '?'
    (one byte per character), which the table marks invalid, so positions stay exact.
    """
    if names is not None and len(names) != len(seqs):
        raise PgxError(f"got {len(names)} names for {len(seqs)} sequences")
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    raw = b"".join(s.encode("ascii", "replace") for s in seqs)
    codes = _lookup(alphabet)[np.frombuffer(raw, dtype=np.uint8)]
    bad = np.flatnonzero(codes == _INVALID)
    if bad.size:
        flat = int(bad[0])
        starts = np.cumsum(lengths) - lengths
        index = int(np.searchsorted(starts, flat, side="right")) - 1
        pos = flat - int(starts[index])
        raise PgxError(
            f"sequence '{_label(names, index)}' position {pos + 1} (1-based): "
            f"invalid character {seqs[index][pos]!r} for {alphabet.name}"
        )
    return codes, lengths


def validate(seqs: Sequence[str], alphabet: Alphabet, names: Sequence[str] | None = None) -> None:
    """Raise PgxError naming the sequence and position of the first invalid character."""
    _flat_codes(seqs, alphabet, names)


def tokens(
    seqs: Sequence[str],
    alphabet: Alphabet,
    length: int | None = None,
    names: Sequence[str] | None = None,
    truncate: str = "right",
) -> tuple[np.ndarray, np.ndarray]:
    """Encode a batch as int32 token ids [B, L] and a bool mask [B, L].

    0 is padding, 1..K the letters in order, K+1 unknown (ambiguous codes). `length=None`
    uses the longest sequence. Longer sequences are truncated: "right" keeps the start,
    "center" keeps the middle (start offset (n - L) // 2), e.g. for windows around a variant;
    "error" raises PgxError naming the first sequence longer than `length`.
    The whole sequence is validated, including any part truncated away.
    """
    _check_options(length, truncate)
    codes, lengths = _flat_codes(seqs, alphabet, names)
    width = int(lengths.max(initial=0)) if length is None else length
    if truncate == "error" and lengths.size and lengths.max() > width:
        index = int(np.argmax(lengths > width))
        raise PgxError(
            f"sequence '{_label(names, index)}' has length {lengths[index]}, longer than the "
            f"model input length {width}"
        )
    kept = np.minimum(lengths, width)
    skip = (lengths - kept) // 2 if truncate == "center" else np.zeros_like(lengths)
    starts = np.cumsum(lengths) - lengths + skip
    cols = np.arange(width)
    mask = cols[None, :] < kept[:, None]
    out = np.zeros((len(seqs), width), dtype=np.int32)
    out[mask] = codes[(starts[:, None] + cols[None, :])[mask]]
    return out, mask


def one_hot(
    seqs: Sequence[str],
    alphabet: Alphabet,
    length: int | None = None,
    unknown: str = "uniform",
    names: Sequence[str] | None = None,
    truncate: str = "right",
) -> tuple[np.ndarray, np.ndarray]:
    """Encode a batch as float32 one-hot [B, L, K] and a bool mask [B, L].

    Padding is all-zero with mask False. Ambiguous codes are 1/K in every channel when
    `unknown="uniform"` and all-zero when `unknown="zero"`. Length and truncation as `tokens`.
    """
    if unknown not in ("uniform", "zero"):
        raise PgxError(f"unknown must be 'uniform' or 'zero', got {unknown!r}")
    ids, mask = tokens(seqs, alphabet, length=length, names=names, truncate=truncate)
    k = len(alphabet.letters)
    fill = 1.0 / k if unknown == "uniform" else 0.0
    table = np.vstack([np.zeros(k), np.eye(k), np.full(k, fill)]).astype(np.float32)
    return table[ids], mask


def _rows_to_strings(chars: np.ndarray, mask: np.ndarray) -> list[str]:
    """Join each row's byte characters where mask is True."""
    return [row[m].tobytes().decode("ascii") for row, m in zip(chars, mask, strict=True)]


def decode_tokens(ids: Any, alphabet: Alphabet) -> list[str]:
    """Decode token ids [B, L] back to upper-case strings, dropping padding (0)."""
    ids = np.asarray(ids)
    letters = "?" + alphabet.letters + alphabet.unknown_letter
    table = np.frombuffer(letters.encode("ascii"), dtype=np.uint8)
    if ids.size and (ids.min() < 0 or ids.max() >= len(letters)):
        raise PgxError(f"token ids must lie in [0, {len(letters) - 1}] for {alphabet.name}")
    return _rows_to_strings(table[ids], ids != 0)


def decode_one_hot(x: Any, mask: Any, alphabet: Alphabet) -> list[str]:
    """Decode one-hot [B, L, K] back to strings; uniform or zero columns become unknown.

    A column is a letter when its largest entry exceeds 0.5, so soft (e.g. smoothed)
    one-hot inputs decode too.
    """
    x = np.asarray(x)
    ids = np.where(x.max(axis=-1) > 0.5, x.argmax(axis=-1) + 1, len(alphabet.letters) + 1)
    ids = np.where(np.asarray(mask, dtype=bool), ids, 0)
    return decode_tokens(ids, alphabet)


def reverse_complement(
    seqs: Sequence[str], alphabet: Alphabet, names: Sequence[str] | None = None
) -> list[str]:
    """Reverse-complement nucleotide strings, keeping case and IUPAC ambiguity codes.

    Aliases complement like their letter (U in DNA -> A). Raises PgxError for an alphabet
    without a complement or an invalid character.
    """
    if alphabet.complement is None:
        raise PgxError(f"alphabet {alphabet.name} has no complement")
    _flat_codes(seqs, alphabet, names)
    pairs = dict(zip(alphabet.letters, alphabet.complement, strict=True))
    pairs |= {a: pairs[t] for a, t in alphabet.aliases.items()}
    pairs |= {c: c.translate(_IUPAC_COMPLEMENT) for c in alphabet.ambiguous}
    pairs |= {k.lower(): v.lower() for k, v in pairs.items()}
    table = str.maketrans(pairs)
    return [s.translate(table)[::-1] for s in seqs]


def reverse_complement_one_hot(x: Any) -> Any:
    """Reverse-complement nucleotide one-hot [..., L, 4] (numpy or jax array).

    Flips the length and channel axes: valid because the complement of ACGT (ACGU) is TGCA
    (UGCA), the channels in reverse order. Padding at the end moves to the start, so flip
    the mask too (`mask[..., ::-1]`).
    """
    return x[..., ::-1, ::-1]


def one_hot_codes(codes: np.ndarray, alphabet: Alphabet, unknown: str = "uniform") -> np.ndarray:
    """float32 one-hot [B, L, K] of equal-length ASCII codes [B, L] (uint8, as
    `pgx_jax.data.genome.Genome.read` gives them), through the same lookup table as `one_hot`;
    ambiguous codes (N) and any byte outside the alphabet read as unknown (a genome's gaps and
    IUPAC codes), uniform or zero as `unknown` says."""
    ids = _lookup(alphabet)[np.asarray(codes, np.uint8)]
    k = len(alphabet.letters)
    ids = np.where(ids == _INVALID, k + 1, ids)
    fill = 1.0 / k if unknown == "uniform" else 0.0
    table = np.vstack([np.zeros(k), np.eye(k), np.full(k, fill)]).astype(np.float32)
    return table[ids]
