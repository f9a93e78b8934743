"""Your own data end to end: `pgx train --config configs/table.py:path=FILE` on a small
generated table, then `pgx predict` on the same file's input columns gives exactly the
predictions the run saved for its test rows (picked by the run's splits.tsv)."""

import csv
import os

import numpy as np
import pytest
from conftest import read_json
from test_tables import dna, protein, scaffold_molecules, write_table

from pgx_jax import cli
from pgx_jax.data.readers import SKIPPED_RECORDS_FILE

pytestmark = pytest.mark.slow


def dna_csv(path, count: int = 300) -> str:
    """`id,sequence,bound,chrom`: 40-bp sequences, bound where GGGCGG is planted; one bad row
    (line 12: an empty sequence) for `bad_records=skip`."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(count):
        sequence, bound = dna(rng, 40), int(rng.random() < 0.5)
        if bound:
            start = int(rng.integers(0, 34))
            sequence = sequence[:start] + "GGGCGG" + sequence[start + 6 :]
        rows.append([f"s{i}", sequence, bound, f"chr{i % 3 + 1}"])
    rows[10][1] = ""
    return write_table(path, ["id", "sequence", "bound", "chrom"], rows)


def proteins_tsv(path, count: int = 240) -> str:
    """`id,sequence,family` with three classes (a lysine, tryptophan or neither stretch)."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(count):
        family = ("plain", "basic", "aromatic")[i % 3]
        chars = protein(rng, 50)
        if family != "plain":
            chars = chars[:20] + ("KKRKKR" if family == "basic" else "WWYWWF") + chars[26:]
        rows.append([f"p{i}", chars, family])
    return write_table(path, ["id", "sequence", "family"], rows, "\t")


def smiles_csv(path, count: int = 200) -> str:
    """`id,smiles,logS`: 100 molecules on 10 scaffolds (each twice), a value by ring and group."""
    rng = np.random.default_rng(2)
    molecules = scaffold_molecules()
    rows = [
        [f"m{i}", molecules[i % 100], f"{i % 100 / 30 + rng.normal(0, 0.1):.3f}"]
        for i in range(count)
    ]
    return write_table(path, ["id", "smiles", "logS"], rows)


def read_rows(path: str, delimiter: str = ",") -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def ids_of_test_rows(workdir: str) -> list[str]:
    """The ids splits.tsv lists as test rows, in file order."""
    listed = read_rows(os.path.join(workdir, "splits.tsv"), "\t")
    return [r["id"] for r in listed if r["split"] == "test"]


def predict(workdir: str, table: str, output: str) -> dict[str, dict]:
    """`pgx predict` on `table`; its rows by id."""
    status = cli.main(
        ["predict", f"--workdir={workdir}", f"--input={table}", f"--output={output}", "--skip_bad"]
    )
    assert status == 0
    return {r["id"]: r for r in read_rows(output)}


@pytest.mark.parametrize(
    ("make", "flags", "kind", "task"),
    [
        (dna_csv, ["--config.data.bad_records=skip"], "dna", "binary"),
        (proteins_tsv, [], "protein", "multiclass"),
        (smiles_csv, [], "smiles", "regression"),
    ],
)
def test_predict_gives_the_runs_saved_test_predictions(tmp_path, make, flags, kind, task):
    """Three input kinds and tasks, 2 epochs each; the DNA table has one bad row, skipped."""
    name = {dna_csv: "d.csv", proteins_tsv: "p.tsv", smiles_csv: "m.csv"}[make]
    table = make(tmp_path / name)
    split = ",split=scaffold" if make is smiles_csv else ""
    status = cli.main(
        [
            "train",
            f"--config=configs/table.py:path={table},epochs=2,batch=32{split}",
            f"--workdir={tmp_path / 'run'}",
            *flags,
        ]
    )
    assert status == 0
    workdir = str(tmp_path / "run")
    with open(os.path.join(workdir, "data_summary.txt")) as f:
        summary = f.read()
    assert f"input: {kind} from column(s)" in summary
    assert f"task: {task}" in summary
    listed = read_rows(os.path.join(workdir, "splits.tsv"), "\t")
    delimiter = "\t" if name.endswith(".tsv") else ","
    source = read_rows(table, delimiter)
    assert [r["id"] for r in listed] == [r["id"] for r in source]
    saved = np.load(os.path.join(workdir, "test_predictions.npz"))
    expected_ids = ids_of_test_rows(workdir)
    assert expected_ids and list(saved["ids"]) == expected_ids
    # predict on the file's input columns (id and what the run reads), every row
    reads = [c for c in source[0] if c in ("sequence", "smiles", "protein")]
    inputs = write_table(
        tmp_path / f"in{os.path.splitext(name)[1]}",
        ["id", *reads],
        [[r["id"], *(r[c] for c in reads)] for r in source],
        delimiter,
    )
    predicted = predict(workdir, inputs, str(tmp_path / "out.csv"))
    if make is dna_csv:
        # the empty sequence (line 12) was skipped by training and by predict
        assert "s10" not in predicted
        assert [r["split"] for r in listed if r["id"] == "s10"] == ["-"]
        skipped = read_rows(os.path.join(workdir, SKIPPED_RECORDS_FILE), "\t")
        assert [(r["line"], r["record"]) for r in skipped] == [("12", "s10")]
    rows = [predicted[i] for i in expected_ids]
    values = saved["predictions"]
    if task == "multiclass":
        classes = ["aromatic", "basic", "plain"]
        got = np.array([[float(r[c]) for c in classes] for r in rows])
        assert [r["call"] for r in rows] == [classes[k] for k in np.argmax(got, 1)]
    else:
        got = np.array([float(r["prediction"]) for r in rows])
    assert got.shape == values.shape and np.std(got) > 0
    np.testing.assert_allclose(got, values, rtol=1e-5, atol=1e-6)


def test_an_ensemble_of_a_named_member_trains_by_configuration(tmp_path):
    """`model=ensemble,member=enhancer_cnn` with the member's fields set on the command line
    (as iEnhancer-2L's ensemble, the table in docs/results.md "Benchmarks as tables")."""
    table = dna_csv(tmp_path / "d.csv", count=120)
    workdir = tmp_path / "run"
    status = cli.main(
        [
            "train",
            f"--config=configs/table.py:path={table},model=ensemble,member=enhancer_cnn,epochs=1",
            "--config.model.kernel_sizes=(5,9)",
            "--config.model.member.num_filters=4",
            "--config.model.member.kmer_sizes=(1,2)",
            "--config.data.bad_records=skip",
            f"--workdir={workdir}",
        ]
    )
    assert status == 0
    model = read_json(os.path.join(workdir, "config.json"))["model"]
    assert model["name"] == "ensemble" and list(model["kernel_sizes"]) == [5, 9]
    assert model["member"]["name"] == "enhancer_cnn" and model["member"]["num_filters"] == 4
    assert "test/auroc" in read_json(os.path.join(workdir, "results.json"))
