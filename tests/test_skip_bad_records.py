"""Skipping bad records where the config allows it: counted and listed, never dropped silently.

Each case has two bad records among good ones: under "error" (the default) the first stops
the reader with its file, line and record; under "skip" the run or prediction goes on, the
count is 2 and both are listed with their lines.
"""

import csv
import json
import os

import numpy as np
import pytest
from test_dti_train import write_small_kiba

from configs.dti import deepdta
from experiments import dti
from pgx_jax import cli
from pgx_jax.commands.predict import predict_file
from pgx_jax.data.alphabets import DNA
from pgx_jax.data.builders import dti_matrix
from pgx_jax.data.readers import SKIPPED_RECORDS_FILE, BadRecords, read_fasta
from pgx_jax.errors import PgxError
from pgx_jax.runs import load_run
from pgx_jax.train.loop import fit

FASTA = ">a\nACGT\n>b\nACZT\n>c\nGGCC\nAA\n>a\nTTTT\n>d\nCCCC\n"
"""Record b (line 3) has a Z; the second a (line 8) repeats an id."""


def test_fasta_two_bad_records_error_or_skip(tmp_path):
    path = tmp_path / "in.fa"
    path.write_text(FASTA)
    with pytest.raises(PgxError) as caught:
        read_fasta(path, alphabet=DNA)
    assert str(caught.value) == (
        f"FASTA file {path} line 3: sequence 'b' position 3 (1-based): "
        "invalid character 'Z' for DNA"
    )
    bad = BadRecords("skip")
    records = read_fasta(path, alphabet=DNA, bad_records=bad)
    assert [(r.id, r.sequence) for r in records] == [("a", "ACGT"), ("c", "GGCCAA"), ("d", "CCCC")]
    assert [(b.line, b.record) for b in bad.skipped] == [(3, "b"), (8, "a")]
    assert bad.summary(shown=1) == (
        f"skipped 2 bad records: FASTA file {path} line 3: sequence 'b' position 3 (1-based): "
        "invalid "
        "character 'Z' for DNA; and 1 more"
    )
    listing = tmp_path / "skipped.tsv"
    bad.write_tsv(str(listing))
    with open(listing) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [(r["file"], r["line"], r["record"]) for r in rows] == [
        (str(path), "3", "b"),
        (str(path), "8", "a"),
    ]
    assert rows[1]["problem"] == "duplicate id 'a' (first seen on line 1)"


def test_unknown_policy_is_one_line():
    with pytest.raises(PgxError, match=r"config.data.bad_records: unknown policy 'drop'"):
        BadRecords("drop")


def _kiba_with_two_bad_drugs(root) -> tuple[str, int]:
    """The small KIBA-layout set with drugs CID3 and CID9 unparsable, ligands one per line;
    returns the directory and the number of labelled pairs of those two drugs."""
    write_small_kiba(str(root))
    folder = os.path.join(root, "kiba")
    with open(os.path.join(folder, "ligands_can.txt")) as f:
        ligands = json.load(f)
    ligands["CID3"], ligands["CID9"] = "C1CC(", "c1cc"
    with open(os.path.join(folder, "ligands_can.txt"), "w") as f:
        json.dump(ligands, f, indent=1)
    matrix = dti_matrix.read_matrix(folder, log_transform=False)
    labelled = ~np.isnan(matrix.affinity[[3, 9]])
    return folder, int(labelled.sum())


def _small_config(folder: str, policy: str):
    config = deepdta.get_config("kiba")
    config.data.dir = folder
    config.data.bad_records = policy
    config.data.batch_size = 16
    config.data.protein_length = 220
    config.train.num_steps = 6
    config.train.eval_every_steps = 6
    config.model.embed_dim = 8
    config.model.num_filters = 4
    config.model.hidden = (16, 8)
    return config


def test_dti_protein_with_a_residue_outside_the_set_error_or_skip(tmp_path):
    write_small_kiba(str(tmp_path))
    folder = os.path.join(tmp_path, "kiba")
    path = os.path.join(folder, "proteins.txt")
    with open(path) as f:
        proteins = json.load(f)
    proteins["P4"] = "MKJ" + proteins["P4"]
    with open(path, "w") as f:
        json.dump(proteins, f)
    with pytest.raises(PgxError) as caught:
        dti.build(_small_config(folder, "error"))
    assert str(caught.value) == (
        f"{path} line 1: protein 'P4' position 3: character 'J' is not in DeepDTA's character set"
    )
    experiment = dti.build(_small_config(folder, "skip"))
    used = np.concatenate([s.columns["protein_index"] for s in experiment.splits.values()])
    assert 4 not in used and {3, 5} <= set(used.tolist())


