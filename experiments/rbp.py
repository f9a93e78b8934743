"""RNA-binding protein sites from CLIP data (iDeepE style): one-hot RNA in, probability out.

Data set: `rbp24` (GraphProt's RBP-24 experiments, named by prefix in `config.data.experiment`).
T and U both encode as U. `config.data.case` says what lower/upper case means: "ignore" (as
iDeepE, the whole sequence is read alike) or "viewpoint" (a fifth channel marks the upper-case
binding site, GraphProt's viewpoint). `config.data.length` 0 pads to the longest sequence.
`config.data.structure` adds each position's predicted structural context (iDeepS), folded
once per sequence into a cache (`pgx_jax/data/rna_structure.py`).
"""

import functools
import os

import ml_collections
import numpy as np

from pgx_jax.configs import tfds_directory
from pgx_jax.data import alphabets, lengths
from pgx_jax.data.builders import rbp24
from pgx_jax.data.rna_structure import StructureCache
from pgx_jax.data.sources import text_values
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Predictor, label_column
from pgx_jax.models import create_model

LOADERS = {"rbp24": rbp24.load}
CASES = ("ignore", "viewpoint")


def encode_rna(
    records: dict, *, length: int, case: str, structure: StructureCache | None = None
) -> dict:
    """Raw records to one-hot RNA [B, L, 4] (plus an upper-case channel for "viewpoint"), and
    with a `structure` cache each position's predicted structural context [B, L, 6]."""
    sequences = text_values(records["sequence"])
    x, mask = alphabets.one_hot(sequences, alphabets.RNA, length, names=text_values(records["id"]))
    if case == "viewpoint":
        upper = np.zeros(mask.shape, np.float32)
        for row, sequence in enumerate(sequences):
            marks = np.frombuffer(sequence[:length].encode("ascii"), np.uint8)
            upper[row, : len(marks)] = (marks >= ord("A")) & (marks <= ord("Z"))
        x = np.concatenate([x, upper[..., None]], axis=-1)
    inputs = {"x": x, "mask": mask}
    if structure is not None:
        inputs["structure"] = structure.contexts(sequences, length)
    return {"inputs": inputs, "label": label_column(records)}


def longest(splits: dict) -> int:
    """The longest sequence over all splits."""
    return max(
        len(s) for source in splits.values() for s in text_values(source.columns["sequence"])
    )


def structure_cache(data: ml_collections.ConfigDict) -> StructureCache | None:
    """The experiment's folded structures (`data.structure`), kept under the prepared-data
    cache as `rna_structure/<experiment>.tsv`."""
    if not data.get("structure"):
        return None
    name = f"{data.name}_{data.experiment}.tsv"
    return StructureCache(os.path.join(tfds_directory(data.get("tfds_dir")), "rna_structure", name))


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """iDeepE-style model on one-hot RNA of `fitted["length"]` (`data.length`, or the longest
    sequence of the data set when that is 0)."""
    data = config.data
    if data.case not in CASES:
        raise PgxError(f"config.data.case: {data.case!r} is not one of {CASES}")
    encode = functools.partial(
        encode_rna, length=fitted["length"], case=data.case, structure=structure_cache(data)
    )
    return Predictor(
        create_model(**config.model),
        "binary",
        encode,
        tuple(config.eval.metrics),
        fitted=fitted,
        input_lengths=lengths.letters({"sequence": fitted["length"]}),
    )


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.name not in LOADERS:
        raise PgxError(
            f"config.data.name: unknown RBP data set {data.name!r}; known: {sorted(LOADERS)}"
        )
    splits = LOADERS[data.name](data)
    built = predictor(config, {"length": data.length or longest(splits)})
    cache = built.encode.keywords["structure"]
    if cache is not None:  # every structure folded once, before training reads any
        sequences = [s for split in splits.values() for s in text_values(split.columns["sequence"])]
        print(f"rbp: {len(sequences)} structures in {cache.path}, folding the missing ones")
        cache.structures(sequences)
    return Experiment(built, splits)
