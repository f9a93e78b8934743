"""A short DDI-2013 training run must beat chance clearly on the held-out test set."""

import csv
import io
import os

import numpy as np
import pytest
from conftest import read_json, run_pgx
from test_ddi_corpus import ddi_directory

from pgx_jax.data.ddi_corpus import CLASSES


@pytest.mark.slow
@pytest.mark.parametrize("members", [1, 2])
def test_short_textcnn_run_scores_on_test(tmp_path, members):
    """One text CNN, and an ensemble of two trained at once (the same checks and
    `pgx predict` on the ensemble's averaged probabilities; the old name `pgx predict-ddi` and
    `--tuned` on the single network). The ensemble trains 40 steps only, to keep CI short: too
    few to ask for an F1 threshold."""
    ddi_directory()
    workdir = str(tmp_path / "run")
    model = "model" if members == 1 else "model.member"
    result = run_pgx(
        [
            "train",
            f"--config=configs/ddi/textcnn.py:seeds=1,members={members}",
            "--config.words.dim=48",
            "--config.words.word2vec_epochs=2",
            f"--config.{model}.num_filters=64",
            f"--config.{model}.window_sizes=(3, 5)",
            "--config.data.max_length=96",
            "--config.data.bucket=96",  # one input shape: one compilation
            "--config.optimizer.schedule=constant",
            "--config.optimizer.learning_rate=0.002",
            f"--config.train.num_steps={300 if members == 1 else 40}",
            f"--config.train.eval_every_steps={300 if members == 1 else 40}",
            f"--workdir={workdir}",
        ]
    )
    assert "ddi: filtered_negative: 7752" in result.stdout
    results = read_json(os.path.join(workdir, "results.json"))
    # Every test pair is scored: 1,563 are called negative by the filter rules, 3 of them
    # true interactions. A model that calls nothing positive has micro F1 0.
    assert results["test/rules_filtered_pairs"] == 1566
    assert results["test/rules_filtered_positives"] == 3
    if members == 1:
        assert results["test/rules_micro_f1"] > 0.3
    # The validation-tuned negative weight: 1 reproduces the plain calls exactly.
    assert 0 < results["test/negative_weight"] <= 1
    if results["test/negative_weight"] == 1:
        assert results["test/tuned_rules_micro_f1"] == results["test/rules_micro_f1"]
    assert os.path.isfile(os.path.join(workdir, "confusion_rules.png"))
    confusion = read_json(os.path.join(workdir, "confusion.json"))
    assert sum(map(sum, confusion["rules"]["confusion"])) == 5716
    sentences = tmp_path / "sentences.txt"
    sentences.write_text(
        "[[Aspirin]] may increase the effect of [[warfarin]] ([[Coumadin]]).\n"
        "No drug is named here.\n"
    )
    out = run_pgx(["predict", f"--workdir={workdir}", f"--input={sentences}"]).stdout
    header, *rows = list(csv.reader(io.StringIO(out)))
    classes = list(CLASSES)
    assert header == ["id", "line", "drug1", "drug2", "filter_rule", "call", *classes]
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("1", "Aspirin", "warfarin"),
        ("1", "Aspirin", "Coumadin"),
        ("1", "warfarin", "Coumadin"),
    ]
    assert rows[2][4:6] == ["abbreviation", "negative"]
    for row in rows:
        assert sum(float(v) for v in row[6:]) == pytest.approx(1.0, abs=1e-3)
    if members == 1:  # the ensemble's calls are read as one network's: two CLI runs fewer
        # The old command name is the same command.
        assert (
            run_pgx(["predict-ddi", f"--workdir={workdir}", f"--input={sentences}"]).stdout == out
        )
        # --tuned calls with the run's validation-tuned negative weight.
        weight = results["test/negative_weight"]
        tuned = run_pgx(["predict", f"--workdir={workdir}", f"--input={sentences}", "--tuned"])
        for row in list(csv.reader(io.StringIO(tuned.stdout)))[1:3]:
            p = np.array([float(v) for v in row[6:]])
            p[0] *= weight
            assert row[5] == classes[int(p.argmax())]
