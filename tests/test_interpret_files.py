"""MEME export, logos and the pictures of saved predictions, without training."""

import os

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import auc, roc_auc_score

from pgx_jax.errors import PgxError
from pgx_jax.interpret import plots
from pgx_jax.interpret.logos import save_logo
from pgx_jax.interpret.meme import format_meme, read_meme, write_meme


def _decodes(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        image.load()
        return image.size


def test_meme_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    motifs = [("filter0", "MA0139.2_CTCF", rng.dirichlet(np.ones(4), 12)),
              ("filter3", "", rng.dirichlet(np.ones(4), 5))]  # fmt: skip
    path = str(tmp_path / "motifs.meme")
    write_meme(path, motifs, sites=[40, 7])
    text = (tmp_path / "motifs.meme").read_text()
    assert text.startswith("MEME version 4\n\nALPHABET= ACGT\n")
    assert "letter-probability matrix: alength= 4 w= 12 nsites= 40 E= 0" in text
    back = read_meme(path)
    assert [(i, n) for i, n, _ in back] == [("filter0", "MA0139.2_CTCF"), ("filter3", "")]
    for (_, _, m), (_, _, b) in zip(motifs, back, strict=True):
        np.testing.assert_allclose(b, m, atol=1e-6)


def test_meme_rejects_bad_matrices_and_files(tmp_path):
    with pytest.raises(PgxError, match=r"motif bad: matrix must be \[W, 4\]"):
        format_meme([("bad", "", np.ones((3, 5)))])
    path = tmp_path / "cut.meme"
    path.write_text(format_meme([("m", "", np.full((4, 4), 0.25))]).rsplit("0.250000", 5)[0] + "\n")
    with pytest.raises(PgxError, match="motif m ends before its 4 matrix rows"):
        read_meme(str(path))


def test_logo_is_a_png(tmp_path):
    pfm = np.full((8, 4), 0.1)
    pfm[np.arange(8), np.arange(8) % 4] = 0.7
    path = str(tmp_path / "logo.png")
    save_logo(pfm, path, "filter 0")
    width, height = _decodes(path)
    assert width > height > 50


def test_roc_points_match_sklearn():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500).astype(float)
    scores = np.round(labels * 0.5 + rng.normal(size=500), 1)  # ties on purpose
    fpr, tpr = plots.roc_points(labels, scores)
    assert auc(fpr, tpr) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    recall, precision = plots.pr_points(labels, scores)
    assert recall[0] == 0 and recall[-1] == 1 and precision[-1] == pytest.approx(labels.mean())


def _save(tmp_path, task, labels, predictions, weights) -> str:
    path = str(tmp_path / "test_predictions.npz")
    np.savez(path, task=task, labels=labels, predictions=predictions, weights=weights)
    return path


@pytest.mark.parametrize(
    "task, files",
    [
        ("binary", {"roc.png", "pr.png", "confusion.png"}),
        ("multiclass", {"roc.png", "pr.png", "confusion.png"}),
        ("multilabel", {"roc.png", "pr.png"}),
        ("regression", {"scatter.png"}),
    ],
)
def test_prediction_pictures(tmp_path, task, files):
    rng = np.random.default_rng(2)
    n = 200
    if task == "binary":
        labels = rng.integers(0, 2, n).astype(np.float32)
        predictions, weights = rng.random(n), np.ones(n)
    elif task == "multiclass":
        labels = rng.integers(0, 3, n)
        predictions, weights = rng.dirichlet(np.ones(3), n), np.ones(n)
    elif task == "multilabel":
        labels = rng.integers(0, 2, (n, 4)).astype(np.float32)
        predictions, weights = rng.random((n, 4)), (rng.random((n, 4)) > 0.2).astype(float)
    else:
        labels = rng.normal(size=n)
        predictions, weights = labels + rng.normal(size=n), np.ones(n)
    written = plots.prediction_pictures(
        _save(tmp_path, task, labels, predictions, weights), str(tmp_path)
    )
    assert {os.path.basename(p) for p in written} == files
    for path in written:
        _decodes(path)


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.parquet"])
def test_write_predictions(tmp_path, name):
    """One row per record: its id, the input columns the model does not read, the outputs."""
    import pandas as pd

    from pgx_jax.commands.predict import output_columns, write_table
    from pgx_jax.experiment import Predictor

    path = str(tmp_path / name)
    values = np.array([[0.1, 0.9], [0.25, 0.75]], np.float32)
    records = {"id": np.array(["a", "b"]), "sequence": np.array(["AC", "GT"]), "line": [3, 7]}
    predictor = Predictor(None, "multilabel", None, ())
    write_table(output_columns(predictor, records, values), path)
    if name.endswith(".parquet"):
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, sep="\t" if name.endswith(".tsv") else ",")
    assert list(frame.columns) == ["id", "line", "prediction_0", "prediction_1"]
    assert frame["id"].tolist() == ["a", "b"] and frame["line"].tolist() == [3, 7]
    np.testing.assert_array_equal(
        frame[["prediction_0", "prediction_1"]].to_numpy(np.float32), values
    )
