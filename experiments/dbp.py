"""DNA-binding proteins from sequence (DeepDBP-CNN style): protein tokens in, probability out.

Data set: `dbp` (train on PDB1075, test on PDB186; `pgx_jax.data.builders.dbp`).
"""

import functools
import os

import ml_collections
import numpy as np

from pgx_jax.data import alphabets
from pgx_jax.data.builders import dbp
from pgx_jax.data.sources import text_values
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment
from pgx_jax.metrics import compute_metrics
from pgx_jax.models import create_model
from pgx_jax.train.loop import PREDICTIONS_FILE

SEEN_METRICS = ("accuracy", "mcc", "auroc")

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
        "label": np.asarray(records["label"], np.float32),
    }


def seen_chain_report(state, experiment: Experiment, workdir: str) -> dict:
    """Test metrics apart for the chains whose exact sequence is also a training (or
    validation) chain and for the rest: on a leaky benchmark the first measure memory, the
    second generalisation. Reads the run's saved test predictions. A metric undefined on a
    part (AUROC where its chains share one label) is left out."""
    splits = experiment.splits
    seen = {
        s
        for name in ("train", "validation")
        if name in splits
        for s in text_values(splits[name].columns["sequence"])
    }
    test = splits["test"].columns
    path = os.path.join(workdir, PREDICTIONS_FILE)
    with np.load(path) as saved:
        labels, scores = saved["labels"], saved["predictions"]
        if text_values(saved["ids"]) != text_values(test["id"]):
            raise PgxError(f"{path}: rows differ from the test split")
    in_training = np.array([s in seen for s in text_values(test["sequence"])])
    report = {"test/seen_chains": int(in_training.sum())}
    for part, keep in (("seen", in_training), ("unseen", ~in_training)):
        if keep.any():
            metrics = compute_metrics(SEEN_METRICS, labels[keep], scores[keep])
            report.update(
                {f"test/{part}_{name}": v for name, v in metrics.items() if np.isfinite(v)}
            )
    return report


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.name not in LOADERS:
        raise PgxError(
            f"config.data.name: unknown DNA-binding protein data set {data.name!r}; "
            f"known: {sorted(LOADERS)}"
        )
    return Experiment(
        model=create_model(**config.model),
        task="binary",
        splits=LOADERS[data.name](data),
        encode=functools.partial(encode_proteins, length=data.length),
        metrics=tuple(config.eval.metrics),
        after_fit=seen_chain_report,
    )
