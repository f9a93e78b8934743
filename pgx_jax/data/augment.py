"""Training-set augmentations that add transformed copies of every record.

Each returns the source's records first, then the copies (ids suffixed), with every other
column (labels, weights) repeated, so a run stays deterministic and a copy's origin readable.
"""

import numpy as np

from pgx_jax.data import alphabets
from pgx_jax.data.sources import InMemorySource, materialize, text_values
from pgx_jax.errors import PgxError


def with_reverse_complements(source, alphabet: alphabets.Alphabet) -> InMemorySource:
    """`source` plus the reverse complement of every record (id suffixed `_rc`)."""
    columns = dict(materialize(source).columns)
    ids, sequences = text_values(columns.pop("id")), text_values(columns.pop("sequence"))
    return InMemorySource(
        {
            "id": np.array(ids + [f"{i}_rc" for i in ids]),
            "sequence": np.array(sequences + alphabets.reverse_complement(sequences, alphabet)),
            **{name: np.concatenate([column, column]) for name, column in columns.items()},
        }
    )


def with_shifted_copies(source, max_shift: int, alphabet: alphabets.Alphabet) -> InMemorySource:
    """`source` plus, for each s in 1..max_shift, every sequence moved s positions to the left
    (id suffixed `_l{s}`) and s to the right (`_r{s}`). The vacated end is filled with the
    alphabet's unknown letter, so a copy keeps its length and every other base its distance
    from the window's ends: an aligned window (a promoter around its TSS) is shown slightly
    misaligned, as a real scan would see it. Errors name `config.data.max_shift`."""
    if not isinstance(max_shift, int) or max_shift < 0:
        raise PgxError(f"config.data.max_shift: {max_shift!r}; expected an integer >= 0")
    columns = dict(materialize(source).columns)
    ids, sequences = text_values(columns.pop("id")), text_values(columns.pop("sequence"))
    for name, sequence in zip(ids, sequences, strict=True):
        if len(sequence) <= max_shift:
            raise PgxError(
                f"config.data.max_shift: {max_shift} is not shorter than record {name!r} "
                f"({len(sequence)} letters)"
            )
    fill = alphabet.unknown_letter
    out_ids, out_sequences = list(ids), list(sequences)
    for s in range(1, max_shift + 1):
        out_ids += [f"{i}_l{s}" for i in ids] + [f"{i}_r{s}" for i in ids]
        out_sequences += [q[s:] + fill * s for q in sequences]
        out_sequences += [fill * s + q[:-s] for q in sequences]
    copies = 1 + 2 * max_shift
    return InMemorySource(
        {
            "id": np.array(out_ids),
            "sequence": np.array(out_sequences),
            **{name: np.concatenate([column] * copies) for name, column in columns.items()},
        }
    )
