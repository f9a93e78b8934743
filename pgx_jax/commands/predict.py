"""`pgx predict --workdir DIR --input FILE [--output out.csv] [--skip_bad]`: a run's predictions.

The input decides how records are read, the run's experiment how they are encoded:
- FASTA (plain or gzip) for sequence models: each record is encoded by the run's own
  experiment (`encode`, so the same alphabet, length and padding as in training);
- CSV (`.csv`, plain or gzip) with a header, for experiments whose module defines
  `prediction_columns(config)`, `encode_prediction_row(config, row)` and
  `prediction_inputs(rows)` (drug-target runs: `id,smiles,protein`, see `experiments/dti.py`);
  each row is tokenised as training tokenises.
- text with [[marked]] drugs, one sentence a line, for drug-drug interaction runs: handed to
  `pgx predict-ddi` (a TSV of every marked pair's relation and class probabilities).
Records are scored by the best (or latest) checkpoint in fixed-size jitted batches, with a
progress bar. The output has one row per record: its id and the prediction (a probability for
binary tasks, one column per task or class as `prediction_<k>`, values for regression); CSV,
or Parquet when the name ends in `.parquet`; standard output without `--output`.

A bad record (one the encoder rejects, an unparsable SMILES, a missing CSV field) is an error
naming the file, line and record; with `--skip_bad` it is left out instead, the count and the
first few are printed, and every one is listed in `<output>.skipped.tsv` (on standard error
without `--output`).
"""

import contextlib
import csv
import json
import os
import sys
from collections.abc import Callable, Iterator

import numpy as np
from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.data.pipeline import pad_to
from pgx_jax.data.readers import BadRecords, open_text
from pgx_jax.errors import PgxError

CSV_SUFFIXES = (".csv", ".csv.gz")


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string(
        "input",
        None,
        "FASTA; CSV (id,smiles,protein) for drug-target runs; [[marked]] sentences for DDI runs",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "output", None, "CSV or .parquet output (default: standard output)", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "batch_size",
        0,
        "records per batch (default: the run's batch size)",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "skip_bad",
        False,
        "leave out bad records, count and list them, instead of stopping at the first",
        flag_values=flag_values,
    )


def _score(
    run, batches: Iterator[tuple[dict, int]], total: int, size: int, progress: bool, path: str
):
    """Predictions [N, ...] of `run` on encoded batches (model inputs, rows), jitted and padded
    to `size` rows so every batch has one shape; PgxError naming `path` if no record is left."""
    import jax
    from tqdm import tqdm

    from pgx_jax.train.losses import link

    model, task = run.experiment.model, run.experiment.task
    apply = jax.jit(lambda v, inputs: link(task, model.apply(v, **inputs, train=False)))
    outputs = []
    with tqdm(total=total, desc="predict", unit="record", disable=not progress) as bar:
        for inputs, rows in batches:
            if rows:
                outputs.append(np.asarray(apply(run.variables, pad_to(inputs, size)))[:rows])
            bar.update(rows)
    if not outputs:
        raise PgxError(f"{path}: no records left to predict")
    return np.concatenate(outputs)


def _encode_fasta_batch(experiment, records: dict, lines: list[int], path: str, bad):
    """Encoded records and the indices kept; a rejected record goes to `bad` with its line."""
    try:
        return experiment.encode(records), np.arange(len(records["id"]))
    except PgxError:
        kept = []
        for i, name in enumerate(records["id"]):
            try:
                experiment.encode({k: v[i : i + 1] for k, v in records.items()})
                kept.append(i)
            except PgxError as err:
                bad.reject(path, lines[i], str(name), f"record {str(name)!r}: {err}")
        kept = np.asarray(kept, np.int64)
        if not kept.size:
            return None, kept
        return experiment.encode({k: v[kept] for k, v in records.items()}), kept


def predict_fasta(
    run, path: str, batch_size: int = 0, progress: bool = True, bad: BadRecords | None = None
):
    """Ids and predictions [N, ...] of a restored run on the records of a FASTA file.

    Records the reader or the encoder rejects go to `bad` in file order: under "error" the
    first in the file raises once every record before it has been encoded."""
    from pgx_jax.data.readers import read_fasta_lines

    bad = bad or BadRecords()
    found = BadRecords("skip")
    records, lines = read_fasta_lines(path, bad_records=found)
    source = run.experiment.splits["train"]
    label = np.asarray(source[0]["label"]) if len(source) else np.zeros((), np.float32)
    size = batch_size or run.config.data.batch_size
    ids: list[str] = []

    def batches():
        for start in range(0, len(records), size):
            chunk = records[start : start + size]
            batch = {
                "id": np.array([r.id for r in chunk]),
                "sequence": np.array([r.sequence for r in chunk]),
                "label": np.zeros((len(chunk), *label.shape), label.dtype),
            }
            encoded, kept = _encode_fasta_batch(
                run.experiment, batch, lines[start : start + size], path, found
            )
            checked_to = lines[min(start + size, len(records)) - 1]
            if bad.policy == "error" and any(b.line <= checked_to for b in found.skipped):
                bad.replay(found)
            ids.extend(chunk[i].id for i in kept)
            yield (encoded["inputs"] if encoded else None), int(kept.size)

    predictions = _score(run, batches(), len(records), size, progress, path)
    bad.replay(found)
    return ids, predictions


