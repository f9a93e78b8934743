"""Input lengths against what a model reads: each record's length as its encoder counts it,
how many records a run cuts or pads, and windows over sequences longer than the model's input.

A Predictor's `input_lengths` (`InputLengths`) gives, for each field it reads at a fixed
length, the records' lengths and that length. Training reports the counts; `pgx predict`
refuses a record longer than its model reads, or scores it in windows (`--window`, `--stride`).
"""

import dataclasses
from collections.abc import Mapping

import numpy as np

from pgx_jax.data.sources import text_values
from pgx_jax.errors import PgxError


@dataclasses.dataclass(frozen=True)
class InputLengths:
    """The fields an encoder reads one letter a position, each up to its `limits` length;
    the `smiles` among them are measured as RDKit's canonical SMILES, which the encoder
    tokenises. Called on records: {field: (each record's length, the limit)} for the fields
    the records hold."""

    limits: Mapping[str, int]
    smiles: tuple[str, ...] = ()

    def __call__(self, records: Mapping[str, np.ndarray]) -> dict[str, tuple[np.ndarray, int]]:
        from pgx_jax.data.smiles import canonical_form

        found = {}
        for field, limit in self.limits.items():
            if field not in records:
                continue
            values = text_values(records[field])
            if field in self.smiles:
                values = [canonical_form(v) or v for v in values]
            found[field] = (np.array([len(v) for v in values], np.int64), limit)
        return found

    @property
    def sequences(self) -> tuple[str, ...]:
        """The fields that are sequences, which can be read in windows (not SMILES)."""
        return tuple(f for f in self.limits if f not in self.smiles)


def letters(limits: Mapping[str, int], smiles: tuple[str, ...] = ()) -> InputLengths:
    """InputLengths of the fields with a positive limit."""
    return InputLengths({k: int(v) for k, v in limits.items() if v}, tuple(smiles))


def cut_and_padded(
    input_lengths: InputLengths | None, records: Mapping[str, np.ndarray]
) -> list[tuple[str, int, int, int, int]]:
    """Per field: (field, the model's length, records, records longer (cut), records shorter
    (padded))."""
    if input_lengths is None:
        return []
    return [
        (field, limit, len(found), int(np.sum(found > limit)), int(np.sum(found < limit)))
        for field, (found, limit) in input_lengths(records).items()
    ]


def describe(counts: list[tuple[str, int, int, int, int]], what: str) -> list[str]:
    """One line per field: how many of `what` records were cut to the model's length and how
    many padded to it."""
    return [
        f"{what}: {field} is read at {limit} positions; {cut} of {total} records are longer "
        f"and cut to it, {padded} shorter and padded"
        for field, limit, total, cut, padded in counts
    ]


def window_starts(length: int, window: int, stride: int) -> np.ndarray:
    """Starts of windows of `window` positions every `stride` over a sequence of `length`;
    a last window ends at the sequence's end, so every position is in one. A sequence no
    longer than `window` is one window at 0."""
    if length <= window:
        return np.zeros(1, np.int64)
    starts = np.arange(0, length - window + 1, stride)
    if starts[-1] != length - window:
        starts = np.append(starts, length - window)
    return starts


def sequence_window(input_lengths: InputLengths | None, window: int, what: str) -> tuple[str, int]:
    """The sequence field a model reads and the window length to read it in: `window`, or
    the model's length when 0. PgxError naming `what` (the run) when the model reads no
    sequence at a fixed length, or `window` is longer than it reads (the encoder would cut)."""
    fields = input_lengths.sequences if input_lengths else ()
    if len(fields) != 1:
        raise PgxError(f"{what}: windows need a model that reads one sequence; it reads {fields}")
    field, limit = fields[0], input_lengths.limits[fields[0]]
    if window < 0 or window > limit:
        raise PgxError(
            f"--window={window}: must be between 1 and the {limit} positions {what} reads"
        )
    return field, window or limit


def check_fits(input_lengths: InputLengths | None, records: Mapping, source: str) -> None:
    """PgxError naming the first record of `source` longer than the model reads (its encoder
    would cut it)."""
    measured = input_lengths(records) if input_lengths else {}
    for field, (found, limit) in measured.items():
        longer = np.flatnonzero(found > limit)
        if longer.size:
            name = text_values(records["id"][longer[:1]])[0]
            raise PgxError(
                f"{source}: record {name!r}: {field} has {found[longer[0]]} positions, the model "
                f"reads {limit} ({longer.size} such records); cut them to at most {limit}"
            )
