"""DNA-binding proteins from sequence (DeepDBP-CNN style): protein tokens in, probability out.

Data set: `dbp` (train on PDB1075, test on PDB186; `pgx_jax.data.builders.dbp`).
"""

import functools

import jax
import ml_collections
import numpy as np

from pgx_jax.data import alphabets
from pgx_jax.data.builders import dbp
from pgx_jax.data.sources import take
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment
from pgx_jax.metrics import compute_metrics
from pgx_jax.models import create_model

SEEN_METRICS = ("accuracy", "mcc", "auroc")

LOADERS = {"dbp": dbp.load}


def _text(values: np.ndarray) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def encode_proteins(records: dict, *, length: int) -> dict:
    """Raw records to protein token ids (truncated or padded to `length`), mask and labels."""
    ids, mask = alphabets.tokens(
        _text(records["sequence"]), alphabets.PROTEIN, length, names=_text(records["id"])
    )
    return {
        "inputs": {"tokens": ids, "mask": mask},
        "label": np.asarray(records["label"], np.float32),
    }


def _sequences(source) -> list[str]:
    return _text(take(source, np.arange(len(source)))["sequence"])


def seen_chain_report(state, experiment: Experiment, workdir: str) -> dict:
    """Test metrics apart for the chains whose exact sequence is also a training (or
    validation) chain and for the rest: on a leaky benchmark the first measure memory, the
    second generalisation. A metric undefined on a part (AUROC where its chains share one
    label) is left out."""
    splits = experiment.splits
    seen = {
        s for name in ("train", "validation") if name in splits for s in _sequences(splits[name])
    }
    test = splits["test"]
    in_training = np.array([s in seen for s in _sequences(test)])
    labels, scores = [], []
    for start in range(0, len(test), 256):
        batch = experiment.encode(take(test, np.arange(start, min(start + 256, len(test)))))
        logits = experiment.model.apply({"params": state.params}, **batch["inputs"])
        labels.append(batch["label"])
        scores.append(np.asarray(jax.nn.sigmoid(logits)))
    labels, scores = np.concatenate(labels), np.concatenate(scores)
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
