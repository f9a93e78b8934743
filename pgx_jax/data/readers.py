"""Readers for sequence files (FASTA, plain or gzip-compressed), and the bad-record policy.

Readers parse structure; the characters are the encoder's to check (see
`pgx_jax.data.alphabets`), or the reader's when it is given the alphabet.

A bad record (a header without id or sequence, a duplicated id, an invalid character, an
unparsable SMILES) is handed to a `BadRecords`: under "error" (the default) it raises its one
line; under "skip" (`config.data.bad_records = "skip"`, `pgx predict --skip_bad`) the record is
left out and listed, so the run goes on and reports how many records it lost and which. Damage
to a whole file (empty, no header, not UTF-8, truncated gzip) is an error either way.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import os
import zlib
from typing import NamedTuple, TextIO

from pgx_jax.data.alphabets import Alphabet, validate
from pgx_jax.errors import PgxError
from pgx_jax.files import write_atomically

_GZIP_MAGIC = b"\x1f\x8b"
BAD_RECORD_POLICIES = ("error", "skip")
SKIPPED_RECORDS_FILE = "skipped_records.tsv"
"""Where a run lists the records its `bad_records = "skip"` left out (in its workdir)."""


@dataclasses.dataclass(frozen=True)
class BadRecord:
    """A record left out: its file, 1-based line (0 when unknown), id and the problem; `kind`
    names the file's format in the message ("FASTA file")."""

    file: str
    line: int
    record: str
    problem: str
    kind: str = ""

    def message(self) -> str:
        """The one-line error: `[kind ]file[ line N]: problem` (the problem names the record)."""
        where = f"{self.kind} {self.file}" if self.kind else self.file
        line = f" line {self.line}" if self.line else ""
        return f"{where}{line}: {self.problem}"


class BadRecords:
    """What a reader does with a bad record: raise it ("error") or leave it out and list it
    ("skip"). One instance collects the records every reader of a run or command skipped."""

    def __init__(self, policy: str = "error", setting: str = "config.data.bad_records"):
        if policy not in BAD_RECORD_POLICIES:
            raise PgxError(f"{setting}: unknown policy {policy!r}; known: {BAD_RECORD_POLICIES}")
        self.policy = policy
        self.skipped: list[BadRecord] = []

    def reject(self, file: str, line: int, record: str, problem: str, kind: str = "") -> None:
        """Raise PgxError for the record under "error"; list it under "skip"."""
        bad = BadRecord(os.fspath(file), line, record, problem, kind)
        if self.policy == "error":
            raise PgxError(bad.message())
        self.skipped.append(bad)

    def replay(self, found: BadRecords) -> None:
        """Hand the records `found` listed to this policy in file order (the first raises
        under "error")."""
        for bad in sorted(found.skipped, key=lambda b: (b.file, b.line)):
            self.reject(bad.file, bad.line, bad.record, bad.problem, bad.kind)

    def summary(self, shown: int = 3, listed_in: str = "") -> str:
        """One line: how many records were skipped, the first `shown`, where the rest are."""
        if not self.skipped:
            return "skipped 0 bad records"
        first = "; ".join(bad.message() for bad in self.skipped[:shown])
        more = len(self.skipped) - shown
        rest = f"; and {more} more" if more > 0 else ""
        where = f" (all in {listed_in})" if listed_in else ""
        return f"skipped {len(self.skipped)} bad records{where}: {first}{rest}"

    def tsv(self) -> str:
        """Every skipped record as a row `file line record problem` under a header line."""
        text = io.StringIO()
        writer = csv.writer(text, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "line", "record", "problem"])
        writer.writerows((b.file, b.line, b.record, b.problem) for b in self.skipped)
        return text.getvalue()

    def write_tsv(self, path: str) -> None:
        """`tsv()` written to `path` atomically."""
        write_atomically(path, self.tsv())


class FastaRecord(NamedTuple):
    """One FASTA record: id (first header token), full header text, and the sequence."""

    id: str
    description: str
    sequence: str


def open_text(path: str | os.PathLike[str]) -> TextIO:
    """Open a plain or gzip file as UTF-8 text with universal newlines (CRLF -> LF).

    Gzip is detected by its magic bytes, not the file extension. A leading UTF-8 byte order
    mark is dropped.
    """
    if not os.path.isfile(path):
        raise PgxError(f"file not found: {os.fspath(path)}")
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == _GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")


