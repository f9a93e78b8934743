"""The workbench on a small default run: `pgx motifs` names the planted motif, `pgx predict`
reproduces the run's own test predictions, `pgx report` shows pictures that decode."""

import csv
import gzip
import os

import numpy as np
import pytest
from conftest import run_pgx
from PIL import Image
from test_report import assert_images_render

from pgx_jax.data.sources import take
from pgx_jax.experiment import load_experiment_module
from pgx_jax.interpret.meme import read_meme
from pgx_jax.runs import load_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> str:
    """DeepBind on the planted CTCF motif: 3000 sequences, 300 steps (test AUROC about 0.97)."""
    workdir = str(tmp_path_factory.mktemp("workbench") / "run")
    run_pgx(
        ["train", "--config.data.num_examples=3000", "--config.train.num_steps=300",
         f"--workdir={workdir}"]
    )  # fmt: skip
    return workdir


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_motifs_name_the_planted_motif(run, tmp_path):
    out = str(tmp_path / "motifs")
    run_pgx(["motifs", f"--workdir={run}", f"--output={out}"])
    with open(os.path.join(out, "motif_matches.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    best = {(r["matrix_id"], r["name"]) for r in rows if r["match_rank"] == "1"}
    assert ("MA0139.2", "CTCF") in best
    motifs = read_meme(os.path.join(out, "motifs.meme"))
    assert any(name == "MA0139.2_CTCF" for _, name, _ in motifs)
    logos = os.listdir(os.path.join(out, "logos"))
    assert logos
    for name in logos:
        with Image.open(os.path.join(out, "logos", name)) as image:
            image.verify()


def _write_test_fasta(run: str, path: str) -> None:
    """The run's test split as gzip FASTA, sequences wrapped at 60 columns."""
    config = load_config(run)
    test = load_experiment_module(config.experiment).build(config).splits["test"]
    records = take(test, np.arange(len(test)))
    with gzip.open(path, "wt") as f:
        for name, sequence in zip(records["id"], records["sequence"], strict=True):
            s = _text(sequence)
            f.write(f">{_text(name)} test record\n{s[:60]}\n{s[60:]}\n")


def test_predict_reproduces_the_runs_test_predictions(run, tmp_path):
    fasta, output = str(tmp_path / "test.fa.gz"), str(tmp_path / "out.csv")
    _write_test_fasta(run, fasta)
    result = run_pgx(["predict", f"--workdir={run}", f"--input={fasta}", f"--output={output}"])
    assert "records scored by the best checkpoint" in result.stderr
    with open(output) as f:
        rows = list(csv.DictReader(f))
    saved = np.load(os.path.join(run, "test_predictions.npz"))
    assert [r["id"] for r in rows] == saved["ids"].tolist()
    predicted = np.array([float(r["prediction"]) for r in rows])
    np.testing.assert_allclose(predicted, saved["predictions"], rtol=1e-5, atol=1e-6)


def test_predict_reports_a_bad_record_by_file_and_line(run, tmp_path):
    fasta = tmp_path / "bad.fa"
    fasta.write_text(">a\nACGTACGT\n\n>b\nACGT\nACGTZ\n")
    result = run_pgx(["predict", f"--workdir={run}", f"--input={fasta}"], check=False)
    assert result.returncode == 1
    assert f"{fasta} line 4: record 'b'" in result.stderr
    assert "invalid character 'Z'" in result.stderr


def test_report_of_the_run(run):
    result = run_pgx(["report", f"--workdir={run}"])
    sources = assert_images_render(result.stdout.strip())
    assert {"training_curves.png", "roc.png", "pr.png", "confusion.png"} <= set(sources)


ETS_FAMILY = ("GABP", "ELK", "ETS", "ETV", "ELF", "ERG", "FLI1", "FEV", "EHF", "SPI")


def test_motifs_of_gabpa_chipseq_match_an_ets_factor(tmp_path):
    """DeepBind on ENCODE GABPA ChIP-seq (400 steps): a top filter matches an ETS motif best."""
    data = os.path.join(os.environ["PGX_DATA_DIR"], "deepbind_encode_chipseq")
    if not os.path.isdir(data):
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data missing under CI: {data}")
        pytest.skip(f"shared data missing: {data}")
    workdir = str(tmp_path / "gabpa")
    run_pgx(
        ["train", "--config=configs/binding/deepbind.py:tf=GABPA",
         "--config.train.num_steps=400", f"--workdir={workdir}"]
    )  # fmt: skip
    run_pgx(["motifs", f"--workdir={workdir}"])
    with open(os.path.join(workdir, "motif_matches.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    best = [r["name"] for r in rows if r["match_rank"] == "1" and int(r["filter_rank"]) <= 4]
    assert any(name.upper().startswith(ETS_FAMILY) for name in best), best
