"""Variant effects: the saturation-mutagenesis MPRA of Kircher et al. 2019.

A CNN reads the reference and alternative windows centred on each variant (and the element it
was measured in) and predicts the log2 effect. Splits (`config.data.split`):
  `data.elements` (names) keeps only those experiments; empty keeps all 29.
  blocks: `data.fold` of `data.num_folds` holds out whole blocks of `data.block_size` genomic
    positions (neighbouring variants share context; a random split leaks it).
  cagi5: train on the CAGI5 training variants, test on the challenge test variants labelled
    from elements.tsv.
With `data.validation_folds` = v, 1/v of the training blocks is held out as a validation split
(for early stopping), again whole blocks.
After training, two baselines fitted on the same training variants are scored on the same test
variants (`test/baseline_position_mean/<metric>`, `test/baseline_kmer_ridge/<metric>`), and
`test/auroc` of each tells significant activating from repressing variants.
"""

import functools
import os

import ml_collections
import numpy as np
import scipy.sparse

from pgx_jax.configs import data_directory
from pgx_jax.data import alphabets, mpra
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Finished, Predictor, label_column
from pgx_jax.metrics import compute_metrics, significant_sign_auroc
from pgx_jax.models import create_model
from pgx_jax.models.variant_effect import kmer_differences, position_mean_baseline, ridge_fit

KEPT_COLUMNS = (
    "id",
    "element",
    "element_index",
    "offset",
    "ref_window",
    "alt_window",
    "label",
    "p_value",
)


def encode(records: dict, *, length: int) -> dict:
    """One-hot reference and alternative windows, the element index and the effect."""
    ref, _ = alphabets.one_hot(records["ref_window"].tolist(), alphabets.DNA, length)
    alt, _ = alphabets.one_hot(records["alt_window"].tolist(), alphabets.DNA, length)
    return {
        "inputs": {"ref": ref, "alt": alt, "element": np.asarray(records["element_index"])},
        "label": label_column(records),
    }


def _table(columns: dict, rows: np.ndarray) -> InMemorySource:
    return InMemorySource({k: v[rows] for k, v in columns.items()})


def load_splits(config: ml_collections.ConfigDict) -> tuple[dict, dict[str, np.ndarray]]:
    """(splits of InMemorySource with the KEPT_COLUMNS, element name -> index)."""
    data = config.data
    directory = data_directory(data.folder, data.get("dir"))
    elements = mpra.read_elements(os.path.join(directory, mpra.FASTA_FILE))
    index = {name: i for i, name in enumerate(sorted(elements))}

    keep = tuple(data.get("elements", ()))
    unknown = sorted(set(keep) - set(elements))
    if unknown:
        raise PgxError(f"config.data.elements: {unknown} are not elements; known: {sorted(index)}")

    def only_kept(columns: dict) -> dict:
        rows = np.isin(columns["element"], keep) if keep else slice(None)
        return {k: v[rows] for k, v in columns.items()}

    def prepare(columns: dict) -> dict:
        columns = mpra.add_windows(columns, elements, data.length)
        columns["element_index"] = np.array([index[e] for e in columns["element"]], np.int32)
        return {k: columns[k] for k in KEPT_COLUMNS}

    if data.split == "blocks":
        variants = only_kept(mpra.read_variants(directory))
        blocks = mpra.position_blocks(variants, data.block_size)
        train, test = mpra.block_folds(blocks, data.num_folds, data.fold, data.fold_seed)
        columns = prepare(variants)
        print(f"MPRA blocks of {data.block_size} bp, fold {data.fold} of {data.num_folds}")
    elif data.split == "cagi5":
        parts = {}
        for split in ("train", "test"):
            part, left_out = mpra.read_cagi5(directory, split)
            parts[split] = only_kept(part)
            print(f"CAGI5 {split}: {len(parts[split]['label'])} variants, left out {left_out}")
        train = np.arange(len(parts["train"]["label"]))
        test = len(train) + np.arange(len(parts["test"]["label"]))
        both = {k: np.concatenate([parts["train"][k], parts["test"][k]]) for k in parts["train"]}
        blocks = mpra.position_blocks(both, data.block_size)
        columns = prepare(both)
    else:
        raise PgxError(f"config.data.split: {data.split!r}; expected 'blocks' or 'cagi5'")
    splits = {"test": _table(columns, test)}
    if data.validation_folds:
        fit_rows, held = mpra.block_folds(blocks[train], data.validation_folds, 0, data.fold_seed)
        splits["validation"] = _table(columns, train[held])
        train = train[fit_rows]
    splits["train"] = _table(columns, train)
    print(f"MPRA splits: { {name: len(source) for name, source in splits.items()} }")
    return splits, index