_SKIPPING = ("", "", 0)
"""The header state while the lines of a rejected record are read past."""


def _parse_fasta(
    lines: TextIO, path: str, allow_duplicate_ids: bool, bad: BadRecords
) -> tuple[list[FastaRecord], list[int]]:
    """Parse FASTA lines; the records and the line of each header. Bad records go to `bad`
    (the caller's "skip" list, so they can be reported in file order with the others)."""
    kind = "FASTA file"
    where = f"{kind} {path}"
    records: list[FastaRecord] = []
    header_lines: list[int] = []
    first_line: dict[str, int] = {}
    header: tuple[str, str, int] | None = None
    chunks: list[str] = []

    def finish() -> None:
        if header is None or header is _SKIPPING:
            return
        rec_id, description, line_no = header
        if not chunks:
            bad.reject(path, line_no, rec_id, f"record '{rec_id}' has no sequence", kind)
            return
        records.append(FastaRecord(rec_id, description, "".join(chunks)))
        header_lines.append(line_no)

    for line_no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith(">"):
            finish()
            description = text[1:].strip()
            rec_id = description.split()[0] if description else ""
            header, chunks = (rec_id, description, line_no), []
            if not description:
                bad.reject(path, line_no, "", "header has no id", kind)
                header = _SKIPPING
            elif rec_id in first_line and not allow_duplicate_ids:
                problem = f"duplicate id '{rec_id}' (first seen on line {first_line[rec_id]})"
                bad.reject(path, line_no, rec_id, problem, kind)
                header = _SKIPPING
            else:
                first_line.setdefault(rec_id, line_no)
        elif header is None:
            raise PgxError(f"{where} line {line_no}: sequence data before the first '>' header")
        else:
            chunks.append("".join(text.split()))
    finish()
    if not records and not bad.skipped:
        raise PgxError(f"{where}: empty FASTA file (no records)")
    return records, header_lines


def read_fasta_lines(
    path: str | os.PathLike[str],
    allow_duplicate_ids: bool = False,
    alphabet: Alphabet | None = None,
    bad_records: BadRecords | None = None,
) -> tuple[list[FastaRecord], list[int]]:
    """`read_fasta`, and the 1-based line of each record's header."""
    path = os.fspath(path)
    where = f"FASTA file {path}"
    found = BadRecords("skip")
    try:
        with open_text(path) as fh:
            records, lines = _parse_fasta(fh, path, allow_duplicate_ids, found)
    except UnicodeDecodeError as err:
        raise PgxError(f"{where}: not valid UTF-8 text ({err.reason})") from err
    except (gzip.BadGzipFile, EOFError, OSError, zlib.error) as err:
        raise PgxError(f"{where}: cannot read ({err})") from err
    if alphabet is not None:
        try:
            validate([r.sequence for r in records], alphabet, [r.id for r in records])
        except PgxError:
            kept = []
            for record, line in zip(records, lines, strict=True):
                try:
                    validate([record.sequence], alphabet, [record.id])
                    kept.append((record, line))
                except PgxError as err:
                    found.reject(path, line, record.id, str(err), "FASTA file")
            records, lines = [r for r, _ in kept], [n for _, n in kept]
    (bad_records or BadRecords()).replay(found)
    if not records:
        raise PgxError(f"{where}: no records left after skipping {len(found.skipped)} bad ones")
    return records, lines


def read_fasta(
    path: str | os.PathLike[str],
    allow_duplicate_ids: bool = False,
    alphabet: Alphabet | None = None,
    bad_records: BadRecords | None = None,
) -> list[FastaRecord]:
    """Read all records of a FASTA file (plain or gzip; wrapped lines, CRLF, blank lines).

    Raises PgxError naming the file and line for an empty file, sequence data before any
    header, or a file that is not valid UTF-8 / gzip. A header without id or sequence, a
    duplicated id (unless allowed) and, given `alphabet`, the first character the alphabet
    does not accept (naming record and position) are bad records: an error naming file, line
    and record, or left out and listed in `bad_records` if its policy is "skip".
    """
    return read_fasta_lines(path, allow_duplicate_ids, alphabet, bad_records)[0]
