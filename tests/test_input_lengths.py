"""Input lengths: a run reports the records it cuts and pads, `pgx predict` refuses a record
longer than its model reads or scores it in windows, and the commands that explain sequences
refuse what they would cut."""

import csv

import numpy as np
import pytest
from conftest import run_pgx

from pgx_jax import cli
from pgx_jax.commands.predict import predict_file
from pgx_jax.data import lengths
from pgx_jax.data.readers import BadRecords
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.runs import load_run
from pgx_jax.train.checks import length_lines


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A default DeepBind run (101-bp inputs) trained for 4 steps."""
    workdir = str(tmp_path_factory.mktemp("lengths") / "run")
    status = cli.main(
        ["train", "--config.data.num_examples=300", "--config.data.batch_size=32",
         "--config.train.num_steps=4", f"--workdir={workdir}"]
    )  # fmt: skip
    assert status == 0
    return workdir


def _sequence(length: int, seed: int) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), length))


def test_window_starts_cover_every_position_once_at_least():
    assert lengths.window_starts(10, 4, 3).tolist() == [0, 3, 6]
    assert lengths.window_starts(11, 4, 3).tolist() == [0, 3, 6, 7]
    assert lengths.window_starts(3, 4, 2).tolist() == [0]
    assert lengths.window_starts(8, 4, 4).tolist() == [0, 4]


def test_smiles_are_measured_as_the_encoder_reads_them():
    measure = lengths.letters({"smiles": 4, "protein": 0}, smiles=("smiles",))
    found, limit = measure({"smiles": np.array(["OCC", "C(C)C(C)", "C1=CC=CC=C1"])})["smiles"]
    assert found.tolist() == [3, 4, 8] and limit == 4  # CCO, CCCC, c1ccccc1
    assert measure.sequences == ()


def test_training_reports_records_cut_and_padded():
    measure = lengths.letters({"sequence": 5})

    class Predictor:
        input_lengths = measure

    splits = {
        "train": InMemorySource({"sequence": np.array(["ACGTACG", "AC", "ACGTA", "ACGTAA"])}),
        "test": InMemorySource({"sequence": np.array(["ACGTA"])}),
        "pairs": InMemorySource({"drug_index": np.arange(3)}),
    }
    assert length_lines(Predictor, splits) == [
        "train: sequence is read at 5 positions; 2 of 4 records are longer and cut to it, "
        "1 shorter and padded",
        "test: sequence is read at 5 positions; 0 of 1 records are longer and cut to it, "
        "0 shorter and padded",
    ]


def test_a_run_prints_its_length_counts(tmp_path, capsys):
    status = cli.main(
        ["train", "--config.data.num_examples=200", "--config.data.batch_size=32",
         "--config.data.length=60", "--config.train.num_steps=1", f"--workdir={tmp_path}"]
    )  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    assert "train: sequence is read at 60 positions; 0 of " in out


def test_predict_refuses_a_longer_record_or_skips_it(tiny_run, tmp_path):
    run = load_run(tiny_run)
    path = tmp_path / "long.fa"
    path.write_text(f">short\n{_sequence(50, 0)}\n>long\n{_sequence(300, 1)}\n")
    with pytest.raises(PgxError) as caught:
        predict_file(run, str(path))
    assert str(caught.value) == (
        f"{path} line 3: record 'long': sequence has 300 positions, the model reads 101 "
        "(give --window to score it in windows)"
    )
    bad = BadRecords("skip")
    records, found = predict_file(run, str(path), bad=bad)
    assert list(records["id"]) == ["short"] and found.predictions.shape == (1,)
    assert [(b.line, b.record) for b in bad.skipped] == [(3, "long")]


def test_predict_in_windows_scores_each_window_as_its_own_record(tiny_run, tmp_path):
    run = load_run(tiny_run)
    long, short = _sequence(300, 1), _sequence(60, 2)
    path = tmp_path / "long.fa"
    path.write_text(f">long\n{long}\n>short\n{short}\n")
    records, found = predict_file(run, str(path), window=("sequence", 101, 50))
    assert list(records["id"]) == ["long"] * 5 + ["short"]
    assert records["start"].tolist() == [0, 50, 100, 150, 199, 0]
    assert records["end"].tolist() == [101, 151, 201, 251, 300, 60]
    pieces = tmp_path / "pieces.fa"
    pieces.write_text(
        "".join(f">w{s}\n{long[s : s + 101]}\n" for s in (0, 50, 100, 150, 199)) + f">s\n{short}\n"
    )
    alone = predict_file(run, str(pieces))[1].predictions
    np.testing.assert_allclose(found.predictions, alone, rtol=1e-6)


def test_predict_window_flags_write_start_and_end(tiny_run, tmp_path):
    path = tmp_path / "long.fa"
    path.write_text(f">long\n{_sequence(250, 3)}\n")
    output = tmp_path / "out.csv"
    run_pgx(["predict", f"--workdir={tiny_run}", f"--input={path}", f"--output={output}",
             "--window=80", "--stride=100"])  # fmt: skip
    with open(output) as f:
        rows = list(csv.DictReader(f))
    assert [(r["id"], r["start"], r["end"]) for r in rows] == [
        ("long", "0", "80"), ("long", "100", "180"), ("long", "170", "250")
    ]  # fmt: skip
    too_wide = run_pgx(
        ["predict", f"--workdir={tiny_run}", f"--input={path}", "--window=200"], check=False
    )
    assert too_wide.returncode == 1
    last = too_wide.stderr.strip().splitlines()[-1]
    assert last.endswith(
        f"--window=200: must be between 1 and the 101 positions the run in {tiny_run} reads"
    )


def test_explaining_a_longer_record_is_refused(tiny_run, tmp_path):
    path = tmp_path / "long.fa"
    path.write_text(f">long\n{_sequence(150, 4)}\n")
    result = run_pgx(
        ["mutagenesis", f"--workdir={tiny_run}", f"--fasta={path}", f"--outdir={tmp_path}/o"],
        check=False,
    )
    assert result.returncode == 1
    assert "--fasta: record 'long': sequence has 150 positions, the model reads 101" in (
        result.stderr
    )
