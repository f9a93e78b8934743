"""A trained run stands on its own: with its data out of reach (PGX_DATA_DIR unset, the config's
`data.dir` pointing nowhere, an empty TFDS cache), `pgx predict` gives the scores training gave
its test split, and `pgx score-variants` and `pgx mutagenesis` work on a binding run."""

import csv
import gzip
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, run_pgx
from test_ddi_corpus import ddi_directory
from test_dti_train import write_small_kiba
from test_export import export_round_trip

from pgx_jax.data.ddi_corpus import CLASSES
from pgx_jax.data.sources import take, text_values
from pgx_jax.experiment import build_experiment
from pgx_jax.runs import PREDICTOR_FILE, load_config

pytestmark = pytest.mark.slow


def _test_records(workdir: str) -> dict:
    """The run's test split, read while its data is still at hand."""
    test = build_experiment(load_config(workdir)).splits["test"]
    return take(test, np.arange(len(test)))


def _cut_off(workdir: str, tmp_path) -> dict:
    """The environment of a machine without the run's data: the config's data.dir points
    nowhere, PGX_DATA_DIR is unset and the TFDS cache is an empty directory."""
    path = os.path.join(workdir, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["data"]["dir"] = str(tmp_path / "nowhere")
    with open(path, "w") as f:
        json.dump(config, f)
    env = {k: v for k, v in os.environ.items() if k != "PGX_DATA_DIR"}
    env["PGX_TFDS_DIR"] = str(tmp_path / "empty_tfds")
    return env


def _pgx(args: list[str], env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "pgx_jax.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _saved(workdir: str) -> tuple[list[str] | None, np.ndarray]:
    """The ids (if the records have them) and predictions training saved for its test split."""
    with np.load(os.path.join(workdir, "test_predictions.npz")) as saved:
        ids = saved["ids"].tolist() if "ids" in saved.files else None
        return ids, saved["predictions"]


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_binding_run_predicts_scores_variants_and_explains_without_its_data(tmp_path):
    workdir = str(tmp_path / "binding")
    run_pgx(
        ["train", "--config.data.num_examples=600", "--config.data.batch_size=64",
         "--config.train.num_steps=20", f"--workdir={workdir}"]
    )  # fmt: skip
    assert os.path.isfile(os.path.join(workdir, PREDICTOR_FILE))
    records = _test_records(workdir)
    ids, sequences = text_values(records["id"]), text_values(records["sequence"])
    fasta = tmp_path / "test.fa.gz"
    with gzip.open(fasta, "wt") as f:
        f.writelines(f">{i}\n{s}\n" for i, s in zip(ids, sequences, strict=True))
    contig = "".join(sequences[:3])
    (tmp_path / "ref.fa").write_text(f">chr1\n{contig}\n")
    (tmp_path / "v.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + "".join(
            f"chr1\t{pos}\tv{pos}\t{contig[pos - 1]}\t{'A' if contig[pos - 1] != 'A' else 'C'}"
            "\t.\t.\t.\n"
            for pos in (120, 151)
        )
    )
    env = _cut_off(workdir, tmp_path)

    out = _pgx(["predict", f"--workdir={workdir}", f"--input={fasta}"], env).stdout
    saved_ids, saved = _saved(workdir)
    rows = _rows(out)
    assert [r["id"] for r in rows] == saved_ids == ids
    np.testing.assert_allclose([float(r["prediction"]) for r in rows], saved, rtol=1e-5, atol=1e-6)

    scores = tmp_path / "scores.tsv"
    _pgx(
        ["score-variants", f"--workdir={workdir}", f"--fasta={tmp_path / 'ref.fa'}",
         f"--vcf={tmp_path / 'v.vcf'}", f"--output={scores}"],
        env,
    )  # fmt: skip
    with open(scores) as f:
        scored = list(csv.DictReader(f, delimiter="\t"))
    assert [r["status"] for r in scored] == ["scored", "scored"]
    assert all(0 < float(r["ref_score"]) < 1 for r in scored)

    outdir = tmp_path / "ism"
    _pgx(
        ["mutagenesis", f"--workdir={workdir}", f"--fasta={fasta}", f"--record={ids[0]}",
         f"--outdir={outdir}"],
        env,
    )  # fmt: skip
    with np.load(outdir / f"{ids[0]}.npz") as explained:
        assert explained["ism"].shape == (101, 4)
        assert float(explained["score"]) == pytest.approx(np.log(saved[0] / (1 - saved[0])), 1e-3)


def test_drug_target_run_predicts_without_its_data(tmp_path):
    root = tmp_path / "data"
    write_small_kiba(str(root))
    run_pgx(
        ["train", "--config=configs/dti/deepdta.py:kiba", f"--workdir={tmp_path / 'dti'}",
         f"--config.data.dir={root / 'kiba'}", "--config.data.batch_size=16",
         "--config.data.protein_length=220", "--config.train.num_steps=20",
         "--config.model.embed_dim=8", "--config.model.num_filters=4",
         "--config.model.hidden=(16, 8)", "--config.protocol.choices=(0,)"]
    )  # fmt: skip
    workdir = str(tmp_path / "dti" / "data.fold=0")
    from pgx_jax.data.builders import dti_matrix

    matrix = dti_matrix.read_matrix(str(root / "kiba"), False)
    test = _test_records(workdir)
    table = tmp_path / "pairs.csv"
    with open(table, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "smiles", "protein"])
        for pair, drug, protein in zip(
            test["pair_index"], test["drug_index"], test["protein_index"], strict=True
        ):
            writer.writerow([f"pair{pair}", matrix.smiles[drug], matrix.sequences[protein]])
    env = _cut_off(workdir, tmp_path)

    rows = _rows(_pgx(["predict", f"--workdir={workdir}", f"--input={table}"], env).stdout)
    _, saved = _saved(workdir)
    assert len(rows) == len(saved) and np.std(saved) > 0
    np.testing.assert_allclose([float(r["prediction"]) for r in rows], saved, rtol=1e-5, atol=1e-5)
    records = {
        k: np.array([r[k] for r in _rows(table.read_text())]) for k in ("id", "smiles", "protein")
    }
    export_round_trip(workdir, records, str(tmp_path / "dti"))


