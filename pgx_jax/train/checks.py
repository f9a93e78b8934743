"""Checks the training loop makes on what it reads and computes, with errors that name the
records: labels that cannot be learnt, and a loss that stops being finite."""

import os

import jax
import numpy as np

from pgx_jax.checkpoint import Checkpoints
from pgx_jax.data import lengths
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.files import write_atomically


def names(ids: np.ndarray) -> list[str]:
    """Record ids (bytes, as array_record stores them, or str) as Python strings."""
    return [i.decode() if isinstance(i, bytes) else str(i) for i in np.asarray(ids).tolist()]


def shorten(listed: list[str], keep: int = 5) -> str:
    more = f", ... ({len(listed) - keep} more)" if len(listed) > keep else ""
    return ", ".join(listed[:keep]) + more


def broadcast(weight: np.ndarray, shape: tuple) -> np.ndarray:
    """A weight [B] or [B, T] broadcast to `shape` ([B, ...], or [B, P, T] for profiles)."""
    if weight.ndim == 2 and len(shape) == 3:
        return np.broadcast_to(weight[:, None, :], shape)
    return np.broadcast_to(weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim)), shape)


def check_labels(batch: dict, ids: np.ndarray | None, task: str, step: int) -> None:
    """Raise PgxError naming the records of a training batch whose label cannot be learnt.

    NaN or infinite labels (unless weighted 0, as missing multi-label entries are) and, for
    binary and multi-label tasks, labels outside [0, 1]. Single-process runs only; under several
    processes a NaN label shows as a non-finite loss, which every process sees.
    """
    label = np.asarray(batch["label"])
    if not np.issubdtype(label.dtype, np.number):
        return
    weighted = broadcast(np.asarray(batch["weight"]), label.shape) > 0
    bad = weighted & ~np.isfinite(label)
    problem = "not finite"
    if not bad.any() and task in ("binary", "multilabel"):
        bad, problem = weighted & ((label < 0) | (label > 1)), f"outside [0, 1] for a {task} task"
    if not bad.any():
        return
    rows = np.flatnonzero(bad.reshape(len(label), -1).any(axis=1))
    listed = [names(ids)[r] for r in rows] if ids is not None else [f"row {r}" for r in rows]
    raise PgxError(
        f"training batch of step {step}: label {label[rows[0]].tolist()!r} of record "
        f"{listed[0]!r} is {problem} ({len(rows)} such record(s): {shorten(listed)})"
    )


def nonfinite_message(
    loss: float, step: int, ids: np.ndarray | None, workdir: str, checkpoints: Checkpoints
) -> str:
    """The error for a non-finite loss; the batch's record ids also go to a file in workdir."""
    if ids is None:
        batch = "the batch carries no record ids"
    else:
        listed = names(ids)
        path = os.path.join(workdir, f"nonfinite_batch.{jax.process_index()}.txt")
        write_atomically(path, "".join(f"{n}\n" for n in listed))
        batch = f"batch record ids {shorten(listed)}; all {len(listed)} in {path}"
    good = checkpoints.latest_step()
    kept = f"step {good} ({checkpoints.directory}/latest)" if good is not None else "none"
    return f"training loss became {loss} at step {step}; {batch}; last good checkpoint: {kept}"


def length_lines(predictor, splits: dict) -> list[str]:
    """Per split held in memory: how many records are cut to the model's input length and how
    many padded (`pgx_jax.data.lengths`); streamed splits are left out."""
    lines = []
    for name, source in splits.items():
        if isinstance(source, InMemorySource):
            counts = lengths.cut_and_padded(predictor.input_lengths, source.columns)
            lines += lengths.describe(counts, name)
    return lines
