"""Every path a command will write is checked when it starts: one line naming the flag and the
path, before any training or scoring (root ignores permission bits here, so the paths lie
under a regular file)."""

import pytest

from pgx_jax import cli


@pytest.fixture
def blocked(tmp_path) -> str:
    """A path no folder can be made at: it lies under a regular file."""
    (tmp_path / "file").write_text("not a folder\n")
    return str(tmp_path / "file" / "sub")


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["train", "--workdir={}"], "--workdir"),
        (["predict", "--workdir=missing", "--input=x.fa", "--output={}/out.csv"], "--output"),
        (
            ["score-variants", "--workdir=w", "--fasta=r.fa", "--vcf=v.vcf", "--output={}/s.tsv"],
            "--output",
        ),
        (["mutagenesis", "--workdir=w", "--fasta=r.fa", "--outdir={}"], "--outdir"),
    ],
)
def test_an_unwritable_output_is_one_line_before_any_work(args, flag, blocked, capsys):
    assert cli.main([a.format(blocked) for a in args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"error: {flag} {blocked}" in err[0]
    assert "cannot write there (Not a directory)" in err[0]


def test_an_unwritable_prepared_data_cache_is_one_line(blocked, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PGX_TFDS_DIR", blocked)
    assert cli.main(["train", "--config.data.num_examples=100", f"--workdir={tmp_path}/w"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"pgx train: error: the prepared-data cache (PGX_TFDS_DIR) {blocked}: cannot write "
        "there (Not a directory)"
    )
