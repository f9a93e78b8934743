"""A user's own data: a table (CSV, TSV, gzipped, Parquet) or FASTA file, read into columns,
with what it holds inferred from the content.

`read_records` gives every row as strings with the line it came from (1-based, counting the
header; "row N" for Parquet) and a `BadRecords` policy for rows that cannot be used.
`input_kind` says which columns the model reads (nucleotide or protein `sequence`, `smiles`,
`smiles` and `protein` pairs, `sentence` with two [[marked]] drugs); `alphabet_of` reads the
alphabet from the sequences; `target_columns` and `task_of` the targets and the task.
The rules, stated once (and in the README's "Your own data"):
- alphabet: DNA (RNA when U outnumbers T) when at least `NUCLEOTIDE_SHARE` of the letters are
  A, C, G, T, U or N, else protein;
- targets: the columns `targets` names, else every other numeric column (numbers in at least
  `NUMERIC_SHARE` of its non-empty cells; the other cells are bad records), except the input,
  id, split and group columns and those named like positions (`NEVER_TARGETS`); without such
  a column, the one other column if it holds at most `MAX_CLASSES` distinct values (class
  names as text);
- task: one target with two distinct values is binary; with 3 to `MAX_CLASSES` distinct values
  that are all integers or not numbers, multi-class; otherwise regression. Several targets:
  multi-label when every one is binary (0/1, empty cells masked), else multi-output
  regression (empty cells masked).
"""

import collections
import dataclasses
import math
import os
import re
from collections.abc import Iterator, Sequence

import numpy as np

from pgx_jax.data.readers import BadRecords, open_text, read_fasta_lines
from pgx_jax.errors import PgxError

TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")
FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".faa", ".fa.gz", ".fasta.gz", ".fna.gz", ".faa.gz")
NEVER_TARGETS = frozenset(
    {"id", "name", "chrom", "chromosome", "chr", "start", "end", "pos", "position", "strand"}
    | {"split", "fold", "group", "line", "index"}
)
"""Column names (lower case) that are never targets unless `targets` names them."""
MAX_CLASSES = 20
"""A target with at most this many distinct integer (or text) values is multi-class."""
KINDS = ("dna", "rna", "protein", "smiles", "pair", "sentence")
NUCLEOTIDE_SHARE = 0.9
"""Sequences whose letters are at least this share A, C, G, T, U or N are DNA or RNA."""
NUMERIC_SHARE = 0.9
"""A column is numeric when at least this share of its non-empty cells are numbers (in a target,
the other cells are bad records)."""
CHUNK_ROWS = 65536
"""Rows per chunk of `table_chunks`."""
_LABEL = re.compile(r"(?:^|\s)label=(\S+)")


@dataclasses.dataclass(frozen=True)
class Table:
    """Columns of strings (every cell as written, "" when empty) and each row's line."""

    path: str
    columns: dict[str, np.ndarray]
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.lines)

    def where(self, row: int) -> str:
        """'FILE line N' (or 'FILE row N' for Parquet) of a row, for error messages."""
        unit = "row" if self.path.endswith(".parquet") else "line"
        return f"{self.path} {unit} {int(self.lines[row])}"

    def subset(self, rows: np.ndarray) -> "Table":
        return Table(self.path, {k: v[rows] for k, v in self.columns.items()}, self.lines[rows])


def read_table(path: str, max_rows: int = 0) -> Table:
    """Every row (or the first `max_rows`) of a CSV, TSV (by suffix, or a tab in the header) or
    Parquet file with a header, cells as strings. PgxError for a missing file, no header, or a
    row with too many cells."""
    chunks = table_chunks(path, max_rows or CHUNK_ROWS)
    if max_rows:
        return next(chunks)
    parts = list(chunks)
    columns = {name: np.concatenate([p.columns[name] for p in parts]) for name in parts[0].columns}
    return Table(path, columns, np.concatenate([p.lines for p in parts]))


