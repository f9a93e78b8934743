"""Variant calling from read pileups (DeepVariant, NeuSomatic): candidate alleles of a BAM
labelled by a truth VCF, split by chromosome.

config.data: `task` ("germline": `bam` read as DeepVariant pileup images, labels hom-ref / het /
hom-alt; "somatic": tumour `bam` and `normal` read as base-frequency summaries, labels none or
a type and length), `fasta`, `truth` (a VCF), `validation_chroms`, `test_chroms` (held out
whole), and the candidate and pileup settings (`width`, `height`, `region_size`, `min_mapq`,
`min_base_quality`, `min_count`, `min_fraction`; `pgx_jax.data.pileup`). Every split's
candidates are found and encoded once, in memory, when the experiment is built.
"""

import functools

import ml_collections
import numpy as np

from pgx_jax.data import pileup
from pgx_jax.data.genome import Genome
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Predictor, label_column
from pgx_jax.models import create_model
from pgx_jax.variants import calling


def _somatic(data: ml_collections.ConfigDict) -> bool:
    if data.task not in ("germline", "somatic"):
        raise PgxError(f"config.data.task: {data.task!r}; expected 'germline' or 'somatic'")
    return data.task == "somatic"


def encode(records: dict, *, field: str) -> dict:
    """Candidates' pileup images (uint8, scaled to [0, 1]) or base frequencies, and labels."""
    x = np.asarray(records[field])
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return {"inputs": {field: x}, "label": label_column(records, dtype=np.int32)}


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """The pileup CNN (germline) or the somatic residual net, one logit per class."""
    somatic = _somatic(config.data)
    classes = calling.SOMATIC_CLASSES if somatic else calling.GENOTYPES
    field = "frequencies" if somatic else "pileup"
    model = create_model(**config.model.to_dict(), num_outputs=len(classes))
    return Predictor(
        model,
        "multiclass",
        functools.partial(encode, field=field),
        tuple(config.eval.metrics),
        reads=(field,),
        fitted=fitted,
        classes=classes,
    )


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    somatic = _somatic(data)
    reference = Genome(data.fasta)
    truth = calling.read_alleles(data.truth, reference)
    held = {"validation": tuple(data.validation_chroms), "test": tuple(data.test_chroms)}
    chosen = {
        "train": [c for c in reference.names if c not in held["validation"] + held["test"]],
        **{name: [c for c in chroms if c in reference.names] for name, chroms in held.items()},
    }
    splits = {}
    for name, chroms in chosen.items():
        if not chroms:
            continue
        columns = pileup.examples(data.bam, reference, chroms, data, data.normal or None)
        columns["label"] = calling.labels(columns, truth, somatic)
        splits[name] = InMemorySource(columns)
    if "train" not in splits or not len(splits["train"]):
        raise PgxError(f"{data.bam}: no candidate on a training chromosome")
    print(
        f"pileup ({data.task}): "
        + ", ".join(
            f"{name} {len(s)} candidates ({int((s.columns['label'] > 0).sum())} true)"
            for name, s in splits.items()
        )
    )
    return Experiment(predictor(config, {}), splits)
