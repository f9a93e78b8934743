"""VCF records (pysam) with their file line, and the reference FASTA (pyfaidx) they refer to.

pysam names no line when htslib rejects a record; `read_vcf` counts header and record lines
itself, so a malformed record becomes one PgxError naming the file, line and record number.
"""

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import NamedTuple

from pgx_jax.errors import PgxError
from pgx_jax.variants.windows import Fetch


class VcfRecord(NamedTuple):
    """One VCF data line: 1-based POS, REF, the ALT alleles and where it is in the file."""

    chrom: str
    pos: int
    id: str
    ref: str
    alts: tuple[str, ...]
    line: int
    index: int


def open_vcf(path: str):
    """A `pysam.VariantFile` for reading, with htslib's own warnings silenced."""
    import pysam

    if not os.path.isfile(path):
        raise PgxError(f"file not found: {path}")
    pysam.set_verbosity(0)
    try:
        return pysam.VariantFile(path)
    except NotImplementedError:
        raise PgxError(
            f"{path}: gzip-compressed but not bgzip, which htslib cannot read; recompress it "
            "with `bgzip` or give the plain VCF"
        ) from None
    except (ValueError, OSError) as err:
        raise PgxError(f"{path}: not a readable VCF ({err})") from None


def _diagnosis(path: str, line: int) -> str:
    """What is wrong with the text of VCF record `line` (htslib says only "truncated file"
    for a non-numeric POS): too few columns, or a POS that is not a positive number; "" if
    neither."""
    from pgx_jax.data.readers import open_text

    with open_text(path) as f:
        text = next((t for n, t in enumerate(f, 1) if n == line), "")
    columns = text.rstrip("\n").split("\t")
    if len(columns) < 8:
        return f"{len(columns)} tab-separated columns, a record needs 8 (CHROM to INFO)"
    if not columns[1].isdigit() or int(columns[1]) < 1:
        return f"POS {columns[1]!r} is not a positive whole number"
    return ""


def read_vcf(path: str) -> Iterator[VcfRecord]:
    """The records of a VCF (plain or bgzip/gzip), in file order.

    A record htslib cannot parse (a non-numeric POS, missing columns) raises PgxError with
    the file, the line (header lines plus records before it, blank lines not counted) and
    the record number.
    """
    first_line = _header_lines(path) + 1
    with open_vcf(path) as vcf:
        records = iter(vcf)
        index = 0
        while True:
            line = first_line + index
            try:
                record = next(records)
            except StopIteration:
                return
            except (OSError, ValueError) as err:
                raise PgxError(
                    f"{path} line {line} (record {index + 1}): malformed VCF record "
                    f"({_diagnosis(path, line) or err})"
                ) from None
            if record.ref is None:
                raise PgxError(f"{path} line {line} (record {index + 1}): record has no REF")
            yield VcfRecord(
                record.chrom,
                record.pos,
                record.id or ".",
                record.ref,
                tuple(record.alts or (".",)),  # ALT `.`: no variant, listed as symbolic
                line,
                index,
            )
            index += 1


def _header_lines(path: str) -> int:
    """The number of `#` lines that open the file (pysam's header adds lines of its own)."""
    from pgx_jax.data.readers import open_text

    count = 0
    with open_text(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            count += 1
    return count


def _directory_writable(directory: str) -> bool:
    """Whether a file may be created in `directory`: permission bits as well as access(),
    since root passes access() on a directory marked read-only."""
    mode = os.stat(directory).st_mode
    return os.access(directory, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP))


class Reference:
    """A reference FASTA indexed with pyfaidx: contig lengths and `Fetch`es over contigs.

    The `.fai` index is read from next to the FASTA when there is one, written there when the
    directory is writable, and otherwise built in a temporary directory (said on stderr) so a
    read-only data directory is never written to.
    """

    def __init__(self, path: str):
        import pyfaidx

        if not os.path.isfile(path):
            raise PgxError(f"file not found: {path}")
        self.path = path
        self._tmpdir = None
        index = path + ".fai"
        if not os.path.isfile(index) and not _directory_writable(os.path.dirname(path) or "."):
            self._tmpdir = tempfile.mkdtemp(prefix="pgx_fai_")
            index = os.path.join(self._tmpdir, os.path.basename(path) + ".fai")
            print(
                f"{path}: directory is read-only; FASTA index built in {self._tmpdir}",
                file=sys.stderr,
            )
        try:
            self._fasta = pyfaidx.Fasta(
                path, indexname=index, as_raw=True, sequence_always_upper=True
            )
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat) as err:
            self.close()
            raise PgxError(f"{path}: cannot index the FASTA ({err})") from None
        self.lengths = {name: len(record) for name, record in self._fasta.records.items()}

    def fetch(self, contig: str) -> Fetch | None:
        """A `Fetch` over `contig` (N outside it), or None if the FASTA has no such contig."""
        if contig not in self.lengths:
            return None
        length, record = self.lengths[contig], self._fasta[contig]

        def fetch(start: int, end: int) -> str:
            left = "N" * max(0, -start)
            lo, hi = max(start, 0), max(min(end, length), 0)
            middle = str(record[lo:hi]) if hi > lo else ""
            right = "N" * max(0, end - max(length, start))
            return left + middle + right

        return fetch

    def close(self) -> None:
        """Close the FASTA and remove a temporary index."""
        if getattr(self, "_fasta", None) is not None:
            self._fasta.close()
            self._fasta = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> "Reference":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
