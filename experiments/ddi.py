"""Drug-drug interaction extraction (DDI-2013): text CNN (Liu 2016) and MCCNN (Quan 2016).

Each record is one drug pair of a sentence, blinded and tokenised by the builder; here the
vocabulary (training data only), word vectors, the validation cut (10% of training
documents), the Liu et al. negative filtering of training pairs and the model are put together.
The test set is never filtered: `after_fit` scores it as the model predicts every pair and as
the papers did (pairs a filter rule matches are called negative), with per-class figures and
a confusion matrix (`confusion.json`, `confusion_rules.png`; the loop's own `confusion.png`
shows the model's calls on every pair).
"""

import functools
import json
import os
from collections import Counter
from collections.abc import Mapping

import flax.linen as nn
import jax
import ml_collections
import numpy as np

from pgx_jax.data import sampling
from pgx_jax.data import vocab as vocab_lib
from pgx_jax.data.builders import ddi2013
from pgx_jax.data.ddi_corpus import CLASSES, DRUG1, DRUG2, DRUG_OTHER
from pgx_jax.data.sources import InMemorySource, text_values
from pgx_jax.data.splits import subset
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Finished, Predictor, label_column
from pgx_jax.interpret import plots
from pgx_jax.metrics.classification import (
    calls_with_negative_weight,
    micro_f1,
    negative_weight_for_micro_f1,
)
from pgx_jax.models import create_model


def document_of(pair_id: str) -> str:
    """'DDI-DrugBank.d610.s0.p5' -> 'DDI-DrugBank.d610'."""
    return pair_id.rsplit(".", 2)[0]


def relative_positions(length: int, index: int, max_distance: int) -> np.ndarray:
    """Distance of every token to `index`, clipped to +-max_distance, shifted to 1..2m+1."""
    return np.clip(np.arange(length) - index, -max_distance, max_distance) + max_distance + 1