def read_csv_rows(path: str, columns: tuple[str, ...], bad: BadRecords) -> Iterator[tuple]:
    """(line, row) of every CSV data row with all `columns` filled; a row missing one is a bad
    record. A header without one of `columns` is an error."""
    try:
        with open_text(path) as f:
            reader = csv.DictReader(f)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise PgxError(
                    f"CSV file {path} line 1: header {reader.fieldnames} lacks {missing}; "
                    f"expected columns {list(columns)}"
                )
            for row in reader:
                line = reader.line_num
                name = (row.get("id") or "").strip() or f"line {line}"
                empty = [c for c in columns if not (row.get(c) or "").strip()]
                if empty:
                    bad.reject(path, line, name, f"record {name!r}: missing field {empty[0]!r}")
                    continue
                yield line, {c: row[c].strip() for c in columns}
    except UnicodeDecodeError as err:
        raise PgxError(f"CSV file {path}: not valid UTF-8 text ({err.reason})") from None
    except csv.Error as err:
        raise PgxError(f"CSV file {path}: {err}") from None


def predict_csv(
    run,
    module,
    path: str,
    batch_size: int = 0,
    progress: bool = True,
    bad: BadRecords | None = None,
):
    """Ids and predictions of a restored run on the rows of a CSV file, each encoded by the
    experiment module's `encode_prediction_row`."""
    bad = bad or BadRecords()
    encode_row: Callable = module.encode_prediction_row
    ids, encoded = [], []
    for line, row in read_csv_rows(path, module.prediction_columns(run.config), bad):
        try:
            encoded.append(encode_row(run.config, row))
            ids.append(row["id"])
        except PgxError as err:
            bad.reject(path, line, row["id"], f"record {row['id']!r}: {err}")
    size = batch_size or run.config.data.batch_size

    def batches():
        for start in range(0, len(encoded), size):
            chunk = encoded[start : start + size]
            stacked = {k: np.stack([r[k] for r in chunk]) for k in chunk[0]}
            padded = pad_to(stacked, size)
            yield module.prediction_inputs(padded), len(chunk)

    predictions = _score(run, batches(), len(encoded), size, progress, path)
    return ids, predictions


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


def _report_skipped(bad: BadRecords, output: str | None) -> None:
    """The skipped records: a count and the first few on standard error, all in a TSV beside
    the output (or every one on standard error without --output)."""
    if output:
        listing = f"{output}.skipped.tsv"
        bad.write_tsv(listing)
        print(f"predict: {bad.summary(listed_in=listing)}", file=sys.stderr)
    else:
        print(f"predict: {bad.summary(shown=len(bad.skipped))}", file=sys.stderr)


def predict_file(run, path: str, batch_size: int = 0, bad: BadRecords | None = None):
    """Ids and predictions of a restored run on a FASTA or CSV file, whichever the file is
    and the run's experiment reads; PgxError naming what the run accepts otherwise."""
    from pgx_jax.experiment import load_experiment_module

    module = load_experiment_module(run.config.experiment)
    columns = module.prediction_columns(run.config) if hasattr(module, "prediction_columns") else ()
    reads_fasta = "sequence" in run.experiment.splits["train"][0]
    is_csv = path.lower().endswith(CSV_SUFFIXES)
    if is_csv and columns:
        return predict_csv(run, module, path, batch_size, bad=bad)
    if not is_csv and reads_fasta:
        return predict_fasta(run, path, batch_size, bad=bad)
    accepted = ["FASTA"] * reads_fasta + [f"CSV ({','.join(columns)})"] * bool(columns)
    raise PgxError(
        f"{path}: the {run.config.experiment!r} run in {run.workdir} predicts from "
        f"{' or '.join(accepted) or 'no input file pgx predict reads'}"
    )


def _experiment(workdir: str) -> str:
    """The experiment named in `workdir`'s config.json ("" without one)."""
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        return ""
    with open(path) as f:
        return json.load(f).get("experiment", "")


def _predict_ddi(flag_values: flags.FlagValues) -> int:
    """A drug-drug interaction run: the sentences go to `pgx predict-ddi`."""
    from pgx_jax.commands import predict_ddi

    if flag_values.skip_bad or flag_values.batch_size:
        raise PgxError("--skip_bad and --batch_size do not apply to DDI runs (pgx predict-ddi)")
    argv = [f"--workdir={flag_values.workdir}", f"--input={flag_values.input}"]
    return predict_ddi.main(argv + [f"--output={flag_values.output}"] * bool(flag_values.output))


def main(argv: list[str]) -> int:
    """Predict every record of a FASTA or CSV file with a finished run."""
    flag_values, _ = parse("predict", argv, _define, with_config=False)
    if not flag_values.workdir or not flag_values.input:
        raise PgxError("--workdir and --input are required")
    from pgx_jax.train.restore import restore_run

    if _experiment(flag_values.workdir) == "ddi":
        return _predict_ddi(flag_values)
    bad = BadRecords("skip" if flag_values.skip_bad else "error", "--skip_bad")
    run = restore_run(flag_values.workdir)
    ids, predictions = predict_file(run, flag_values.input, flag_values.batch_size, bad)
    write_predictions(ids, predictions, flag_values.output)
    if bad.policy == "skip":
        _report_skipped(bad, flag_values.output)
    print(
        f"predict: {len(ids)} records scored by the {run.kind} checkpoint (step {run.step})",
        file=sys.stderr,
    )
    return 0