def table_chunks(path: str, rows: int = CHUNK_ROWS) -> Iterator[Table]:
    """The rows of a CSV, TSV or Parquet table (as `read_table` reads them) in chunks of `rows`,
    each a Table with its rows' lines; at least one chunk (empty for a table without rows)."""
    if not os.path.isfile(path):
        raise PgxError(f"file not found: {path}")
    if path.endswith(".parquet"):
        yield from _parquet_chunks(path, rows)
        return
    import csv

    with open_text(path) as f:
        header_line = f.readline()
        if not header_line.strip():
            raise PgxError(f"table {path} line 1: no header (the first line names the columns)")
        delimiter = "\t" if "\t" in header_line or ".tsv" in path.lower() else ","
        header = next(csv.reader([header_line], delimiter=delimiter))
        header = [h.strip() for h in header]
        if len(set(header)) != len(header):
            raise PgxError(f"table {path} line 1: a column name appears twice in {header}")
        cells, lines, empty = [], [], True
        reader = csv.reader(f, delimiter=delimiter)
        for row in reader:
            line = reader.line_num + 1
            row = [cell.strip() for cell in row]
            if not any(row):
                continue
            if len(row) > len(header):
                raise PgxError(
                    f"table {path} line {line}: {len(row)} cells for {len(header)} columns"
                )
            cells.append(row + [""] * (len(header) - len(row)))
            lines.append(line)
            if len(cells) == rows:
                yield _chunk(path, header, cells, lines)
                cells, lines, empty = [], [], False
        if cells or empty:
            yield _chunk(path, header, cells, lines)


def _chunk(path: str, header: list[str], cells: list[list[str]], lines: list[int]) -> Table:
    array = np.array(cells, dtype=object).reshape(len(cells), len(header))
    columns = {name: array[:, i].astype(str) for i, name in enumerate(header)}
    return Table(path, columns, np.array(lines, np.int64))


def _parquet_chunks(path: str, rows: int) -> Iterator[Table]:
    import pyarrow.parquet as pq

    start, empty = 1, True
    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
        frame = batch.to_pandas()
        names = [c for c in frame.columns if not str(c).startswith("__index_level_")]
        columns = {str(c): _strings(frame[c].to_numpy()) for c in names}
        yield Table(path, columns, np.arange(start, start + len(frame)))
        start, empty = start + len(frame), False
    if empty:
        schema = pq.read_schema(path)
        yield Table(path, {n: np.array([], str) for n in schema.names}, np.array([], np.int64))


def _strings(values: np.ndarray) -> np.ndarray:
    return np.array(["" if v is None or v != v else str(v) for v in values.tolist()], dtype=str)


def read_fasta_table(
    path: str = "", positives: str = "", negatives: str = "", bad: BadRecords | None = None
) -> Table:
    """FASTA records as a table of `id`, `sequence` and `label`: one file per class
    (`positives`, `negatives`: label 1 and 0) or one file with `label=VALUE` in each header
    (`>id label=1`); a record of such a file without it is a bad record."""
    bad = bad or BadRecords()
    parts = [(positives, "1"), (negatives, "0")] if positives or negatives else [(path, None)]
    ids, sequences, labels, lines = [], [], [], []
    for file, label in parts:
        if not file:
            continue
        found, found_lines = read_fasta_lines(file, bad_records=bad)
        for record, line in zip(found, found_lines, strict=True):
            value = label
            if value is None:
                match = _LABEL.search(record.description)
                if match is None:
                    bad.reject(file, line, record.id, f"record {record.id!r}: no label= in header")
                    continue
                value = match.group(1)
            ids.append(record.id)
            sequences.append(record.sequence)
            labels.append(value)
            lines.append(line)
    if len(set(ids)) != len(ids):
        seen, first = set(), None
        for name in ids:
            if name in seen:
                first = name
                break
            seen.add(name)
        raise PgxError(f"{positives or path}: record id {first!r} appears in more than one file")
    columns = {
        "id": np.array(ids, dtype=str),
        "sequence": np.array(sequences, dtype=str),
        "label": np.array(labels, dtype=str),
    }
    return Table(positives or path, columns, np.array(lines, np.int64))


def is_fasta(path: str) -> bool:
    """A FASTA file by suffix, or by a first character '>'."""
    if path.lower().endswith(FASTA_SUFFIXES):
        return True
    if path.lower().endswith(TABLE_SUFFIXES):
        return False
    with open_text(path) as f:
        return f.read(1) == ">"


