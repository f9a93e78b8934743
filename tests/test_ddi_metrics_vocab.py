"""Micro P/R/F1 over positive classes against scikit-learn; vocabulary and word2vec files."""

import numpy as np
import pytest
from sklearn import metrics as skm

from experiments.ddi import per_class_report
from pgx_jax.data import vocab
from pgx_jax.errors import PgxError
from pgx_jax.metrics import METRICS, compute_metrics
from pgx_jax.metrics.classification import (
    calls_with_negative_weight,
    micro_f1,
    negative_weight_for_micro_f1,
)


@pytest.mark.parametrize("seed", range(5))
def test_micro_scores_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    truth = rng.choice(5, size=400, p=[0.7, 0.1, 0.1, 0.06, 0.04])
    scores = rng.dirichlet(np.ones(5), size=400)
    scores[np.arange(400), truth] += rng.uniform(0, 0.6, size=400)  # mildly informative
    pred = scores.argmax(axis=1)
    p, r, f, _ = skm.precision_recall_fscore_support(
        truth, pred, labels=[1, 2, 3, 4], average="micro", zero_division=0
    )
    ours = compute_metrics(["micro_precision", "micro_recall", "micro_f1"], truth, scores)
    assert ours == pytest.approx({"micro_precision": p, "micro_recall": r, "micro_f1": f})
    report = per_class_report(truth, pred)
    per_class = skm.precision_recall_fscore_support(
        truth, pred, labels=[1, 2, 3, 4], zero_division=0
    )
    for c, name in enumerate(("mechanism", "effect", "advise", "int")):
        assert report["scores"][f"{name}_f1"] == pytest.approx(per_class[2][c])
        assert report["scores"][f"{name}_precision"] == pytest.approx(per_class[0][c])
    assert np.array_equal(report["confusion"], skm.confusion_matrix(truth, pred, labels=range(5)))


def test_negative_weight_tuned_for_micro_f1_has_the_known_answer():
    # Positives whose class-1 probability is 0.28 against 0.6 for "no relation" are recovered
    # once the negative probability is weighted by less than 0.467; true negatives sit at 0.9.
    truth = np.array([1] * 10 + [0] * 30)
    probabilities = np.zeros((40, 5))
    probabilities[:10, :2] = [0.6, 0.28]
    probabilities[10:, :2] = [0.9, 0.1]
    weights = np.linspace(0.05, 1.0, 20)
    assert micro_f1(truth, probabilities.argmax(1), [1, 2, 3, 4])["f1"] == 0
    weight = negative_weight_for_micro_f1(truth, probabilities, weights)
    assert weight == pytest.approx(0.45)  # the largest grid weight with 0.6 w < 0.28
    calls = calls_with_negative_weight(probabilities, weight)
    assert micro_f1(truth, calls, [1, 2, 3, 4])["f1"] == 1.0
    # Where the plain argmax is already best, the weight stays 1.
    confident = np.where(truth[:, None] == np.arange(5), 0.8, 0.05)
    assert negative_weight_for_micro_f1(truth, confident, weights) == 1.0


def test_micro_scores_are_registered_and_need_class_scores():
    assert {"micro_precision", "micro_recall", "micro_f1"} <= set(METRICS)
    with pytest.raises(ValueError, match=r"\[N, C\]"):
        METRICS["micro_f1"](np.array([0, 1]), np.array([0.2, 0.9]))


def test_vocabulary_from_training_sentences_only():
    train = [["DRUG1", "inhibits", "DRUG2"], ["DRUG1", "and", "DRUG2", "inhibits"]]
    v = vocab.Vocabulary.build(train)
    assert v.words[:2] == [vocab.PAD, vocab.UNK]
    assert v.words[2:] == ["DRUG1", "DRUG2", "inhibits", "and"]
    assert v.ids(["DRUG1", "potentiates"]) == [2, 1]  # a word never seen in training: unknown
    assert vocab.Vocabulary.build(train, min_count=2).words[2:] == ["DRUG1", "DRUG2", "inhibits"]


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_round_trip(tmp_path, binary):
    rng = np.random.default_rng(0)
    vectors = {w: rng.normal(size=4).astype(np.float32) for w in ("warfarin", "é-drug", "NUM")}
    path = str(tmp_path / "vectors.bin")
    vocab.write_word2vec(path, vectors, binary=binary)
    read = vocab.read_word2vec(path)
    assert list(read) == list(vectors)
    for word, vector in vectors.items():
        np.testing.assert_allclose(read[word], vector, atol=1e-6)
    v = vocab.Vocabulary(["warfarin", "aspirin"])
    matrix, found = vocab.embedding_matrix(v, read, 4, seed=0)
    assert found == 1 and np.all(matrix[0] == 0)
    np.testing.assert_allclose(matrix[2], vectors["warfarin"], atol=1e-6)


def test_word2vec_errors_name_file_and_line(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("2 3\nwarfarin 0.1 0.2 0.3\naspirin 0.1 0.2\n")
    with pytest.raises(PgxError, match=r"short\.txt: line 3: 2 values, expected 3"):
        vocab.read_word2vec(str(path))
    path.write_text("warfarin 0.1 0.2 0.3\n")
    with pytest.raises(PgxError, match=r"short\.txt: line 1: expected a word2vec header"):
        vocab.read_word2vec(str(path))


def test_corpus_word2vec_is_repeatable():
    sentences = [["DRUG1", "increases", "DRUG2", "levels"]] * 20
    a = vocab.train_word2vec(sentences, dim=8, seed=3, epochs=2)
    b = vocab.train_word2vec(sentences, dim=8, seed=3, epochs=2)
    assert set(a) == {"DRUG1", "increases", "DRUG2", "levels"}
    np.testing.assert_array_equal(a["levels"], b["levels"])
