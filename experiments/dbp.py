"""DNA-binding proteins from sequence (DeepDBP-CNN style): protein tokens in, probability out.

Data set: `dbp` (train on PDB1075, test on PDB186; `pgx_jax.data.builders.dbp`).
"""

import functools
import os

import ml_collections
import numpy as np

from pgx_jax.data import alphabets, homology, lengths
from pgx_jax.data.builders import dbp
from pgx_jax.data.sources import text_values
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Finished, Predictor, label_column
from pgx_jax.interpret import plots
from pgx_jax.metrics import compute_metrics
from pgx_jax.models import create_model

PART_METRICS = ("accuracy", "mcc", "auroc")  # on a part of the test set
CALL_RULE_METRICS = ("accuracy", "mcc", "auroc", "sensitivity", "specificity")

HOMOLOGY_PICTURE = "homology.png"

LOADERS = {"dbp": dbp.load}


def encode_proteins(records: dict, *, length: int) -> dict:
    """Raw records to protein token ids (truncated or padded to `length`), mask and labels."""
    ids, mask = alphabets.tokens(
        text_values(records["sequence"]),
        alphabets.PROTEIN,
        length,
        names=text_values(records["id"]),
    )
    return {
        "inputs": {"tokens": ids, "mask": mask},
        "label": label_column(records),
    }


def leakage_report(finished: Finished, *, homology_threshold: float) -> dict:
    """Test metrics apart for the chains a model could answer from its training set (training
    and validation chains) and for the rest, from the run's test predictions.

    `seen` / `unseen`: a chain's exact sequence is / is not a training chain. `homologous` /
    `novel`: its most similar training chain (`homology.nearest_references`) reaches /
    misses `homology_threshold`. `transfer`: each homologous chain called with its nearest
    training chain's label, the others with the model's probability (homology transfer with
    the model as fallback; Luo et al. 2024 combine BLAST hits with DNA-binding predictors).
    `homology_only`: the same without a model, novel chains called negative: what the test
    set rewards without learning anything. A metric undefined on a part (AUROC where its
    chains share one label) is left out. Draws each chain's probability against its
    similarity into `HOMOLOGY_PICTURE` in the workdir.
    """
    splits = finished.experiment.splits
    known = [splits[name].columns for name in ("train", "validation") if name in splits]
    known_sequences = [s for columns in known for s in text_values(columns["sequence"])]
    known_labels = np.concatenate([columns["label"] for columns in known]).astype(np.float32)
    test = splits["test"].columns
    labels = finished.test.labels
    scores = finished.test.predictions.reshape(labels.shape)  # an ensemble predicts [N, 1]
    sequences = text_values(test["sequence"])
    seen = np.isin(sequences, known_sequences)
    similarity, nearest = homology.nearest_references(sequences, known_sequences)
    homologous = similarity >= homology_threshold
    report = {"test/seen_chains": int(seen.sum()), "test/homologous_chains": int(homologous.sum())}
    plots.homology_scatter(
        similarity,
        scores,
        labels,
        homology_threshold,
        os.path.join(finished.workdir, HOMOLOGY_PICTURE),
    )
    transferred = np.where(homologous, known_labels[nearest], scores)
    homology_only = np.where(homologous, known_labels[nearest], 0.0)
    parts = (
        ("seen", seen, scores, PART_METRICS),
        ("unseen", ~seen, scores, PART_METRICS),
        ("homologous", homologous, scores, PART_METRICS),
        ("novel", ~homologous, scores, PART_METRICS),
        ("transfer", np.ones_like(seen), transferred, CALL_RULE_METRICS),
        ("homology_only", np.ones_like(seen), homology_only, CALL_RULE_METRICS),
    )
    for part, keep, predictions, names in parts:
        if keep.any():
            metrics = compute_metrics(names, labels[keep], predictions[keep])
            report.update(
                {f"test/{part}_{name}": v for name, v in metrics.items() if np.isfinite(v)}
            )
    return report


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """DeepDBP-style embedding CNN on protein tokens of `data.length` (nothing fitted)."""
    return Predictor(
        create_model(**config.model),
        "binary",
        functools.partial(encode_proteins, length=config.data.length),
        tuple(config.eval.metrics),
        input_lengths=lengths.letters({"sequence": config.data.length}),
    )


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.name not in LOADERS:
        raise PgxError(
            f"config.data.name: unknown DNA-binding protein data set {data.name!r}; "
            f"known: {sorted(LOADERS)}"
        )
    return Experiment(
        predictor(config, {}),
        LOADERS[data.name](data),
        after_fit=functools.partial(
            leakage_report,
            homology_threshold=config.eval.get(
                "homology_threshold", homology.HOMOLOGY_THRESHOLD
            ),  # runs made before the field existed
        ),
    )
