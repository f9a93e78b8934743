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
from collections.abc import Iterator

import jax
import ml_collections
import numpy as np

from pgx_jax.data import alphabets
from pgx_jax.data.augment import with_shifted_copies
from pgx_jax.data.builders import ienhancer, promoters
from pgx_jax.data.jaspar import jaspar_pfm
from pgx_jax.data.sources import InMemorySource, materialize, take, text_values
from pgx_jax.data.splits import holdout, kfold, subset
from pgx_jax.data.synthetic import sample_motif_instances
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, RecordSource
from pgx_jax.models import create_model

BASES = np.frombuffer(b"ACGT", np.uint8)


def encode_dna(records: dict, *, length: int) -> dict:
    """One-hot DNA with its mask; float labels [B] (an ensemble's losses broadcast them over
    its members)."""
    x, mask = alphabets.one_hot(
        text_values(records["sequence"]), alphabets.DNA, length, names=text_values(records["id"])
    )
    label = np.asarray(records["label"], np.float32)
    return {"inputs": {"x": x, "mask": mask}, "label": label}


def encode_tasks(records: dict, *, length: int) -> dict:
    """One-hot DNA; labels [B, T] with weight [B, T] = 0 where a label is missing."""
    x, mask = alphabets.one_hot(text_values(records["sequence"]), alphabets.DNA, length)
    return {
        "inputs": {"x": x, "mask": mask},
        "label": np.asarray(records["labels"], np.float32),
        "weight": np.asarray(records["observed"], np.float32),
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


def deepromoter_batches(
    positives: list[str],
    encode,
    local_batch_size: int,
    seed: int,
    start_step: int,
    parts: int,
    keep: int,
) -> Iterator[dict]:
    """Endless batches, half promoters and half negatives rebuilt from promoters at every step
    (DeePromoter); each batch is a pure function of (seed, step, process)."""
    step = start_step
    negatives_count = local_batch_size // 2
    while True:
        rng = np.random.default_rng([seed, step, jax.process_index()])
        chosen = rng.choice(len(positives), local_batch_size - negatives_count, replace=False)
        sources = rng.choice(len(positives), negatives_count, replace=False)
        negatives = promoters.deepromoter_negatives(
            [positives[i] for i in sources], rng, parts, keep
        )
        sequences = [positives[i] for i in chosen] + negatives
        batch = encode(
            {
                "id": np.array([f"step{step}:{i}" for i in range(len(sequences))]),
                "sequence": np.array(sequences),
                "label": np.array([1] * len(chosen) + [0] * negatives_count),
            }
        )
        yield {**batch, "weight": np.ones(local_batch_size, np.float32)}
        step += 1


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


def promoter_experiment_parts(data: ml_collections.ConfigDict, encode_for) -> tuple:
    """(splits, train_batches or None, sequence length) of a promoter set and fold."""
    source = promoters.load(data)
    length = data.length or _longest(source)
    encode = encode_for(length)
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
        "train": _with_negatives(train, data, data.fold_seed),
        "test": _with_negatives(held, data, data.fold_seed + 1),
    }
    batches = functools.partial(
        deepromoter_batches,
        text_values(train.columns["sequence"]),
        encode,
        parts=data.parts,
        keep=data.keep_parts,
    )
    return splits, lambda size, seed, start: batches(size, seed, start), length


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


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.get("max_shift", 0) and data.get("organism") == "human_deepromoter":
        raise PgxError(
            "config.data.max_shift: shifted copies need a fixed training split; "
            "human_deepromoter rebuilds its negatives at every step"
        )
    model = create_model(**config.model.to_dict())
    metrics = tuple(config.eval.metrics)
    if data.name == "planted_tasks":
        splits = _with_shifted_training_copies(planted_task_splits(data), data)
        encode = functools.partial(encode_tasks, length=data.length)
        return Experiment(model, "multilabel", splits, encode, metrics)
    if data.name == "ienhancer":
        splits = _with_shifted_training_copies(enhancer_splits(data), data)
        encode = functools.partial(encode_dna, length=ienhancer.LENGTH)
        return Experiment(model, "binary", splits, encode, metrics)
    if data.name == "promoters":

        def encode_for(length: int):
            return functools.partial(encode_dna, length=length)

        splits, batches, length = promoter_experiment_parts(data, encode_for)
        splits = _with_shifted_training_copies(splits, data)
        return Experiment(
            model, "binary", splits, encode_for(length), metrics, train_batches=batches
        )
    raise PgxError(
        f"config.data.name: unknown regulatory data set {data.name!r}; "
        "known: ienhancer, promoters, planted_tasks"
    )
