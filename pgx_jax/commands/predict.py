"""`pgx predict --workdir DIR --input FILE [--output out.csv]`: a run's predictions on new data.

FASTA input (plain or gzip) for sequence models: each record is encoded by the run's own
experiment (`encode`, so the same alphabet, length and padding as in training) and scored
by the best (or latest) checkpoint in fixed-size jitted batches. The output has one row per
record: its id and the prediction (a probability for binary tasks, one column per task or
class as `prediction_<k>`, values for regression); CSV, or Parquet when the name ends in
`.parquet`; standard output without `--output`. A record the encoder rejects is reported
with the file and line of its header.
"""

import contextlib
import csv
import sys

import numpy as np
from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string("input", None, "FASTA file (plain or gzip)", flag_values=flag_values)
    flags.DEFINE_string(
        "output", None, "CSV or .parquet output (default: standard output)", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "batch_size",
        0,
        "records per batch (default: the run's batch size)",
        flag_values=flag_values,
    )


def header_lines(path: str) -> list[int]:
    """The 1-based line number of every FASTA header, in record order."""
    from pgx_jax.data.readers import open_text

    with open_text(path) as f:
        return [n for n, line in enumerate(f, start=1) if line.lstrip().startswith(">")]


def _encode(experiment, records: dict, lines: list[int], path: str) -> dict:
    """Encode a batch of records; a rejected record raises PgxError with its file and line."""
    try:
        return experiment.encode(records)
    except PgxError:
        for i in range(len(records["id"])):
            try:
                experiment.encode({k: v[i : i + 1] for k, v in records.items()})
            except PgxError as err:
                raise PgxError(
                    f"{path} line {lines[i]}: record {str(records['id'][i])!r}: {err}"
                ) from None
        raise


def _pad(tree, rows: int):
    import jax

    def pad(x):
        x = np.asarray(x)
        return np.concatenate([x, np.zeros((rows - len(x),) + x.shape[1:], x.dtype)])

    return jax.tree.map(pad, tree)


def predict_fasta(run, path: str, batch_size: int = 0, progress: bool = True):
    """Ids and predictions [N, ...] of a restored run on the records of a FASTA file."""
    import jax
    from tqdm import tqdm

    from pgx_jax.data.readers import read_fasta
    from pgx_jax.train.losses import link

    records = read_fasta(path)
    lines = header_lines(path)
    source = run.experiment.splits["train"]
    label = np.asarray(source[0]["label"]) if len(source) else np.zeros((), np.float32)
    model, task = run.experiment.model, run.experiment.task
    apply = jax.jit(lambda v, inputs: link(task, model.apply(v, **inputs, train=False)))
    size = batch_size or run.config.data.batch_size
    ids, outputs = [r.id for r in records], []
    with tqdm(total=len(records), desc="predict", unit="seq", disable=not progress) as bar:
        for start in range(0, len(records), size):
            chunk = records[start : start + size]
            batch = {
                "id": np.array([r.id for r in chunk]),
                "sequence": np.array([r.sequence for r in chunk]),
                "label": np.zeros((len(chunk), *label.shape), label.dtype),
            }
            encoded = _encode(run.experiment, batch, lines[start : start + size], path)
            inputs = _pad(encoded["inputs"], size)
            outputs.append(np.asarray(apply(run.variables, inputs))[: len(chunk)])
            bar.update(len(chunk))
    return ids, np.concatenate(outputs)


def write_predictions(ids: list[str], predictions: np.ndarray, output: str | None) -> None:
    """One row per record: id and its prediction column(s); CSV, Parquet or standard output."""
    values = predictions.reshape(len(predictions), -1)
    names = (
        ["prediction"]
        if predictions.ndim == 1
        else [f"prediction_{k}" for k in range(values.shape[1])]
    )
    if output and output.endswith(".parquet"):
        import pandas as pd

        frame = pd.DataFrame(values, columns=names)
        frame.insert(0, "id", ids)
        frame.to_parquet(output, index=False)
        return
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(open(output, "w", newline="")) if output else sys.stdout
        writer = csv.writer(handle)
        writer.writerow(["id", *names])
        writer.writerows(
            [i, *(f"{v:.9g}" for v in row)] for i, row in zip(ids, values, strict=True)
        )


def main(argv: list[str]) -> int:
    """Predict every record of a FASTA file with a finished run."""
    flag_values, _ = parse("predict", argv, _define, with_config=False)
    if not flag_values.workdir or not flag_values.input:
        raise PgxError("--workdir and --input are required")
    from pgx_jax.train.restore import restore_run

    run = restore_run(flag_values.workdir)
    if "sequence" not in run.experiment.splits["train"][0]:
        raise PgxError(
            f"{flag_values.workdir}: pgx predict reads FASTA for sequence models; experiment "
            f"{run.config.experiment!r} has no 'sequence' records"
        )
    ids, predictions = predict_fasta(run, flag_values.input, flag_values.batch_size)
    write_predictions(ids, predictions, flag_values.output)
    print(
        f"predict: {len(ids)} records scored by the {run.kind} checkpoint (step {run.step})",
        file=sys.stderr,
    )
    return 0