def peek_kind(path: str, positives: str, names: dict[str, str], alphabet: str = "") -> str:
    """The input kind of a file from its first records (a config chooses its model by it)."""
    if positives or is_fasta(path):
        sequences = []
        with open_text(positives or path) as f:
            for line in f:
                if not line.startswith(">"):
                    sequences.append(line.strip())
                if len(sequences) >= 1000:
                    break
        return alphabet or alphabet_of(sequences)
    return input_kind(read_table(path, max_rows=1000), names, alphabet).kind


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What the model reads: the input kind and its column names in the table."""

    kind: str
    columns: tuple[str, ...]


def input_kind(table: Table, names: dict[str, str], alphabet: str = "") -> Inputs:
    """The input kind and columns: `names` maps sequence/smiles/protein/sentence to a column
    (default the column of that name); PgxError naming the columns found otherwise."""
    found = {
        role: names.get(role) or role for role in ("sequence", "smiles", "protein", "sentence")
    }
    present = {role: col for role, col in found.items() if col in table.columns}
    for role, col in names.items():
        if col and col not in table.columns:
            raise PgxError(
                f"config.data.{role}_column: {table.path} has no column {col!r}; "
                f"columns: {list(table.columns)}"
            )
    if "smiles" in present and "protein" in present:
        return Inputs("pair", (present["smiles"], present["protein"]))
    if "smiles" in present:
        return Inputs("smiles", (present["smiles"],))
    if "sentence" in present:
        return Inputs("sentence", (present["sentence"],))
    if "sequence" in present:
        column = present["sequence"]
        return Inputs(alphabet or alphabet_of(table.columns[column]), (column,))
    if "protein" in present:
        return Inputs("protein", (present["protein"],))
    raise PgxError(
        f"{table.path}: no input column; expected 'sequence', 'smiles' (with 'protein' for "
        f"pairs) or 'sentence', or one named by config.data.*_column; columns: "
        f"{list(table.columns)}"
    )


def alphabet_of(sequences: Sequence[str]) -> str:
    """'dna', 'rna' or 'protein' from the letters of the sequences: read as nucleotides when A,
    C, G, T, U and N make at least `NUCLEOTIDE_SHARE` of them (the others are invalid letters
    or ambiguity codes for the encoder to judge), as RNA when U outnumbers T; else protein."""
    counts = collections.Counter("".join(sequences[:20000]).upper())
    if sum(counts[c] for c in "ACGTUN") >= NUCLEOTIDE_SHARE * sum(counts.values()):
        return "rna" if counts["U"] > counts["T"] else "dna"
    return "protein"


def target_columns(table: Table, targets: str, excluded: Sequence[str]) -> list[str]:
    """The target columns: `targets` ('a+b') if given, else every numeric column that is not
    excluded or named in NEVER_TARGETS; PgxError if there is none or a name is unknown."""
    if targets:
        names = [t.strip() for t in targets.split("+") if t.strip()]
        unknown = [n for n in names if n not in table.columns]
        if unknown:
            raise PgxError(
                f"config.data.targets: {table.path} has no column(s) {unknown}; "
                f"columns: {list(table.columns)}"
            )
        return names
    skip = {c.lower() for c in excluded} | NEVER_TARGETS
    others = {c: v for c, v in table.columns.items() if c.lower() not in skip}
    names = [c for c, v in others.items() if _numeric(v[v != ""])]
    if not names and len(others) == 1:
        ((name, values),) = others.items()
        names = [name] if len(set(values.tolist()) - {""}) <= MAX_CLASSES else []
    if not names:
        raise PgxError(
            f"{table.path}: no target column; name one or more with targets=a+b "
            f"(columns: {list(table.columns)})"
        )
    return names


def _numeric(values: np.ndarray) -> bool:
    """Whether at least `NUMERIC_SHARE` of `values` (and at least one) are numbers."""
    return bool(len(values)) and len(_numbers(values)) >= NUMERIC_SHARE * len(values)


def _numbers(values: np.ndarray) -> np.ndarray:
    """The values that are finite numbers."""
    return values[np.array([_is_number(v) for v in values.tolist()], bool)]


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


@dataclasses.dataclass(frozen=True)
class Task:
    """The task read from the targets, and for classification the classes in label order."""

    kind: str
    classes: tuple[str, ...] = ()


def task_of(table: Table, targets: Sequence[str], task: str = "") -> Task:
    """The task of the target columns (module docstring), or `task` checked against them."""
    values = [table.columns[t] for t in targets]
    if len(targets) > 1:
        binary = all(set(_numbers(v[v != ""])) <= {"0", "1", "0.0", "1.0"} for v in values)
        found = "multilabel" if binary else "regression"
        if task and task not in ("multilabel", "regression"):
            raise PgxError(f"config.data.task: {task!r} with {len(targets)} targets")
        if not all(_numeric(v[v != ""]) for v in values):
            raise PgxError(f"config.data.task: {task or found} on non-numeric targets {targets}")
        return Task(task or found)
    cells = values[0][values[0] != ""]
    numeric = _numeric(cells)
    distinct = sorted(set((_numbers(cells) if numeric else cells).tolist()), key=_class_order)
    integers = numeric and all(float(v).is_integer() for v in distinct)
    if task == "regression" or (not task and numeric and not integers and len(distinct) > 2):
        if not numeric:
            raise PgxError(f"config.data.task: regression on non-numeric target {targets[0]!r}")
        return Task("regression")
    if not task:
        if len(distinct) == 2:
            task = "binary"
        elif len(distinct) <= MAX_CLASSES and (integers or not numeric):
            task = "multiclass"
        elif numeric:
            return Task("regression")
        else:
            raise PgxError(
                f"{table.path}: target {targets[0]!r} has {len(distinct)} distinct text values; "
                f"at most {MAX_CLASSES} make classes"
            )
    if task not in ("binary", "multiclass"):
        raise PgxError(
            f"config.data.task: {task!r}; expected binary, multiclass, multilabel or regression"
        )
    if task == "binary" and len(distinct) != 2:
        raise PgxError(f"config.data.task=binary: target {targets[0]!r} has values {distinct}")
    return Task(task, tuple(distinct))


def _class_order(value: str) -> tuple:
    """Numbers in numeric order before text in text order (so '0' < '1' < '10')."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def encode_targets(
    table: Table, targets: Sequence[str], task: Task, bad: BadRecords
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, weights, rows kept): class indices [N] for binary and multi-class, floats [N] or
    [N, T] otherwise; weight 0 for an empty cell of several targets; a row whose single target
    is empty, or whose value is not a number where one is needed, is a bad record."""
    keep = np.ones(len(table), bool)
    if task.classes:
        index = {c: i for i, c in enumerate(task.classes)}
        column = table.columns[targets[0]]
        labels = np.zeros(len(table), np.float32)
        for row, value in enumerate(column.tolist()):
            if value not in index:
                _reject(table, row, targets[0], f"value {value!r} is not one of {list(index)}", bad)
                keep[row] = False
            else:
                labels[row] = index[value]
        return labels, np.ones(len(table), np.float32), keep
    labels = np.zeros((len(table), len(targets)), np.float32)
    weights = np.ones((len(table), len(targets)), np.float32)
    for t, name in enumerate(targets):
        for row, value in enumerate(table.columns[name].tolist()):
            if value == "":
                weights[row, t] = 0.0
                continue
            if _is_number(value):
                labels[row, t] = float(value)
            else:
                _reject(table, row, name, f"{value!r} is not a number", bad)
                keep[row] = False
    if len(targets) == 1:
        empty = weights[:, 0] == 0
        for row in np.flatnonzero(empty & keep):
            _reject(table, row, targets[0], "empty target", bad)
        keep &= ~empty
        return labels[:, 0], weights[:, 0], keep
    return labels, weights, keep


def _reject(table: Table, row: int, column: str, problem: str, bad: BadRecords) -> None:
    name = _record_name(table, row)
    reject_row(table, row, name, f"record {name!r} column {column!r}: {problem}", bad)


def reject_row(table: Table, row: int, record: str, problem: str, bad: BadRecords) -> None:
    """Hand a row to `bad` with its line (a Parquet file has none: its row follows the
    problem)."""
    if table.path.endswith(".parquet"):
        bad.reject(table.path, 0, record, f"{problem} (row {int(table.lines[row])})")
    else:
        bad.reject(table.path, int(table.lines[row]), record, problem)


def _record_name(table: Table, row: int) -> str:
    if "id" in table.columns and table.columns["id"][row]:
        return str(table.columns["id"][row])
    return f"line {int(table.lines[row])}"


def sequence_length(lengths: np.ndarray, given: int = 0) -> int:
    """`given`, or the 99th percentile of `lengths` (so a few outliers do not set the input
    length of every record); records longer are cut."""
    if given:
        return int(given)
    if not len(lengths):
        raise PgxError("no records to read a length from")
    return int(np.percentile(lengths, 99, method="higher"))
