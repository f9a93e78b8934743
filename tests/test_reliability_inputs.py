"""Bad input met with one clear line: sequence files and encoders (naming the file, record and
problem) and `pgx train` flags (one `pgx train: error:` line, exit status 1)."""

import numpy as np
import pytest

from pgx_jax import cli
from pgx_jax.data.alphabets import DNA, PROTEIN, one_hot, tokens
from pgx_jax.data.readers import read_fasta
from pgx_jax.errors import PgxError


def _fasta(tmp_path, text: str, name: str = "in.fa"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize(
    ("text", "alphabet", "pattern"),
    [
        (">a\nACGT\n>b\nACXT\n", DNA, "sequence 'b' position 3 .*invalid character 'X' for DNA"),
        (">p\nMKV*\n", PROTEIN, "sequence 'p' position 4 .*invalid character '\\*' for PROTEIN"),
        ("", DNA, "empty FASTA file"),
        ("\n \n", DNA, "empty FASTA file"),
        ("ACGT\nACGT\n", DNA, "line 1: sequence data before the first '>' header"),
        (">a\nAC\n>a\nGT\n", DNA, "line 3: duplicate id 'a' \\(first seen on line 1\\)"),
        (">a\n>b\nAC\n", DNA, "line 1: record 'a' has no sequence"),
        (">\nAC\n", DNA, "line 1: header has no id"),
    ],
)
def test_bad_fasta_names_file_record_and_problem(tmp_path, text, alphabet, pattern):
    path = _fasta(tmp_path, text)
    with pytest.raises(PgxError, match=f"FASTA file .*in.fa.*({pattern})") as caught:
        read_fasta(path, alphabet=alphabet)
    assert "\n" not in str(caught.value)


def test_crlf_and_mixed_case_read_and_encode_like_lf_upper_case(tmp_path):
    unix = read_fasta(_fasta(tmp_path, ">a\nACGTN\nacg\n>b\nTTGA\n", "unix.fa"), alphabet=DNA)
    windows = read_fasta(_fasta(tmp_path, ">a\r\nACgtN\r\nAcg\r\n>b\r\nttGA", "win.fa"))
    assert [r.id for r in windows] == [r.id for r in unix]
    for a, b in zip(unix, windows, strict=True):
        assert a.sequence.upper() == b.sequence.upper()
    x_unix, _ = one_hot([r.sequence for r in unix], DNA, 10)
    x_windows, _ = one_hot([r.sequence for r in windows], DNA, 10)
    np.testing.assert_array_equal(x_unix, x_windows)


def test_sequence_longer_than_the_model_input():
    seqs, names = ["ACGT", "ACGTACGTAC"], ["short", "long"]
    with pytest.raises(PgxError, match="sequence 'long' has length 10, longer than .* input .* 8"):
        one_hot(seqs, DNA, 8, names=names, truncate="error")
    ids, mask = tokens(seqs, DNA, 8, names=names)  # the default keeps the first 8 letters
    assert ids.shape == (2, 8) and mask[1].all()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--config.optimizer.learnin_rate=0.1"], "learnin_rate"),
        (["--config.train.num_steps=abc"], "num_steps=abc"),
        (["--wrokdir=x"], "Unknown command line flag 'wrokdir'"),
        (["--config=configs/nope.py"], "configs/nope.py"),
        (["--config=configs/binding/deepbind.py:motiff=MA0138"], "unknown key 'motiff'"),
        (["--config.experiment=nope"], "no experiment script experiments/nope.py"),
    ],
)
def test_bad_flags_are_one_error_line(tmp_path, capsys, flags, expected):
    assert cli.main(["train", *flags, f"--workdir={tmp_path}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pgx train: error: ") and len(err.splitlines()) == 1
    assert expected in err
