"""Tests for the FASTA reader and the text opener."""

import gzip

import pytest

from pgx_jax.data.readers import FastaRecord, open_text, read_fasta
from pgx_jax.errors import PgxError

FASTA = ">seq1 first record\nACGT\nAC\n\n>seq2\nGG\n"


def _write(path, text, compress=False):
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_reads_wrapped_records_with_blank_lines(tmp_path):
    records = read_fasta(_write(tmp_path / "a.fa", FASTA))
    assert records == [
        FastaRecord("seq1", "seq1 first record", "ACGTAC"),
        FastaRecord("seq2", "seq2", "GG"),
    ]
    assert records[0].id == "seq1" and records[1].sequence == "GG"


def test_crlf_and_missing_final_newline(tmp_path):
    path = _write(tmp_path / "win.fa", FASTA.replace("\n", "\r\n").rstrip())
    assert [r.sequence for r in read_fasta(path)] == ["ACGTAC", "GG"]


@pytest.mark.parametrize("name", ["a.fa.gz", "no_extension.fa"])
def test_gzip_detected_by_magic_bytes(tmp_path, name):
    path = _write(tmp_path / name, FASTA, compress=True)
    assert [r.id for r in read_fasta(path)] == ["seq1", "seq2"]


def test_plain_file_with_gz_extension(tmp_path):
    path = _write(tmp_path / "plain.fa.gz", FASTA)
    assert len(read_fasta(path)) == 2


def test_open_text_reads_both(tmp_path):
    for compress in (False, True):
        path = _write(tmp_path / f"t{compress}.txt", "x\r\ny\n", compress=compress)
        with open_text(path) as fh:
            assert fh.read() == "x\ny\n"


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.fa"
    with pytest.raises(PgxError, match="file not found: .*nope.fa"):
        open_text(missing)
    with pytest.raises(PgxError, match="nope.fa"):
        read_fasta(missing)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "empty FASTA file"),
        ("\n\n", "empty FASTA file"),
        ("ACGT\n>s\nAC\n", "line 1: sequence data before the first '>' header"),
        (">a\nAC\n>b\n\n>c\nGG\n", "line 3: record 'b' has no sequence"),
        (">a\nAC\n>b\n", "line 3: record 'b' has no sequence"),
        (">a\nAC\n>\nGG\n", "line 3: header has no id"),
        (">a x\nAC\n>b\nA\n>a y\nGG\n", "line 5: duplicate id 'a' \\(first seen on line 1\\)"),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, pattern):
    path = _write(tmp_path / "bad.fa", text)
    with pytest.raises(PgxError, match=f"bad.fa.*{pattern}"):
        read_fasta(path)


def test_duplicate_ids_allowed(tmp_path):
    path = _write(tmp_path / "dup.fa", ">a\nAC\n>a\nGG\n")
    assert [r.sequence for r in read_fasta(path, allow_duplicate_ids=True)] == ["AC", "GG"]


def test_corrupt_inputs(tmp_path):
    bad_utf8 = tmp_path / "latin.fa"
    bad_utf8.write_bytes(b">a\nAC\xff\n")
    with pytest.raises(PgxError, match="latin.fa.*UTF-8"):
        read_fasta(bad_utf8)
    truncated = tmp_path / "cut.fa.gz"
    truncated.write_bytes(gzip.compress(FASTA.encode() * 50)[:-20])
    with pytest.raises(PgxError, match="cut.fa.gz"):
        read_fasta(truncated)