def test_drug_drug_interaction_run_predicts_without_its_data(tmp_path):
    """MCCNN's two channels: the frozen one's vectors come from the run's predictor.npz."""
    ddi_directory()
    workdir = str(tmp_path / "ddi")
    run_pgx(
        ["train", "--config=configs/ddi/textcnn.py:seeds=1,mccnn", "--config.words.dim=16",
         "--config.words.word2vec_epochs=1", "--config.model.num_filters=8",
         "--config.model.window_sizes=(3,)", "--config.data.max_length=96",
         "--config.data.bucket=96", "--config.train.num_steps=10",
         "--config.train.eval_every_steps=10", f"--workdir={workdir}"]
    )  # fmt: skip
    assert os.path.isfile(os.path.join(workdir, "predictor.npz"))
    test = _test_records(workdir)
    table = tmp_path / "pairs.tsv"
    with open(table, "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["id", "tokens", "e1_index", "e2_index"])
        writer.writerows(
            zip(
                text_values(test["id"]),
                text_values(test["tokens"]),
                test["e1_index"],
                test["e2_index"],
                strict=True,
            )
        )
    env = _cut_off(workdir, tmp_path)

    rows = _rows(_pgx(["predict", f"--workdir={workdir}", f"--input={table}"], env).stdout)
    saved_ids, saved = _saved(workdir)
    assert [r["id"] for r in rows] == saved_ids
    classes = list(CLASSES)
    predicted = np.array([[float(r[c]) for c in classes] for r in rows])
    np.testing.assert_allclose(predicted, saved, rtol=1e-5, atol=1e-6)
    records = {k: test[k][:40] for k in ("id", "tokens", "e1_index", "e2_index")}
    export_round_trip(workdir, records, str(tmp_path / "ddi"))