def crop_window(num_tokens: int, e1: int, e2: int, max_length: int) -> int:
    """Start of a `max_length` window over the tokens that keeps both targets if it can."""
    if num_tokens <= max_length:
        return 0
    centre = (e1 + e2) // 2
    return int(np.clip(centre - max_length // 2, 0, num_tokens - max_length))


def encode_pairs(
    records: dict,
    *,
    vocabulary: vocab_lib.Vocabulary,
    max_length: int,
    bucket: int,
    max_distance: int,
) -> dict:
    """Token ids, relative positions and mask, padded to a multiple of `bucket` tokens."""
    sentences = [t.split(" ") for t in text_values(records["tokens"])]
    longest = min(max(len(s) for s in sentences), max_length)
    length = min(-(-longest // bucket) * bucket, max_length)
    rows = len(sentences)
    tokens = np.zeros((rows, length), np.int32)
    pos1 = np.zeros((rows, length), np.int32)
    pos2 = np.zeros((rows, length), np.int32)
    mask = np.zeros((rows, length), bool)
    for r, words in enumerate(sentences):
        e1, e2 = int(records["e1_index"][r]), int(records["e2_index"][r])
        start = crop_window(len(words), e1, e2, max_length)
        words = words[start : start + length]
        n = len(words)
        tokens[r, :n] = vocabulary.ids(words)
        pos1[r, :n] = relative_positions(n, e1 - start, max_distance)
        pos2[r, :n] = relative_positions(n, e2 - start, max_distance)
        mask[r, :n] = True
    return {
        "inputs": {"tokens": tokens, "pos1": pos1, "pos2": pos2, "mask": mask},
        "label": label_column(records, dtype=np.int32),
        "weight": np.ones(rows, np.float32),
    }


def sentence_lengths(source: InMemorySource) -> np.ndarray:
    """Tokens per sentence of every record (their training order groups similar lengths)."""
    return np.array(
        [t.count(b" " if isinstance(t, bytes) else " ") + 1 for t in source.columns["tokens"]]
    )


def split_training(
    train: InMemorySource, fraction: float, seed: int, filter_negatives: bool
) -> tuple[InMemorySource, InMemorySource, dict]:
    """Hold out `fraction` of training documents for validation; drop filtered pairs."""
    documents = np.array([document_of(i) for i in text_values(train.columns["id"])])
    unique = np.unique(documents)
    rng = np.random.default_rng(seed)
    held = set(rng.permutation(unique)[: int(round(fraction * len(unique)))])
    validation = np.array([d in held for d in documents])
    rules = np.array(text_values(train.columns["filter_rule"]))
    labels = np.asarray(train.columns["label"])
    matched = rules != ""
    counts = {
        "filtered_negative": int(np.sum(matched & (labels == 0))),
        "filtered_positive": int(np.sum(matched & (labels > 0))),
        **{f"filtered_rule_{k}": v for k, v in sorted(Counter(rules[matched]).items())},
    }
    keep = ~matched if filter_negatives else np.ones(len(labels), bool)
    return (
        subset(train, np.flatnonzero(keep & ~validation)),
        subset(train, np.flatnonzero(keep & validation)),
        counts if filter_negatives else {},
    )


def word_vectors(
    config: ml_collections.ConfigDict, vocabulary: vocab_lib.Vocabulary, train: InMemorySource
) -> tuple[list[np.ndarray | None], dict]:
    """One initial matrix (or None = random) per channel named in `config.words.channels`."""
    words = config.words
    matrices, info, corpus = [], {}, None
    for c, channel in enumerate(words.channels):
        if channel == "random":
            matrices.append(None)
            continue
        if channel == "corpus":
            if corpus is None:
                sentences = {
                    t.replace(DRUG1, DRUG_OTHER).replace(DRUG2, DRUG_OTHER)
                    for t in text_values(train.columns["tokens"])
                }
                corpus = vocab_lib.train_word2vec(
                    [s.split(" ") for s in sorted(sentences)],
                    words.dim,
                    config.seed,
                    epochs=words.get("word2vec_epochs", 20),
                )
            vectors = corpus
        elif channel.startswith("file:"):
            vectors = vocab_lib.read_word2vec(channel[len("file:") :])
        else:
            raise PgxError(
                f"config.words.channels: {channel!r}; expected 'random', 'corpus' or 'file:PATH'"
            )
        matrix, found = vocab_lib.embedding_matrix(vocabulary, vectors, words.dim, config.seed + c)
        info[f"words/channel{c}_coverage"] = found / (len(vocabulary) - 1)
        matrices.append(matrix)
    return matrices, info


def text_cnn_config(model_config: Mapping) -> Mapping:
    """The text CNN's own fields: the model config, or its members' for an ensemble."""
    return model_config["member"] if model_config["name"] == "ensemble" else model_config


def text_model(model_config: Mapping, **words) -> nn.Module:
    """The configured text CNN, or each member of an ensemble of them, given the fields that
    come from the vocabulary and word vectors (`vocab_size`, `init_vectors`, ...)."""
    options = dict(model_config)
    if options["name"] == "ensemble":
        return create_model(**{**options, "member": {**options["member"], **words}})
    return create_model(**options, **words)


def per_class_report(truth: np.ndarray, pred: np.ndarray) -> dict:
    """Micro P/R/F1 over the positive classes, per-class P/R/F1 and the confusion matrix."""
    confusion = np.zeros((len(CLASSES), len(CLASSES)), int)
    np.add.at(confusion, (truth, pred), 1)
    report = {f"micro_{k}": v for k, v in micro_f1(truth, pred, range(1, len(CLASSES))).items()}
    for c, name in enumerate(CLASSES[1:], start=1):
        scores = micro_f1(truth, pred, [c])
        report.update({f"{name}_{k}": v for k, v in scores.items()})
    return {"scores": report, "confusion": confusion.tolist()}


def test_report(finished: Finished, *, tune_negative_weight: bool = False) -> dict:
    """Score the whole test set both ways; write confusion.json and confusion_rules.png.

    With `tune_negative_weight`, also scores (paper protocol) the calls whose negative-class
    probability is down-weighted by the factor that maximises validation micro F1.
    """
    splits = finished.experiment.splits
    test = splits["test"]
    truth = np.asarray(test.columns["label"])
    probabilities = finished.test.predictions
    pred = probabilities.argmax(axis=1)
    matched = np.array(text_values(test.columns["filter_rule"])) != ""
    model_only = per_class_report(truth, pred)
    with_rules = per_class_report(truth, np.where(matched, 0, pred))
    results = {f"test/{k}": v for k, v in model_only["scores"].items()}
    results.update({f"test/rules_{k}": v for k, v in with_rules["scores"].items()})
    results["test/rules_filtered_pairs"] = int(matched.sum())
    results["test/rules_filtered_positives"] = int(np.sum(matched & (truth > 0)))
    matrices = {"classes": CLASSES, "model": model_only, "rules": with_rules}
    if tune_negative_weight:
        validation = finished.predict(splits["validation"])
        weight = negative_weight_for_micro_f1(validation.labels, validation.predictions)
        tuned = calls_with_negative_weight(probabilities, weight)
        matrices["tuned_rules"] = per_class_report(truth, np.where(matched, 0, tuned))
        results["test/negative_weight"] = weight
        results.update(
            {f"test/tuned_rules_{k}": v for k, v in matrices["tuned_rules"]["scores"].items()}
        )
    if jax.process_index() == 0:
        with open(os.path.join(finished.workdir, "confusion.json"), "w") as f:
            json.dump(matrices, f, indent=2)
        f1_rules = with_rules["scores"]["micro_f1"]
        plots.confusion_picture(
            with_rules["confusion"],
            os.path.join(finished.workdir, "confusion_rules.png"),
            list(CLASSES),
            f"DDI-2013 test, filtered pairs negative (micro F1 {100 * f1_rules:.1f})",
        )
    return results


def _frozen_name(channel: int) -> str:
    return f"frozen_channel{channel}"


def _predictor(
    config: ml_collections.ConfigDict,
    vocabulary: vocab_lib.Vocabulary,
    vectors: list[np.ndarray | None],
) -> Predictor:
    """The text model over `vocabulary` with initial `vectors` per channel (None: random);
    its fitted values are the vocabulary and the frozen channels' vectors."""
    data = config.data
    model = text_model(
        config.model.to_dict(),
        vocab_size=len(vocabulary),
        embed_dim=config.words.dim,
        num_channels=len(config.words.channels),
        init_vectors=tuple(vectors),
        frozen=tuple(config.words.frozen),
    )
    encode = functools.partial(
        encode_pairs,
        vocabulary=vocabulary,
        max_length=data.max_length,
        bucket=data.bucket,
        max_distance=text_cnn_config(config.model)["max_distance"],
    )
    fitted = {"vocabulary": vocabulary.words[2:]}
    fitted.update(
        {_frozen_name(c): vectors[c] for c in config.words.frozen if vectors[c] is not None}
    )
    return Predictor(
        model,
        "multiclass",
        encode,
        tuple(config.eval.metrics),
        reads=("tokens", "e1_index", "e2_index"),
        fitted=fitted,
        classes=CLASSES,
        call=functools.partial(relation_calls, filter_negatives=data.filter_negatives),
    )


def relation_calls(
    records: dict, probabilities: np.ndarray, negative_weight: float, *, filter_negatives: bool
) -> np.ndarray:
    """Each pair's relation: the most probable class after the negative class's probability is
    multiplied by `negative_weight`; a pair its filter rule matches is negative where the run
    filtered training negatives (Liu et al.'s protocol)."""
    calls = calls_with_negative_weight(probabilities, negative_weight)
    if filter_negatives and "filter_rule" in records:
        calls = np.where(np.array(text_values(records["filter_rule"])) != "", 0, calls)
    return calls


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """The text model of a trained run: its vocabulary and frozen channels from `fitted`
    (the trainable channels' vectors are in its checkpoint)."""
    channels = range(len(config.words.channels))
    vectors = [fitted.get(_frozen_name(c)) for c in channels]
    return _predictor(config, vocab_lib.Vocabulary(fitted["vocabulary"]), vectors)


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.name != "ddi2013":
        raise PgxError(f"config.data.name: unknown DDI data set {data.name!r}; known: ['ddi2013']")
    splits = ddi2013.load(data)
    full_train = splits["train"]
    train, validation, counts = split_training(
        full_train, data.validation_fraction, data.validation_seed, data.filter_negatives
    )
    for key, value in counts.items():
        print(f"ddi: {key}: {value}")
    vocabulary = vocab_lib.Vocabulary.build(
        (t.split(" ") for t in text_values(full_train.columns["tokens"])), data.min_count
    )
    vectors, info = word_vectors(config, vocabulary, full_train)
    for key, value in info.items():
        print(f"ddi: {key}: {value:.3f}")
    return Experiment(
        _predictor(config, vocabulary, vectors),
        {"train": train, "validation": validation, "test": splits["test"]},
        order=sampling.length_bucketed(sentence_lengths(train), data.batch_size),
        after_fit=functools.partial(
            test_report, tune_negative_weight=config.eval.tune_negative_weight
        ),
    )
