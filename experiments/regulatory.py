"""Regulatory regions: enhancers (iEnhancer-2L), promoters (CNNProm, DeePromoter) and a
multi-task accessibility head on planted motifs.

Data sets (`config.data.name`):
  ienhancer: layer 1 (enhancer vs non-enhancer) or layer 2 (strong vs weak enhancer);
    `data.fold` k of `data.num_folds` trains on the other folds of the training set and tests
    on fold k; `data.fold=-1` trains on the whole training set and tests on the independent
    set. `data.drop_test_duplicates` removes training sequences that recur in the test set.
  promoters: `data.organism` / `data.kind` name the CNNProm files; `organism=human_deepromoter`
    uses DeePromoter's human TATA positives with negatives rebuilt at every step. Stratified
    `data.fold` of `data.num_folds` (no independent set exists).
  planted_tasks: several JASPAR motifs per task planted in random DNA, a random share of labels
    marked missing (weight 0), for the multi-label head.

`data.max_shift` = s > 0 adds to the training split (never validation or test) copies of each
sequence shifted by 1..s positions either way, the vacated end read as N (every data set here
but human_deepromoter, whose negatives change at every step).
"""

import functools

import ml_collections
import numpy as np

from pgx_jax.data import alphabets, lengths, sampling
from pgx_jax.data.augment import with_shifted_copies
from pgx_jax.data.builders import ienhancer, promoters
from pgx_jax.data.jaspar import jaspar_pfm
from pgx_jax.data.sources import InMemorySource, RecordSource, materialize, take, text_values
from pgx_jax.data.splits import holdout, kfold, subset
from pgx_jax.data.synthetic import sample_motif_instances
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Predictor, label_column
from pgx_jax.models import create_model

BASES = np.frombuffer(b"ACGT", np.uint8)


def encode_dna(records: dict, *, length: int) -> dict:
    """One-hot DNA with its mask; float labels [B] (an ensemble's losses broadcast them over
    its members)."""
    x, mask = alphabets.one_hot(
        text_values(records["sequence"]), alphabets.DNA, length, names=text_values(records["id"])
    )
    return {"inputs": {"x": x, "mask": mask}, "label": label_column(records)}


def encode_tasks(records: dict, *, length: int, tasks: int) -> dict:
    """One-hot DNA; labels [B, T] with weight [B, T] = 0 where a label is missing."""
    x, mask = alphabets.one_hot(text_values(records["sequence"]), alphabets.DNA, length)
    label = label_column(records, "labels", shape=(tasks,))
    observed = records.get("observed", np.ones_like(label))
    return {
        "inputs": {"x": x, "mask": mask},
        "label": label,
        "weight": np.asarray(observed, np.float32),
    }


def _table(columns: dict, keep: np.ndarray, label: np.ndarray) -> InMemorySource:
    return InMemorySource(
        {"id": columns["id"][keep], "sequence": columns["sequence"][keep], "label": label[keep]}
    )


def _layer_view(source: RecordSource, layer: int) -> InMemorySource:
    """Layer 1: enhancer (weak or strong) = 1; layer 2: enhancers only, strong = 1."""
    columns = take(source, np.arange(len(source)))
    classes = columns["label"]
    if layer == 1:
        return _table(columns, np.ones(len(classes), bool), (classes > 0).astype(np.int64))
    if layer == 2:
        return _table(columns, classes > 0, (classes == 2).astype(np.int64))
    raise PgxError(f"config.data.layer: {layer!r}; iEnhancer-2L has layers 1 and 2")


def _fold_splits(source: InMemorySource, data: ml_collections.ConfigDict) -> dict:
    """Fold `data.fold` of a stratified k-fold: train on the others, test on it."""
    labels = source.columns["label"]
    train, held = kfold(len(source), data.num_folds, data.fold, data.fold_seed, labels)
    return {"train": subset(source, train), "test": subset(source, held)}


def _with_validation(splits: dict, fraction: float, seed: int) -> dict:
    """Hold out a stratified `fraction` of train as validation (early stopping), if > 0."""
    if fraction <= 0:
        return splits
    train = splits["train"]
    kept, held = holdout(len(train), fraction, seed, train.columns["label"])
    return {**splits, "train": subset(train, kept), "validation": subset(train, held)}


