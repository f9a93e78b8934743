"""`pgx predict --workdir DIR --input FILE [--output out.csv] [--window W] [--skip_bad]`: a run's
predictions on new records.

The run is restored from its directory alone (`pgx_jax.load_run`); its Predictor says which
record fields it reads, and the input gives them:
- a table (`.csv` or `.tsv`, plain or gzip, or `.parquet`) with a header naming those fields
  (and `id`: without it a record is named by its line)
  (`id,smiles,protein` for a drug-target run, `id,smiles` for the solubility QSAR,
  `id,sequence` for a sequence model);
- FASTA (plain or gzip) for sequence models;
- text with [[marked]] drugs, one sentence a line, for drug-drug interaction runs: every pair
  of marked drugs in a line is one record (its line, drug1, drug2 and the filter rule it
  matches are written beside its prediction).
Each record is encoded exactly as training encodes and scored by the best (or latest)
checkpoint in fixed-size jitted batches, with a progress bar. The output has one row per
record: its id and the prediction (a probability for binary tasks, one column per task or
class as `prediction_<k>`, values for regression); a run with named classes writes one
probability column per class and the `call` (the DDI relation: pairs matched by a filter rule
are negative where the run filtered; `--tuned` calls with the run's validation-tuned weight on
the negative class). CSV, TSV (`.tsv`) or Parquet (`.parquet`); CSV on standard output without
`--output`.

Lengths: a record longer than the model reads (a sequence or protein past its input length, a
SMILES past its token length, counted as the encoder counts them) is a bad record, never cut;
with `--window W` every sequence is scored in windows of W positions (default the model's
length) every `--stride` positions (default W/2; a last window ends at the sequence's end),
one output row per window with its 0-based `start` and `end`. Shorter records are padded as in
training, and their number is printed.

A bad record (one the encoder rejects, an unparsable SMILES, a missing field) is an error
naming the file, line and record; with `--skip_bad` it is left out instead, the count and the
first few are printed, and every one is listed in `<output>.skipped.tsv` (on standard error
without `--output`).

Genome tracks: with `--genome FASTA --regions BED|chr:start-end` instead of `--input`, the
model scores windows stepping through the regions and writes one bedGraph or bigWig track per
task (`--output x.bedGraph` or `x.bw`; several tasks: `x.<task>.bw`), each window's
prediction over its central `--stride` bases (default the run's label bin); a profile model
writes its predicted coverage base by base (`pgx_jax/genome_tracks.py`).

example: pgx predict --workdir runs/default --input new.fa --output predictions.csv
         pgx predict --workdir runs/default --input long.fa --window 101 --stride 50
         pgx predict --workdir runs/basset --genome genome.fa --regions chr8:1-200000 \\
             --output basset.bw
"""

import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterator

import numpy as np
from absl import flags

from pgx_jax.commands.flags import define_windows, parse
from pgx_jax.data import lengths
from pgx_jax.data.readers import BadRecords
from pgx_jax.data.sources import text_values
from pgx_jax.data.tables import TABLE_SUFFIXES
from pgx_jax.errors import PgxError
from pgx_jax.files import check_output

