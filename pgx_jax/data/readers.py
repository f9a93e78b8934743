"""Readers for sequence files (FASTA, plain or gzip-compressed).

Readers parse structure; the characters are the encoder's to check (see
`pgx_jax.data.alphabets`), or the reader's when it is given the alphabet.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from typing import NamedTuple, TextIO

from pgx_jax.data.alphabets import Alphabet, validate
from pgx_jax.errors import PgxError

_GZIP_MAGIC = b"\x1f\x8b"


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


def _parse_fasta(lines: TextIO, where: str, allow_duplicate_ids: bool) -> list[FastaRecord]:
    """Parse FASTA lines; `where` names the file in error messages."""
    records: list[FastaRecord] = []
    first_line: dict[str, int] = {}
    header: tuple[str, str, int] | None = None
    chunks: list[str] = []

    def finish() -> None:
        if header is None:
            return
        rec_id, description, line_no = header
        if not chunks:
            raise PgxError(f"{where} line {line_no}: record '{rec_id}' has no sequence")
        records.append(FastaRecord(rec_id, description, "".join(chunks)))

    for line_no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith(">"):
            finish()
            description = text[1:].strip()
            if not description:
                raise PgxError(f"{where} line {line_no}: header has no id")
            rec_id = description.split()[0]
            if rec_id in first_line and not allow_duplicate_ids:
                raise PgxError(
                    f"{where} line {line_no}: duplicate id '{rec_id}' "
                    f"(first seen on line {first_line[rec_id]})"
                )
            first_line.setdefault(rec_id, line_no)
            header, chunks = (rec_id, description, line_no), []
        elif header is None:
            raise PgxError(f"{where} line {line_no}: sequence data before the first '>' header")
        else:
            chunks.append("".join(text.split()))
    finish()
    if not records:
        raise PgxError(f"{where}: empty FASTA file (no records)")
    return records


def read_fasta(
    path: str | os.PathLike[str],
    allow_duplicate_ids: bool = False,
    alphabet: Alphabet | None = None,
) -> list[FastaRecord]:
    """Read all records of a FASTA file (plain or gzip; wrapped lines, CRLF, blank lines).

    Raises PgxError naming the file and line for an empty file, sequence data before any
    header, a header without id or sequence, a duplicated id (unless allowed), or a file
    that is not valid UTF-8 / gzip; given `alphabet`, also naming the file, record and
    position of the first character the alphabet does not accept.
    """
    where = f"FASTA file {os.fspath(path)}"
    try:
        with open_text(path) as fh:
            records = _parse_fasta(fh, where, allow_duplicate_ids)
    except UnicodeDecodeError as err:
        raise PgxError(f"{where}: not valid UTF-8 text ({err.reason})") from err
    except (gzip.BadGzipFile, EOFError, OSError, zlib.error) as err:
        raise PgxError(f"{where}: cannot read ({err})") from err
    if alphabet is not None:
        try:
            validate([r.sequence for r in records], alphabet, [r.id for r in records])
        except PgxError as err:
            raise PgxError(f"{where}: {err}") from None
    return records
