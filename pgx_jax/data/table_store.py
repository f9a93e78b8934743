"""Large tables streamed: a table of sequences prepared once to array_record, read batch by batch.

`prepare` reads the file in chunks (`tables.table_chunks`: CSV, TSV, gzipped, Parquet), encodes
each row's sequence to uint8 tokens (the alphabet's lookup table: 1..K letters, K+1 ambiguity
codes, at full length) and its targets, and writes the usable rows in file order to
`records.array_record`, `BLOCK_ROWS` rows a record; beside it, per row of the file, whether it
was kept, its length, its labels and the codes of the columns a split may read (`split`,
`chrom`, a group column), so any split and input length are cut at training time without
reading the file again. Bad rows follow the run's `BadRecords` policy, in line order. The
folder is keyed by the file (path, size, modification time) and the encoding settings, written
under a temporary name and renamed, so a changed file or setting prepares again and an
unchanged one is reused.

`StreamSource` reads a split's rows batch by batch (`take`: the blocks that hold them), the
input padded or cut to the run's length; `encode_tokens` makes them model inputs as the
in-memory encoders do.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import struct

import numpy as np

from pgx_jax.data import alphabets, tables
from pgx_jax.data.readers import BadRecord, BadRecords
from pgx_jax.errors import PgxError
from pgx_jax.experiment import label_column

FORMAT = 3
"""The layout of a prepared folder; a new layout prepares every table again."""
STREAM_BYTES = 512 * 2**20
"""`stream=auto` streams a table of at least this many bytes (a gzipped or Parquet file counts
`COMPRESSED_RATIO` times its size)."""
COMPRESSED_RATIO = 4
RECORDS_FILE, ROWS_FILE, META_FILE = "records.array_record", "rows.npz", "meta.json"
STREAMED_KINDS = ("dna", "rna", "protein")
ALPHABETS = {"dna": alphabets.DNA, "rna": alphabets.RNA, "protein": alphabets.PROTEIN}
_HEADER = struct.Struct("<I")  # a block's rows
BLOCK_ROWS = 128
"""Rows per record. Single-row records (array_record `group_size:1`) were read at 30,000 a
second from a file of 1 million, but at 130 a second from one of 10 million (2026-12-07):
each read call of the reader costs time with the number of records in the file. Blocks of 128
rows keep a 10-million-row file at 78,000 records and a random batch of 64 rows reads 64
blocks (1.9 MB)."""
TAKE_ROWS = 1024
"""Rows `StreamSource.take` reads at a time: the rows of a split lie scattered over the
blocks, so a whole split read at once (a run's saved test ids) would hold every block."""


def streams(setting: str, path: str, names: dict[str, str], alphabet: str = "") -> bool:
    """Whether `config.data.stream` ("auto", "true", "false") streams the table at `path`:
    "auto" streams a CSV/TSV/Parquet table of sequences (`STREAMED_KINDS`, read from its first
    rows as `tables.peek_kind` reads them) of at least `STREAM_BYTES`."""
    setting = str(setting).lower()
    if setting not in ("auto", "true", "false"):
        raise PgxError(f"config.data.stream={setting!r}: expected auto, true or false")
    if setting != "auto" or not path or tables.is_fasta(path):
        return setting == "true"
    compressed = path.lower().endswith((".gz", ".parquet"))
    if os.path.getsize(path) * (COMPRESSED_RATIO if compressed else 1) < STREAM_BYTES:
        return False
    return tables.peek_kind(path, "", names, alphabet) in STREAMED_KINDS


@dataclasses.dataclass(frozen=True)
class Settings:
    """What decides the prepared records: the input, id and target columns, the task's classes,
    and the columns a split may read (by role: split, chrom, group)."""

    kind: str
    column: str
    id_column: str
    targets: tuple[str, ...]
    task: str
    classes: tuple[str, ...]
    factors: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class Factor:
    """A column as codes: `values` (sorted, so codes order as the values do), each row's code,
    and the first line each value appears on."""

    values: np.ndarray
    codes: np.ndarray
    first_lines: np.ndarray


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A prepared table: its folder and, per row of the file, whether it was kept (has a
    record), its input length, its labels [N] or [N, T], and its split columns' codes."""

    directory: str
    keep: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    factors: dict[str, Factor]
    reused: bool


def _identity(path: str) -> list:
    stat = os.stat(path)
    return [os.path.abspath(path), stat.st_size, stat.st_mtime_ns]


def _prefix(path: str) -> str:
    """The start of the folder names of `path`: its name and a hash of its absolute path."""
    name = os.path.basename(path).split(".")[0] or "table"
    return f"{name}-{hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:8]}-"


def key(path: str, settings: Settings) -> str:
    """The folder name of `path` prepared with `settings`: `_prefix` and a hash of the file's
    identity (absolute path, size, modification time), the settings and `FORMAT`."""
    text = json.dumps([_identity(path), FORMAT, dataclasses.asdict(settings)], sort_keys=True)
    return _prefix(path) + hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare(path: str, settings: Settings, cache: str, bad: BadRecords) -> Prepared:
    """The table at `path` prepared in `cache` (reused when prepared before with the same file
    and settings; folders of an earlier version of the file are removed); its skipped rows are
    handed to `bad` (the first raises under "error")."""
    directory = os.path.join(cache, key(path, settings))
    reused = os.path.isfile(os.path.join(directory, META_FILE))
    if not reused:
        temporary = f"{directory}.tmp{os.getpid()}"
        shutil.rmtree(temporary, ignore_errors=True)
        os.makedirs(temporary)
        try:
            _write(path, settings, temporary, BadRecords(bad.policy))
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        try:
            os.replace(temporary, directory)
        except OSError:  # another process renamed its own first
            shutil.rmtree(temporary, ignore_errors=True)
        _remove_stale(path, cache)
    return _open(directory, bad, reused)


def _remove_stale(path: str, cache: str) -> None:
    """Remove the prepared folders of `path` whose file was another version (size or time)."""
    for name in os.listdir(cache):
        meta = os.path.join(cache, name, META_FILE)
        if name.startswith(_prefix(path)) and os.path.isfile(meta):
            with open(meta) as f:
                if json.load(f)["identity"] != _identity(path):
                    shutil.rmtree(os.path.join(cache, name), ignore_errors=True)


def _open(directory: str, bad: BadRecords, reused: bool) -> Prepared:
    with open(os.path.join(directory, META_FILE)) as f:
        meta = json.load(f)
    found = BadRecords("skip")
    found.skipped = [BadRecord(*row) for row in meta["skipped"]]
    bad.replay(found)
    rows = np.load(os.path.join(directory, ROWS_FILE))
    factors = {
        role: Factor(np.array(values, str), rows[f"code_{role}"], rows[f"first_{role}"])
        for role, values in meta["factors"].items()
    }
    return Prepared(directory, rows["keep"], rows["lengths"], rows["labels"], factors, reused)


def _write(path: str, settings: Settings, directory: str, bad: BadRecords) -> None:
    """One pass over the file in chunks: records of the usable rows, the per-row arrays and
    the metadata."""
    from array_record.python.array_record_module import ArrayRecordWriter

    lookup = alphabets._lookup(ALPHABETS[settings.kind])
    task = tables.Task(settings.task, settings.classes)
    parts: dict[str, list] = {"keep": [], "lengths": [], "labels": []}
    seen: dict[str, dict[str, tuple[int, int]]] = {role: {} for role, _ in settings.factors}
    codes: dict[str, list] = {role: [] for role, _ in settings.factors}
    writer = ArrayRecordWriter(os.path.join(directory, RECORDS_FILE), "group_size:1,uncompressed")
    blocks = _Blocks(writer)
    try:
        for chunk in tables.table_chunks(path):
            found = BadRecords("skip")  # handed to `bad` in line order
            labels, weights, keep = tables.encode_targets(chunk, settings.targets, task, found)
            tokens, lengths, valid = _tokens(chunk, settings, lookup, found)
            bad.replay(found)
            keep &= valid
            ids = _ids(chunk, settings.id_column)
            pairs = np.stack([labels, weights], axis=-1).reshape(len(chunk), -1)
            kept = np.flatnonzero(keep)
            blocks.add(
                [ids[row] for row in kept],
                pairs[kept],
                lengths[kept],
                tokens[np.repeat(keep, lengths)],
            )
            parts["keep"].append(keep)
            parts["lengths"].append(lengths.astype(np.int32))
            parts["labels"].append(labels)
            for role, column in settings.factors:
                codes[role].append(_codes(chunk, column, seen[role]))
        blocks.flush(final=True)
    finally:
        writer.close()
    arrays = {name: np.concatenate(values) for name, values in parts.items()}
    factors = {}
    for role, _ in settings.factors:
        values = sorted(seen[role])
        rank = np.empty(len(values), np.int32)
        rank[[seen[role][v][0] for v in values]] = np.arange(len(values))
        arrays[f"code_{role}"] = rank[np.concatenate(codes[role])]
        arrays[f"first_{role}"] = np.array([seen[role][v][1] for v in values], np.int64)
        factors[role] = values
    np.savez(os.path.join(directory, ROWS_FILE), **arrays)
    skipped = [dataclasses.astuple(b) for b in bad.skipped]
    meta = {"identity": _identity(path), "settings": dataclasses.asdict(settings)}
    meta |= {"factors": factors, "skipped": skipped}
    with open(os.path.join(directory, META_FILE), "w") as f:
        json.dump(meta, f)


def _tokens(
    chunk: tables.Table, settings: Settings, lookup: np.ndarray, bad: BadRecords
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row's tokens concatenated (uint8), each row's length, and whether it is usable:
    an empty sequence or a letter outside the alphabet is a bad record (named as the in-memory
    encoder names it)."""
    sequences = chunk.columns[settings.column].tolist()
    lengths = np.fromiter(map(len, sequences), np.int64, len(sequences))
    raw = "".join(sequences).encode("ascii", "replace")
    codes = lookup[np.frombuffer(raw, np.uint8)]
    invalid = np.zeros(len(chunk), bool)
    positions = np.flatnonzero(codes < 0)
    invalid[np.searchsorted(np.cumsum(lengths), positions, side="right")] = True
    ids = _ids(chunk, settings.id_column)
    for row in np.flatnonzero(lengths == 0):
        name = ids[row]
        problem = f"record {name!r}: empty {settings.column!r}"
        tables.reject_row(chunk, row, name, problem, bad)
    for row in np.flatnonzero(invalid):
        name = ids[row]
        try:
            alphabets.validate([sequences[row]], ALPHABETS[settings.kind], [name])
        except PgxError as err:
            tables.reject_row(chunk, row, name, f"record {name!r}: {err}", bad)
    return codes.astype(np.uint8), lengths, (lengths > 0) & ~invalid


def _ids(chunk: tables.Table, column: str) -> list[str]:
    """Each row's record name: its id cell, else 'line N'."""
    cells = chunk.columns[column].tolist() if column in chunk.columns else [""] * len(chunk)
    return [c or f"line {int(line)}" for c, line in zip(cells, chunk.lines, strict=True)]


def _codes(chunk: tables.Table, column: str, seen: dict[str, tuple[int, int]]) -> np.ndarray:
    """Each row's code of `column`, numbering new values in order of appearance (`seen`: value
    -> (code, first line))."""
    values, first, inverse = np.unique(chunk.columns[column], True, True)
    for value, row in zip(values.tolist(), first.tolist(), strict=True):
        seen.setdefault(value, (len(seen), int(chunk.lines[row])))
    return np.array([seen[v][0] for v in values.tolist()], np.int32)[inverse]


class _Blocks:
    """Kept rows gathered into records of `BLOCK_ROWS` rows each (`_block` gives the layout)."""

    def __init__(self, writer):
        self.writer = writer
        self.ids: list[str] = []
        self.pairs, self.lengths, self.tokens = [], [], []

    def add(self, ids: list[str], pairs: np.ndarray, lengths: np.ndarray, tokens: np.ndarray):
        self.ids += ids
        self.pairs.append(pairs.astype(np.float32))
        self.lengths.append(lengths.astype(np.int64))
        self.tokens.append(tokens)
        if len(self.ids) >= BLOCK_ROWS:
            self.flush()

    def flush(self, final: bool = False) -> None:
        """Write every whole block held (and, `final`, the rest as a shorter last block)."""
        pairs, lengths = np.concatenate(self.pairs), np.concatenate(self.lengths)
        tokens, offsets = np.concatenate(self.tokens), np.r_[0, np.cumsum(lengths)]
        whole = len(self.ids) if final else len(self.ids) // BLOCK_ROWS * BLOCK_ROWS
        for start in range(0, whole, BLOCK_ROWS):
            end = min(start + BLOCK_ROWS, whole)
            names = [name.encode() for name in self.ids[start:end]]
            name_offsets = np.r_[0, np.cumsum([len(n) for n in names])].astype(np.int64)
            self.writer.write(
                _HEADER.pack(end - start)
                + pairs[start:end].tobytes()
                + name_offsets.tobytes()
                + (offsets[start : end + 1] - offsets[start]).tobytes()
                + b"".join(names)
                + tokens[offsets[start] : offsets[end]].tobytes()
            )
        self.ids = self.ids[whole:]
        self.pairs, self.lengths = [pairs[whole:]], [lengths[whole:]]
        self.tokens = [tokens[offsets[whole] :]]


def _block(record: bytes, targets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bytes]:
    """A block's (label, weight) pairs [K, 2T] (float32), offsets [2, K + 1] (int64) of its
    ids and tokens, and the ids' bytes followed by the tokens (uint8), the rows one after
    another."""
    (rows,) = _HEADER.unpack_from(record)
    pairs = np.frombuffer(record, np.float32, rows * 2 * targets, _HEADER.size)
    start = _HEADER.size + pairs.nbytes
    offsets = np.frombuffer(record, np.int64, 2 * (rows + 1), start).reshape(2, rows + 1)
    return pairs.reshape(rows, -1), offsets, record[start + offsets.nbytes :]


class StreamSource:
    """Records of a prepared table read batch by batch: `take(indices)` gives ids, tokens
    [B, length] (uint8, padded with 0 or cut), labels and weights."""

    def __init__(self, directory: str, records: np.ndarray, length: int, targets: int):
        from array_record.python.array_record_module import ArrayRecordReader

        # the reader itself: grain's ArrayRecordDataSource starts a thread per read call,
        # 3 ms of a 6-ms batch of 64 rows; and one thread per read: 64 random blocks of a
        # 10-million-row table in 3.0 ms instead of 4.6 ms (2026-12-08, 2-core CPU under load)
        path = os.path.join(directory, RECORDS_FILE)
        self.reader = ArrayRecordReader(path, "readahead_buffer_size:0,max_parallelism:1")
        self.records, self.length, self.targets = records, length, targets

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        return {name: column[0] for name, column in self.take(np.array([index])).items()}

    def take(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        records = self.records[np.asarray(indices)]
        tokens = np.zeros((len(records), self.length), np.uint8)
        pairs = np.empty((len(records), 2 * self.targets), np.float32)
        ids = []
        for start in range(0, len(records), TAKE_ROWS):
            part = slice(start, start + TAKE_ROWS)
            ids += self._read(records[part], tokens[part], pairs[part])
        labels, weights = pairs[:, 0::2], pairs[:, 1::2]
        if self.targets == 1:
            labels, weights = labels[:, 0], weights[:, 0]
        return {"id": np.array(ids), "tokens": tokens, "label": labels, "weight": weights}

    def _read(self, records: np.ndarray, tokens: np.ndarray, pairs: np.ndarray) -> list[str]:
        """Fill `tokens` and `pairs` with the rows `records` from their blocks; their ids."""
        blocks, inverse = np.unique(records // BLOCK_ROWS, return_inverse=True)
        found = [_block(r, self.targets) for r in self.reader.read(blocks.tolist())]
        ids = []
        rows = (records % BLOCK_ROWS).tolist()
        for i, (b, row) in enumerate(zip(inverse.tolist(), rows, strict=True)):
            block_pairs, (names, starts), data = found[b]
            ids.append(data[names[row] : names[row + 1]].decode())
            pairs[i] = block_pairs[row]
            start = names[-1] + starts[row]
            end = min(names[-1] + starts[row + 1], start + self.length)
            tokens[i, : end - start] = np.frombuffer(data, np.uint8, end - start, start)
        return ids


def encode_tokens(records: dict, *, kind: str) -> dict:
    """`StreamSource` records to the inputs the in-memory encoders give: one-hot `x` and `mask`
    for DNA and RNA (ambiguity codes uniform), `tokens` and `mask` for proteins."""
    tokens = np.asarray(records["tokens"])
    mask = tokens != 0
    if kind == "protein":
        inputs = {"tokens": tokens.astype(np.int32), "mask": mask}
    else:
        k = len(ALPHABETS[kind].letters)
        table = np.vstack([np.zeros(k), np.eye(k), np.full(k, 1 / k)]).astype(np.float32)
        inputs = {"x": table[tokens], "mask": mask}
    label = label_column(records)
    return {"inputs": inputs, "label": label, "weight": np.asarray(records["weight"], np.float32)}