SENTENCE_FIELDS = ("tokens", "e1_index", "e2_index")
"""What a DDI run's Predictor reads; its input is [[marked]] sentences."""


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string(
        "input",
        None,
        "CSV/TSV with id and the fields the run reads; FASTA; [[marked]] sentences for DDI runs",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "output",
        None,
        "CSV, .tsv or .parquet output (default: CSV on standard output)",
        flag_values=flag_values,
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
    define_windows(flag_values)
    flags.DEFINE_string(
        "genome",
        None,
        "indexed FASTA to score --regions of (instead of --input)",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "regions",
        None,
        "with --genome: a BED file, chr:start-end (1-based) or a chromosome",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "tuned",
        False,
        "multiclass runs trained with eval.tune_negative_weight: call with that weight",
        flag_values=flag_values,
    )


def read_table(path: str, columns: tuple[str, ...], bad: BadRecords) -> tuple[dict, list[int]]:
    """The `columns` (and `id`, else each row's line as its name) of every row of a table
    (`pgx_jax.data.tables.read_table`: CSV, TSV, gzipped, Parquet), and each row's line; a row
    with an empty one is a bad record, a header without one an error."""
    from pgx_jax.data.tables import read_table as read_cells

    table = read_cells(path)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise PgxError(
            f"table {path} line 1: header {list(table.columns)} lacks {missing}; "
            f"expected columns {list(columns)}"
        )
    ids = table.columns.get("id", np.array([f"line {line}" for line in table.lines]))
    keep = np.ones(len(table), bool)
    for row in range(len(table)):
        empty = [c for c in columns if not table.columns[c][row]]
        if empty:
            name = str(ids[row]) or f"line {table.lines[row]}"
            line = int(table.lines[row])
            bad.reject(path, line, name, f"record {name!r}: missing field {empty[0]!r}")
            keep[row] = False
    records = {"id": ids[keep].astype(object)}
    records.update({c: table.columns[c][keep].astype(object) for c in columns})
    return records, [int(line) for line in table.lines[keep]]


def read_records(run, path: str, bad: BadRecords) -> tuple[dict, list[int]]:
    """The input's records (`id`, the fields the run reads and, for sentences, the columns
    written beside the predictions) and each record's line; PgxError naming what the run
    accepts when the file is not one of them."""
    from pgx_jax.data.ddi_corpus import read_marked_sentences
    from pgx_jax.data.readers import read_fasta_lines

    reads = tuple(run.predictor.reads)
    if path.lower().endswith(TABLE_SUFFIXES):
        return read_table(path, reads, bad)
    if reads == ("sequence",):
        found, lines = read_fasta_lines(path, bad_records=bad)
        records = {
            "id": np.array([r.id for r in found], dtype=object),
            "sequence": np.array([r.sequence for r in found], dtype=object),
        }
        return records, lines
    if reads == SENTENCE_FIELDS:
        return read_marked_sentences(path, run.config.data.lowercase, run.config.data.numbers)
    raise PgxError(
        f"{path}: the {run.config.experiment!r} run in {run.workdir} predicts from a CSV or TSV "
        f"table with columns {['id', *reads]}"
    )


def _encode(predictor, records: dict, lines: list[int], path: str, found: BadRecords):
    """Encoded records and the indices kept; a rejected record goes to `found` with its line."""
    try:
        return predictor.encode(records), np.arange(len(records["id"]))
    except PgxError:
        kept = []
        for i, name in enumerate(records["id"]):
            try:
                predictor.encode({k: v[i : i + 1] for k, v in records.items()})
                kept.append(i)
            except PgxError as err:
                found.reject(path, lines[i], str(name), f"record {str(name)!r}: {err}")
        kept = np.asarray(kept, np.int64)
        if not kept.size:
            return None, kept
        return predictor.encode({k: v[kept] for k, v in records.items()}), kept


def predict_records(
    run,
    records: dict,
    lines: list[int],
    path: str,
    batch_size: int = 0,
    bad: BadRecords | None = None,
    found: BadRecords | None = None,
    progress: bool = True,
):
    """The indices of the records kept and their Predictions (`Run.predict`).

    Bad records go to `bad` in file order, those the reader already `found` among them: under
    "error" the first in the file raises once every record before it has been encoded."""
    from tqdm import tqdm

    bad = bad or BadRecords()
    found = found or BadRecords("skip")
    size = run.batch_size(batch_size)
    total = len(records["id"])
    kept_rows: list[np.ndarray] = []

    def batches() -> Iterator[dict]:
        for start in range(0, total, size):
            chunk = {k: v[start : start + size] for k, v in records.items()}
            encoded, kept = _encode(run.predictor, chunk, lines[start : start + size], path, found)
            checked_to = lines[min(start + size, total) - 1]
            if bad.policy == "error" and any(b.line <= checked_to for b in found.skipped):
                bad.replay(found)
            kept_rows.append(start + kept)
            if encoded is not None:
                yield encoded

    with tqdm(total=total, desc="predict", unit="record", disable=not progress) as bar:
        predictions = run.predict(batches(), size, progress=bar) if total else None
    bad.replay(found)
    if predictions is None or not sum(map(len, kept_rows)):
        raise PgxError(f"{path}: no records left to predict")
    return np.concatenate(kept_rows), predictions


def in_windows(
    records: dict, lines: list[int], field: str, window: int, stride: int
) -> tuple[dict, list[int]]:
    """Each record as its windows of `field` (`lengths.window_starts`), one record per window
    with the record's id and other columns and the window's 0-based `start` and `end`."""
    rows, starts, ends, pieces = [], [], [], []
    for row, sequence in enumerate(text_values(records[field])):
        for start in lengths.window_starts(len(sequence), window, stride or max(window // 2, 1)):
            piece = sequence[start : start + window]
            rows.append(row)
            starts.append(int(start))
            ends.append(int(start) + len(piece))
            pieces.append(piece)
    rows = np.asarray(rows, np.int64)
    windows = {k: v[rows] for k, v in records.items() if k != field}
    windows.update(start=np.asarray(starts), end=np.asarray(ends))
    windows[field] = np.asarray(pieces, dtype=object)
    return windows, [lines[r] for r in rows]


def refuse_longer(
    predictor, records: dict, lines: list[int], path: str, found: BadRecords
) -> tuple[dict, list[int], list[str]]:
    """The records no longer than the model reads, and a line per field on how many are
    padded; each longer record goes to `found` as a bad record (the encoder would cut it)."""
    measured = predictor.input_lengths(records) if predictor.input_lengths else {}
    keep = np.ones(len(records["id"]), bool)
    notes = []
    for field, (found_lengths, limit) in measured.items():
        for row in np.flatnonzero(found_lengths > limit):
            name = str(records["id"][row])
            found.reject(
                path,
                lines[row],
                name,
                f"record {name!r}: {field} has {found_lengths[row]} positions, the model reads "
                f"{limit} (give --window to score it in windows)",
            )
        keep &= found_lengths <= limit
        padded = int(np.sum(found_lengths < limit))
        if padded:
            notes.append(f"{padded} records have a {field} shorter than {limit}: padded")
    kept = np.flatnonzero(keep)
    return {k: v[kept] for k, v in records.items()}, [lines[r] for r in kept], notes


def predict_file(
    run,
    path: str,
    batch_size: int = 0,
    bad: BadRecords | None = None,
    progress: bool = True,
    window: tuple[str, int, int] | None = None,
):
    """The records of an input file that the run scored (their columns; with `window`
    (field, length, stride), one per window) and its Predictions of them."""
    read_bad = BadRecords("skip")
    records, lines = read_records(run, path, read_bad)
    if window:
        records, lines = in_windows(records, lines, *window)
    records, lines, notes = refuse_longer(run.predictor, records, lines, path, read_bad)
    for note in notes:
        print(f"predict: {note}", file=sys.stderr)
    kept, found = predict_records(run, records, lines, path, batch_size, bad, read_bad, progress)
    return {k: v[kept] for k, v in records.items()}, found


def output_columns(
    predictor, records: dict, predictions: np.ndarray, weight: float = 1.0
) -> dict[str, list]:
    """The columns of the output: `id` and any other input column the run does not read (a
    sentence's line and drugs), then the predictions: `prediction` (one output),
    `prediction_<k>` (several) or, for a model with named classes, `call` and one
    probability column per class."""
    extras = [k for k in records if k != "id" and k not in predictor.reads]
    columns = {name: list(records[name]) for name in ("id", *extras)}
    values = np.asarray(predictions, np.float64).reshape(len(predictions), -1)
    if predictor.classes:
        calls = _calls(predictor, records, predictions, weight)
        columns["call"] = [predictor.classes[c] for c in calls]
        columns.update({name: list(values[:, k]) for k, name in enumerate(predictor.classes)})
    elif np.ndim(predictions) == 1:
        columns["prediction"] = list(values[:, 0])
    else:
        columns.update({f"prediction_{k}": list(values[:, k]) for k in range(values.shape[1])})
    return columns


def write_table(columns: dict[str, list], output: str | None) -> None:
    """One row per record; CSV, TSV (`.tsv`), Parquet (`.parquet`) or CSV on standard output.
    Floats are written with 9 significant digits."""
    if output and output.endswith(".parquet"):
        import pandas as pd

        pd.DataFrame(columns).to_parquet(output, index=False)
        return
    delimiter = "\t" if output and output.endswith(".tsv") else ","
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(open(output, "w", newline="")) if output else sys.stdout
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(list(columns))
        for row in zip(*columns.values(), strict=True):
            writer.writerow(f"{v:.9g}" if isinstance(v, float) else v for v in row)


def negative_weight(workdir: str) -> float:
    """The validation-tuned negative-class weight a finished run saved in results.json."""
    path = os.path.join(workdir, "results.json")
    results = {}
    if os.path.isfile(path):
        with open(path) as f:
            results = json.load(f)
    if "test/negative_weight" not in results:
        raise PgxError(
            f"{path}: no test/negative_weight; --tuned needs a finished run trained with "
            "config.eval.tune_negative_weight"
        )
    return float(results["test/negative_weight"])


def _calls(predictor, records: dict, probabilities: np.ndarray, weight: float) -> np.ndarray:
    from pgx_jax.metrics.classification import calls_with_negative_weight

    if predictor.call is not None:
        return predictor.call(records, probabilities, weight)
    return calls_with_negative_weight(probabilities, weight)


def _report_skipped(bad: BadRecords, output: str | None) -> None:
    """The skipped records: a count and the first few on standard error, all in a TSV beside
    the output (or every one on standard error without --output)."""
    if output:
        listing = f"{output}.skipped.tsv"
        bad.write_tsv(listing)
        print(f"predict: {bad.summary(listed_in=listing)}", file=sys.stderr)
    else:
        print(f"predict: {bad.summary(shown=len(bad.skipped))}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """Predict every record of an input file with a finished run."""
    flag_values, _ = parse("predict", argv, _define, with_config=False)
    if flag_values.genome:
        return _predict_genome(flag_values)
    if not flag_values.workdir or not flag_values.input:
        raise PgxError("--workdir and --input (or --genome and --regions) are required")
    from pgx_jax.runs import load_run

    if flag_values.output:
        check_output(flag_values.output, "--output")
    bad = BadRecords("skip" if flag_values.skip_bad else "error", "--skip_bad")
    run = load_run(flag_values.workdir)
    if flag_values.tuned and not run.predictor.classes:
        raise PgxError("--tuned applies to runs with named classes (DDI runs)")
    weight = negative_weight(flag_values.workdir) if flag_values.tuned else 1.0
    window = None
    if flag_values.window or flag_values.stride:
        if flag_values.stride < 0:
            raise PgxError(f"--stride={flag_values.stride}: must be at least 1")
        field, length = lengths.sequence_window(
            run.predictor.input_lengths, flag_values.window, f"the run in {run.workdir}"
        )
        window = (field, length, flag_values.stride)
    records, found = predict_file(
        run, flag_values.input, flag_values.batch_size, bad, window=window
    )
    columns = output_columns(run.predictor, records, found.predictions, weight)
    write_table(columns, flag_values.output)
    if bad.policy == "skip":
        _report_skipped(bad, flag_values.output)
    print(
        f"predict: {len(records['id'])} records scored by the {run.kind} checkpoint "
        f"(step {run.step})",
        file=sys.stderr,
    )
    return 0


def _predict_genome(flag_values: flags.FlagValues) -> int:
    """`--genome FASTA --regions R --output TRACK`: the run's tracks over regions of a genome."""
    from pgx_jax.genome_tracks import predict_regions
    from pgx_jax.runs import load_run

    if not (flag_values.workdir and flag_values.regions and flag_values.output):
        raise PgxError("--genome needs --workdir, --regions and --output (.bedGraph or .bw)")
    check_output(flag_values.output, "--output")
    run = load_run(flag_values.workdir)
    written = predict_regions(
        run,
        flag_values.genome,
        flag_values.regions,
        flag_values.output,
        flag_values.stride,
        flag_values.batch_size,
    )
    print(f"predict: {len(written)} tracks: {', '.join(written)}", file=sys.stderr)
    return 0