def enhancer_splits(data: ml_collections.ConfigDict) -> dict:
    """iEnhancer-2L splits for `data.layer` and `data.fold` (see the module docstring)."""
    raw = ienhancer.load(data)
    train, test = (_layer_view(raw[name], data.layer) for name in ("train", "test"))
    if data.drop_test_duplicates:
        seen = set(test.columns["sequence"].tolist())
        fresh = np.array([s not in seen for s in train.columns["sequence"].tolist()])
        print(
            f"iEnhancer layer {data.layer}: dropped {int((~fresh).sum())} training sequences "
            "that recur in the independent test set"
        )
        train = subset(train, np.flatnonzero(fresh))
    splits = {"train": train, "test": test} if data.fold < 0 else _fold_splits(train, data)
    return _with_validation(splits, data.validation_fraction, data.fold_seed)


def _longest(source: RecordSource) -> int:
    return max(len(s) for s in source.columns["sequence"])


def _with_negatives(positives: InMemorySource, data, seed: int) -> InMemorySource:
    """The positives plus one fixed DeePromoter negative for each."""
    sequences = text_values(positives.columns["sequence"])
    rng = np.random.default_rng(seed)
    negatives = promoters.deepromoter_negatives(sequences, rng, data.parts, data.keep_parts)
    ids = text_values(positives.columns["id"])
    return InMemorySource(
        {
            "id": np.array(ids + [f"negative:{i}" for i in ids]),
            "sequence": np.array(sequences + negatives),
            "label": np.array([1] * len(ids) + [0] * len(ids), np.int64),
        }
    )


def _other_sets(data: ml_collections.ConfigDict, length: int) -> list[InMemorySource]:
    """Every record of each CNNProm set named in `data.also_train_on` (`organism[/kind]`)."""
    others = []
    for name in data.get("also_train_on", ()):
        organism, _, kind = name.partition("/")
        kind = kind or "prom"
        if organism == "human_deepromoter" or (organism, kind) == (data.organism, data.kind):
            raise PgxError(
                f"config.data.also_train_on: {name!r} is not another CNNProm set "
                f"(this run's set is {data.organism}/{data.kind})"
            )
        other_data = ml_collections.ConfigDict(data.to_dict())
        other_data.update(organism=organism, kind=kind)
        other = materialize(promoters.load(other_data))
        longest = _longest(other)
        if longest > length:
            raise PgxError(
                f"config.data.also_train_on: {name!r} holds sequences of {longest} bases, "
                f"longer than the {length} of {data.organism}/{data.kind}"
            )
        others.append(other)
    return others


def _joined(sources: list[InMemorySource]) -> InMemorySource:
    names = ("id", "sequence", "label")
    return InMemorySource({n: np.concatenate([s.columns[n] for s in sources]) for n in names})


def promoter_splits(data: ml_collections.ConfigDict) -> tuple[dict, sampling.Order | None, int]:
    """(splits, training order or None for the default, sequence length) of a promoter set and
    fold. human_deepromoter trains on its promoters and negatives generated from them as it
    goes (half of every batch); its test split has one fixed negative per promoter."""
    source = promoters.load(data)
    length = data.length or _longest(source)
    if data.organism != "human_deepromoter":
        splits = _fold_splits(source, data)
        splits = _with_validation(splits, data.validation_fraction, data.fold_seed)
        others = _other_sets(data, length)
        if others:
            splits["train"] = _joined([splits["train"], *others])
        return splits, None, length
    if data.get("also_train_on"):
        raise PgxError(
            "config.data.also_train_on: human_deepromoter rebuilds its training negatives at "
            "every step; other sets cannot join it"
        )
    train_idx, held_idx = kfold(len(source), data.num_folds, data.fold, data.fold_seed)
    train, held = subset(source, train_idx), subset(source, held_idx)
    splits = {
        "train": promoters.WithGeneratedNegatives(
            train, data.parts, data.keep_parts, data.fold_seed
        ),
        "test": _with_negatives(held, data, data.fold_seed + 1),
    }
    return splits, sampling.positives_with_negatives(len(train), data.batch_size), length