@pytest.mark.slow
def test_dti_training_two_bad_drugs_error_or_skip(tmp_path, capsys):
    folder, lost_pairs = _kiba_with_two_bad_drugs(tmp_path)
    ligands = os.path.join(folder, "ligands_can.txt")
    with pytest.raises(PgxError) as caught:
        dti.build(_small_config(folder, "error"))
    assert str(caught.value) == f"{ligands} line 5: drug 'CID3': RDKit cannot parse SMILES 'C1CC('"

    config = _small_config(folder, "skip")
    experiment = dti.build(config)
    printed = capsys.readouterr().out
    assert f"skipped 2 bad records (all in {SKIPPED_RECORDS_FILE}): {ligands} line 5: " in printed
    assert f"{lost_pairs} pairs left out" in printed
    used = np.concatenate([s.columns["drug_index"] for s in experiment.splits.values()])
    assert not np.isin(used, [3, 9]).any()
    workdir = str(tmp_path / "run")
    results = fit(config, experiment, workdir)
    assert results["data/skipped_records"] == 2 and results["data/skipped_pairs"] == lost_pairs
    assert np.isfinite(results["test/mse"])
    with open(os.path.join(workdir, SKIPPED_RECORDS_FILE)) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [(r["file"], r["line"], r["record"]) for r in rows] == [
        (ligands, "5", "CID3"),
        (ligands, "11", "CID9"),
    ]
    assert rows[1]["problem"] == "drug 'CID9': RDKit cannot parse SMILES 'c1cc'"


@pytest.mark.slow
def test_predict_fasta_two_bad_records_error_or_skip(tmp_path):
    """A tiny DeepBind run predicts a FASTA file with a Z in record b and a repeated id."""
    workdir = str(tmp_path / "run")
    status = cli.main(
        ["train", "--config.data.num_examples=300", "--config.data.batch_size=32",
         "--config.train.num_steps=4", f"--workdir={workdir}"]
    )  # fmt: skip
    assert status == 0
    run = load_run(workdir)
    path = tmp_path / "new.fa"
    path.write_text(FASTA.replace("ACGT\n", "ACGT" * 25 + "\n"))
    with pytest.raises(PgxError) as caught:
        predict_file(run, str(path))
    assert str(caught.value) == (
        f"{path} line 3: record 'b': sequence 'b' position 3 (1-based): invalid character 'Z' "
        "for DNA"
    )
    bad = BadRecords("skip")
    records, found = predict_file(run, str(path), bad=bad)
    predictions = found.predictions
    assert list(records["id"]) == ["a", "c", "d"] and predictions.shape == (3,)
    assert [(b.line, b.record) for b in bad.skipped] == [(3, "b"), (8, "a")]
    assert "invalid character 'Z'" in bad.skipped[0].problem
    later = tmp_path / "later.fa"  # the encoder's problem (line 5) precedes the reader's (7)
    later.write_text(">a\nACGT\n>b\nACGT\n>c\nACZT\n>b\nGG\n")
    with pytest.raises(PgxError, match=f"^{later} line 5: record 'c': "):
        predict_file(run, str(later), batch_size=1)
    kept = tmp_path / "kept.fa"
    kept.write_text(">a\n" + "ACGT" * 25 + "\n>c\nGGCC\nAA\n>d\nCCCC\n")
    again = predict_file(run, str(kept))[1].predictions
    np.testing.assert_allclose(again, predictions, rtol=1e-6)


def test_builder_data_sets_refuse_skip_rather_than_ignore_it(tmp_path, capsys):
    """The TFDS builders stop at the first bad record; asking them to skip is an error."""
    code = cli.main(
        [
            "train",
            "--config",
            "configs/binding/deepbind.py",
            "--config.data.bad_records=skip",
            "--config.data.num_examples=200",
            f"--workdir={tmp_path}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "config.data.bad_records='skip'" in err and "synthetic_motif" in err
