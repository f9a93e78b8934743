"""`pgx predict` on a drug-target run: a CSV of (id, smiles, protein) rows is tokenised as
training tokenises (RDKit canonical SMILES, the run's lengths) and scored like the run's own
test evaluation; bad rows are named by line, or skipped, counted and listed."""

import csv
import os

import numpy as np
import pytest
from conftest import run_pgx
from test_dti_train import write_small_kiba

from pgx_jax import cli
from pgx_jax.commands.predict import predict_file
from pgx_jax.data.builders import dti_matrix
from pgx_jax.data.readers import BadRecords
from pgx_jax.errors import PgxError
from pgx_jax.experiment import load_experiment_module
from pgx_jax.runs import load_config, load_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> str:
    """DeepDTA on a small KIBA-layout set (24 drugs x 30 proteins), 40 steps, in process."""
    root = tmp_path_factory.mktemp("dti_predict")
    write_small_kiba(str(root))
    workdir = root / "run"
    status = cli.main(
        [
            "train",
            "--config=configs/dti/deepdta.py:kiba",
            f"--workdir={workdir}",
            f"--config.data.dir={root / 'kiba'}",
            "--config.data.batch_size=16",
            "--config.data.protein_length=220",
            "--config.train.num_steps=40",
            "--config.train.eval_every_steps=20",
            "--config.model.embed_dim=8",
            "--config.model.num_filters=4",
            "--config.model.hidden=(16, 8)",
            "--config.protocol.choices=(0,)",
        ]
    )
    assert status == 0
    return str(workdir / "data.fold=0")


@pytest.fixture(scope="module")
def restored(run):
    return load_run(run)


def _test_pairs(run: str) -> list[dict]:
    """The run's test pairs in its evaluation order, SMILES as written in the data set (not
    canonical) and every other protein in lower case."""
    config = load_config(run)
    test = load_experiment_module("dti").build(config).splits["test"].columns
    matrix = dti_matrix.read_matrix(config.data.dir, config.data.log_transform)
    rows = []
    for n, (drug, protein, pair) in enumerate(
        zip(test["drug_index"], test["protein_index"], test["pair_index"], strict=True)
    ):
        sequence = matrix.sequences[protein]
        rows.append(
            {
                "id": f"pair{pair}",
                "smiles": matrix.smiles[drug],
                "protein": sequence.lower() if n % 2 else sequence,
            }
        )
    return rows


def _with_bad_rows(good: list[dict]) -> list[dict]:
    """`good` with three bad rows after its first, third and fourth (lines 3, 6 and 8)."""
    return [
        good[0],
        {**good[1], "id": "bad_smiles", "smiles": "C1CC("},  # line 3: RDKit cannot parse it
        *good[1:3],
        {**good[3], "id": "bad_residue", "protein": "MKVJJ"},  # line 6: J is no residue
        good[3],
        {"id": "no_protein", "smiles": good[0]["smiles"], "protein": ""},  # line 8
        *good[4:],
    ]


def _write_csv(path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["id", "smiles", "protein"])
        writer.writeheader()
        writer.writerows(rows)


def test_predict_reproduces_the_runs_test_predictions_and_lists_skipped_rows(run, tmp_path):
    """Through the `pgx` command: the test pairs among three bad rows, with --skip_bad."""
    good = _test_pairs(run)
    assert any(r["smiles"] != r["smiles"].upper() for r in good)  # aromatic: canonicalised
    table, output = tmp_path / "pairs.csv", tmp_path / "out.csv"
    _write_csv(table, _with_bad_rows(good))
    result = run_pgx(
        ["predict", f"--workdir={run}", f"--input={table}", f"--output={output}",
         "--batch_size=7", "--skip_bad"]
    )  # fmt: skip
    assert f"{len(good)} records scored by the" in result.stderr
    assert f"skipped 3 bad records (all in {output}.skipped.tsv)" in result.stderr
    with open(output) as f:
        rows = list(csv.DictReader(f))
    saved = np.load(os.path.join(run, "test_predictions.npz"))
    assert [r["id"] for r in rows] == [r["id"] for r in good]
    predicted = np.array([float(r["prediction"]) for r in rows])
    assert predicted.shape == saved["predictions"].shape and np.std(predicted) > 0
    np.testing.assert_allclose(predicted, saved["predictions"], rtol=1e-5, atol=1e-5)
    with open(f"{output}.skipped.tsv") as f:
        listed = list(csv.DictReader(f, delimiter="\t"))
    assert [(r["file"], r["line"], r["record"]) for r in listed] == [
        (str(table), "3", "bad_smiles"),
        (str(table), "6", "bad_residue"),
        (str(table), "8", "no_protein"),
    ]
    assert "RDKit cannot parse SMILES 'C1CC('" in listed[0]["problem"]
    assert "position 4: character 'J'" in listed[1]["problem"]
    assert "missing field 'protein'" in listed[2]["problem"]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"smiles": "C1CC("}, "line 2: record 'x': drug 'x': RDKit cannot parse SMILES 'C1CC\\('"),
        ({"smiles": "[Xe]"}, "line 2: record 'x': drug 'x' position 2: character 'X' is not"),
        ({"protein": "MKV*"}, "line 2: record 'x': protein 'x' position 4: character '\\*'"),
        ({"smiles": " "}, "line 2: record 'x': missing field 'smiles'"),
    ],
)
def test_a_bad_row_is_one_error_naming_file_line_and_record(restored, tmp_path, row, expected):
    table = tmp_path / "in.csv"
    _write_csv(table, [{"id": "x", "smiles": "CCO", "protein": "MKVLA", **row}])
    with pytest.raises(PgxError, match=f"^{table} {expected}") as caught:
        predict_file(restored, str(table), bad=BadRecords())
    assert "\n" not in str(caught.value)


def test_a_header_without_the_columns_and_fasta_input_are_refused(restored, tmp_path):
    table = tmp_path / "in.csv"
    table.write_text("name,smiles\nx,CCO\n")
    with pytest.raises(PgxError, match=r"in\.csv line 1: header \['name', 'smiles'\] lacks"):
        predict_file(restored, str(table))
    fasta = tmp_path / "in.fa"
    fasta.write_text(">a\nMKV\n")
    with pytest.raises(PgxError, match=r"in\.fa: the 'dti' run in .* predicts from a CSV or TSV"):
        predict_file(restored, str(fasta))