def planted_task_records(data: ml_collections.ConfigDict) -> dict[str, np.ndarray]:
    """Random DNA; task t is positive when one of its motifs (`data.task_motifs[t]`) is planted.

    Each task is positive independently with probability `data.positive_rate`, and a positive
    carries one of its task's motifs, chosen at random, on a random strand and position. Labels
    go missing at random with probability `data.missing_rate` (observed = 0).
    """
    rng = np.random.default_rng(data.seed)
    n, length, tasks = data.num_examples, data.length, len(data.task_motifs)
    tokens = rng.integers(0, 4, (n, length))
    labels = (rng.random((n, tasks)) < data.positive_rate).astype(np.int64)
    for t, motif_ids in enumerate(data.task_motifs):
        rows = np.flatnonzero(labels[:, t])
        which = rng.integers(0, len(motif_ids), len(rows))
        for m, motif_id in enumerate(motif_ids):
            pfm = jaspar_pfm(motif_id)
            chosen = rows[which == m]
            sites = sample_motif_instances(pfm, len(chosen), rng)
            reverse = rng.random(len(chosen)) < 0.5
            sites[reverse] = 3 - sites[reverse, ::-1]
            starts = rng.integers(0, length - len(pfm) + 1, len(chosen))
            for row, start, site in zip(chosen, starts, sites, strict=True):
                tokens[row, start : start + len(pfm)] = site
    observed = (rng.random((n, tasks)) >= data.missing_rate).astype(np.int64)
    return {
        "id": np.array([f"planted{i}" for i in range(n)]),
        "sequence": np.array([BASES[row].tobytes().decode() for row in tokens]),
        "labels": labels,
        "observed": observed,
    }


def planted_task_splits(data: ml_collections.ConfigDict) -> dict[str, InMemorySource]:
    """70 / 10 / 20 % train / validation / test of the planted multi-task set."""
    records = planted_task_records(data)
    n = len(records["id"])
    bounds = [0, int(0.7 * n), int(0.8 * n), n]
    return {
        name: InMemorySource({k: v[bounds[i] : bounds[i + 1]] for k, v in records.items()})
        for i, name in enumerate(("train", "validation", "test"))
    }


def _with_shifted_training_copies(splits: dict, data: ml_collections.ConfigDict) -> dict:
    """The training split plus its copies shifted by up to `data.max_shift` (0: unchanged)."""
    max_shift = data.get("max_shift", 0)
    if not max_shift:
        return splits
    return {**splits, "train": with_shifted_copies(splits["train"], max_shift, alphabets.DNA)}


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """The configured model on one-hot DNA: `data.length` for the planted tasks, iEnhancer-2L's
    200 bp, or the promoter set's length (`fitted["length"]`: `data.length`, or the longest
    sequence of the set when that is 0)."""
    data = config.data
    model = create_model(**config.model.to_dict())
    metrics = tuple(config.eval.metrics)
    if data.name == "planted_tasks":
        encode = functools.partial(encode_tasks, length=data.length, tasks=len(data.task_motifs))
        measure = lengths.letters({"sequence": data.length})
        return Predictor(model, "multilabel", encode, metrics, input_lengths=measure)
    if data.name == "ienhancer":
        encode = functools.partial(encode_dna, length=ienhancer.LENGTH)
        measure = lengths.letters({"sequence": ienhancer.LENGTH})
        return Predictor(model, "binary", encode, metrics, input_lengths=measure)
    if data.name == "promoters":
        encode = functools.partial(encode_dna, length=fitted["length"])
        measure = lengths.letters({"sequence": fitted["length"]})
        return Predictor(model, "binary", encode, metrics, fitted=fitted, input_lengths=measure)
    raise _unknown(data.name)


def _unknown(name: str) -> PgxError:
    return PgxError(
        f"config.data.name: unknown regulatory data set {name!r}; "
        "known: ienhancer, promoters, planted_tasks"
    )


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.get("max_shift", 0) and data.get("organism") == "human_deepromoter":
        raise PgxError(
            "config.data.max_shift: shifted copies need a fixed training split; "
            "human_deepromoter rebuilds its negatives at every step"
        )
    order, fitted = None, {}
    if data.name == "planted_tasks":
        splits = planted_task_splits(data)
    elif data.name == "ienhancer":
        splits = enhancer_splits(data)
    elif data.name == "promoters":
        splits, order, length = promoter_splits(data)
        fitted = {"length": length}
    else:
        raise _unknown(data.name)
    splits = _with_shifted_training_copies(splits, data)
    return Experiment(predictor(config, fitted), splits, order=order)