def _scores(prefix: str, truth: np.ndarray, prediction: np.ndarray, p_value: np.ndarray) -> dict:
    values = compute_metrics(("pearson", "spearman"), truth, prediction)
    values["auroc"] = significant_sign_auroc(truth, prediction, p_value, mpra.SIGNIFICANT_P)
    return {f"{prefix}/{name}": float(value) for name, value in values.items()}


def kmer_ridge_baseline(train: dict, test: dict, ks: tuple[int, ...], alpha: float) -> np.ndarray:
    """Ridge regression on k-mer count differences (alt - ref) plus one intercept column per
    element, fitted on `train` and applied to `test` (numpy columns)."""
    num_elements = int(max(train["element_index"].max(), test["element_index"].max())) + 1

    def design(columns: dict):
        kmers = kmer_differences(columns["ref_window"], columns["alt_window"], ks)
        rows = np.arange(len(columns["label"]))
        onehot = scipy.sparse.csr_matrix(
            (np.ones(len(rows)), (rows, columns["element_index"])), shape=(len(rows), num_elements)
        )
        return scipy.sparse.hstack([kmers, onehot]).tocsr()

    weights = ridge_fit(design(train), train["label"], alpha)
    return design(test) @ weights


def after_fit(finished: Finished, *, data: ml_collections.ConfigDict) -> dict:
    """The CNN's AUROC on the test split and the metrics of both baselines, which are fitted on
    every variant the CNN saw (its training and validation splits)."""
    splits = finished.experiment.splits
    test = splits["test"].columns
    seen = [splits[name].columns for name in ("train", "validation") if name in splits]
    train = {k: np.concatenate([part[k] for part in seen]) for k in seen[0]}
    prediction = finished.test.predictions
    truth, p_value = test["label"], test["p_value"]
    results = {"test/auroc": significant_sign_auroc(truth, prediction, p_value, mpra.SIGNIFICANT_P)}
    position_mean = position_mean_baseline(
        train["element"], train["offset"], train["label"], test["element"], test["offset"]
    )
    results.update(_scores("test/baseline_position_mean", truth, position_mean, p_value))
    ridge = kmer_ridge_baseline(train, test, tuple(data.kmer_sizes), data.ridge_alpha)
    results.update(_scores("test/baseline_kmer_ridge", truth, ridge, p_value))
    results["test/significant_variants"] = int(np.sum(p_value < mpra.SIGNIFICANT_P))
    return results


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """The variant-effect CNN on reference and alternative windows of `data.length` and the
    index of the element a variant was measured in (nothing fitted)."""
    return Predictor(
        create_model(**config.model),
        "regression",
        functools.partial(encode, length=config.data.length),
        tuple(config.eval.metrics),
        reads=("ref_window", "alt_window", "element_index"),
    )


def build(config: ml_collections.ConfigDict) -> Experiment:
    splits, index = load_splits(config)
    num_elements = config.model.get("num_elements", 0)
    if 0 < num_elements < len(index):
        raise PgxError(f"config.model.num_elements: {num_elements}, but there are {len(index)}")
    return Experiment(
        predictor(config, {}),
        splits,
        after_fit=functools.partial(after_fit, data=config.data),
    )
