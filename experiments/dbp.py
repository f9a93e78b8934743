"""DNA-binding proteins from sequence (DeepDBP-CNN style): protein tokens in, probability out.

Data set: `dbp` (train on PDB1075, test on PDB186; `pgx_jax.data.builders.dbp`).
"""

import functools

import ml_collections
import numpy as np

from pgx_jax.data import alphabets
from pgx_jax.data.builders import dbp
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment
from pgx_jax.models import create_model

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
    )
