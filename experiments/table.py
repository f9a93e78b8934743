"""Your own data (configs/table.py): a table or FASTA file of any input kind.

The file is read as strings (`pgx_jax.data.tables`); the input kind and alphabet, the targets,
the task and the input lengths are inferred (or taken from the config); the split the config
asks for is cut; and each input kind goes to its domain's encoder: one-hot DNA/RNA
(`experiments/binding.py`), protein tokens (`dbp`), SMILES and drug-target pairs (`dti`),
sentences with two [[marked]] drugs (`ddi`, blinded and tokenised as DDI-2013 is). What was
inferred is printed and written to the workdir (`data_summary.txt`), with every row's split
(`splits.tsv`) and the rows left out (`skipped_records.tsv`).
"""

import functools
import os
import time
from collections.abc import Callable

import jax
import ml_collections
import numpy as np

from experiments import binding, dbp, ddi, dti
from pgx_jax.configs import tfds_directory
from pgx_jax.data import alphabets, pair_batches, sampling, splits, table_store, tables
from pgx_jax.data import vocab as vocab_lib
from pgx_jax.data.ddi_corpus import marked_pairs, preprocess
from pgx_jax.data.lengths import InputLengths, letters
from pgx_jax.data.readers import SKIPPED_RECORDS_FILE, BadRecords
from pgx_jax.data.shuffle import dinucleotide_shuffles
from pgx_jax.data.sources import InMemorySource, text_values
from pgx_jax.errors import PgxError
from pgx_jax.experiment import Experiment, Predictor, label_column
from pgx_jax.models import create_model

METRICS = {
    "binary": ("auroc", "auprc", "accuracy", "mcc"),
    "multiclass": ("accuracy",),
    "multilabel": ("auroc", "auprc"),
    "regression": ("rmse", "r2", "pearson", "spearman"),
}
"""The metrics of each task (unless `config.eval.metrics` names others)."""
ROLES = {
    "dna": ("sequence",),
    "rna": ("sequence",),
    "protein": ("sequence",),
    "smiles": ("smiles",),
    "pair": ("smiles", "protein"),
    "sentence": ("sentence",),
}
"""The names the domain encoders read, per input kind, in the order of the input columns."""
SPLIT_ALIASES = {"train": "train", "validation": "validation", "valid": "validation"}
SPLIT_ALIASES |= {"val": "validation", "dev": "validation", "test": "test"}
SUMMARY_FILE, SPLITS_FILE = "data_summary.txt", "splits.tsv"
TEXT_BUCKET = 32


def _canonical(records: dict, fitted: dict) -> dict:
    """The records with the input columns under the names the domain encoders read."""
    renamed = dict(zip(fitted["columns"], ROLES[fitted["kind"]], strict=True))
    out = {renamed.get(k, k): v for k, v in records.items() if k not in ("label", "weight")}
    if "id" not in out:
        rows = len(next(iter(out.values())))
        out["id"] = np.array([f"row {i + 1}" for i in range(rows)])
    return out


def marked_sentences(records: dict) -> dict:
    """`tokens`, `e1_index` and `e2_index` of sentences with exactly two [[marked]] drugs,
    blinded and tokenised as DDI-2013's pairs are; PgxError naming the record otherwise."""
    tokens, first, second = [], [], []
    for name, sentence in zip(
        text_values(records["id"]), text_values(records["sentence"]), strict=True
    ):
        marks = sentence.count("[[")
        if marks != 2:
            raise PgxError(f"sentence {name!r}: {marks} [[marked]] drugs; mark exactly two")
        instance = preprocess(marked_pairs(sentence, 1, name)[0])
        tokens.append(" ".join(instance.tokens))
        first.append(instance.e1_index)
        second.append(instance.e2_index)
    return {"id": records["id"], "tokens": np.array(tokens), "e1_index": first, "e2_index": second}


def _input_encoder(config: ml_collections.ConfigDict, fitted: dict) -> Callable[[dict], dict]:
    """The domain encoder of the input kind, on records with the canonical column names."""
    kind, length = fitted["kind"], fitted["length"]
    if kind in ("dna", "rna"):
        alphabet = alphabets.DNA if kind == "dna" else alphabets.RNA
        return functools.partial(
            binding.encode_nucleotides, alphabet=alphabet, length=length, unknown="uniform"
        )
    if kind == "protein":
        return functools.partial(dbp.encode_proteins, length=length)
    data = ml_collections.ConfigDict(
        {"smiles_length": length, "protein_length": fitted.get("protein_length", 0)}
    )
    if kind == "smiles":
        return functools.partial(dti.encode_smiles, data=data)
    if kind == "pair":
        return functools.partial(dti.encode_pair_strings, data=data)
    text = functools.partial(
        ddi.encode_pairs,
        vocabulary=vocab_lib.Vocabulary(fitted["vocabulary"]),
        max_length=length,
        bucket=TEXT_BUCKET,
        max_distance=ddi.text_cnn_config(config.model)["max_distance"],
    )
    return lambda records: text(marked_sentences(records))


def encode_records(records: dict, *, fitted: dict, encode_inputs: Callable) -> dict:
    """Records with the input columns named as in the file (and, for training, `label` and
    `weight`) to model inputs, labels [N] or [N, T] and weights."""
    inputs = encode_inputs(_canonical(records, fitted))["inputs"]
    targets = len(fitted["targets"])
    shape = (targets,) if targets > 1 else ()
    label = label_column(records, shape=shape)
    weight = np.asarray(records["weight"], np.float32) if "weight" in records else None
    return {
        "inputs": inputs,
        "label": label,
        "weight": np.ones_like(label) if weight is None else weight,
    }


def outputs_of(fitted: dict) -> int:
    """The model's number of outputs: one per class (more than two), else one per target."""
    return len(fitted["classes"]) if fitted["task"] == "multiclass" else len(fitted["targets"])


def _frozen(channel: int) -> str:
    return f"frozen_channel{channel}"


def model_of(config: ml_collections.ConfigDict, fitted: dict, vectors: list | None = None):
    """The configured model with the task and number of outputs the data show; a sentence
    model's word channels start from `vectors` (at training), and its frozen channels from
    the vectors the run saved (`fitted`)."""
    options = config.model.to_dict()
    member = options["member"] if options["name"] == "ensemble" else options
    member.update(task=fitted["task"], num_outputs=outputs_of(fitted))
    if fitted["kind"] != "sentence":
        return create_model(**options)
    channels = len(config.words.channels)
    vectors = vectors or [fitted.get(_frozen(c)) for c in range(channels)]
    return ddi.text_model(
        options,
        vocab_size=len(fitted["vocabulary"]) + 2,
        embed_dim=config.words.dim,
        num_channels=channels,
        init_vectors=tuple(vectors),
        frozen=tuple(config.words.frozen),
    )


def predictor(config: ml_collections.ConfigDict, fitted: dict, vectors: list | None = None):
    """The model of the data's input kind and task, reading the file's input columns."""
    encode = functools.partial(
        encode_records, fitted=fitted, encode_inputs=_input_encoder(config, fitted)
    )
    metrics = tuple(config.eval.metrics) or METRICS[fitted["task"]]
    classes = tuple(fitted["classes"]) if fitted["task"] == "multiclass" else ()
    return Predictor(
        model_of(config, fitted, vectors),
        fitted["task"],
        encode,
        metrics,
        reads=tuple(fitted["columns"]),
        fitted=fitted,
        classes=classes,
        input_lengths=_input_lengths(fitted),
    )


def _input_lengths(fitted: dict) -> InputLengths | None:
    """Letters (canonical SMILES) of the input columns at the lengths the encoder reads; none
    for sentences, which the encoder crops around their two drugs."""
    kind, columns = fitted["kind"], fitted["columns"]
    if kind == "sentence":
        return None
    limits = {columns[0]: fitted["length"]}
    if kind == "pair":
        limits[columns[1]] = fitted["protein_length"]
    return letters(limits, smiles=tuple(columns[:1]) if kind in ("smiles", "pair") else ())


def read(data: ml_collections.ConfigDict, bad: BadRecords) -> tables.Table:
    """The config's file as a table: FASTA (one file per class, or labels in the headers; with
    positives alone, dinucleotide shuffles of them as negatives) or a CSV/TSV/Parquet table."""
    if data.positives and not data.negatives and not data.path:
        table = tables.read_fasta_table(positives=data.positives, bad=bad)
        shuffled = dinucleotide_shuffles(list(table.columns["sequence"]), data.shuffle_seed)
        columns = {
            "id": np.concatenate(
                [table.columns["id"], [f"{i}_shuffled" for i in table.columns["id"]]]
            ),
            "sequence": np.concatenate([table.columns["sequence"], shuffled]),
            "label": np.array(["1"] * len(table) + ["0"] * len(table)),
        }
        return tables.Table(table.path, columns, np.concatenate([table.lines, table.lines]))
    if data.positives and data.path:
        raise PgxError("config.data: path= and positives= are exclusive")
    if data.positives or tables.is_fasta(data.path):
        return tables.read_fasta_table(data.path, data.positives, data.negatives, bad)
    return tables.read_table(data.path)


def split_names(table: tables.Table, data, kind: str, labels: np.ndarray) -> np.ndarray:
    """Each row's split: 'train', 'validation', 'test', or '' (left out by a cold split)."""
    how = data.split or ("column" if "split" in table.columns else "random")
    fractions = tuple(data.fractions)
    columns = table.columns
    if how == "column":
        if "split" not in columns:
            raise PgxError(f"config.data.split=column: {table.path} has no 'split' column")
        found = np.array([SPLIT_ALIASES.get(v.lower(), "?") for v in columns["split"]])
        if (found == "?").any():
            row = int(np.flatnonzero(found == "?")[0])
            raise PgxError(
                f"{table.where(row)}: split {str(columns['split'][row])!r}; expected "
                "train, validation (valid, val, dev) or test"
            )
        return found
    if how == "random":
        return splits.random_parts(len(table), fractions, data.split_seed)
    if how == "kfold":
        return np.array(splits.SPLIT_NAMES)[kfold_parts(labels, data)]
    if how in ("group", "scaffold", "cold_drug", "cold_target"):
        return splits.by_groups(
            _groups(table, data, kind, how), fractions, data.split_seed, how == "scaffold"
        )
    if how == "cold_both":
        _require(kind == "pair", how, "drug-target pairs")
        return splits.cold_both(
            columns[data.smiles_column or "smiles"],
            columns[data.protein_column or "protein"],
            fractions,
            data.split_seed,
        )
    if how == "chrom":
        column = next((c for c in ("chrom", "chromosome", "chr") if c in columns), None)
        if column is None:
            raise PgxError(f"config.data.split=chrom: {table.path} has no 'chrom' column")
        return splits.by_chromosome(
            columns[column], tuple(data.validation_chroms), tuple(data.test_chroms)
        )
    raise PgxError(
        f"config.data.split: {how!r}; expected column, random, kfold, group, scaffold, "
        "cold_drug, cold_target, cold_both or chrom"
    )


def kfold_parts(labels: np.ndarray, data) -> np.ndarray:
    """Each row's part (0 train, 1 validation, 2 test) in `data.fold` of `data.folds`
    (stratified by single-target labels with at most 20 values): the fold is the test part,
    `fractions[1]` of the rows validation."""
    fractions = tuple(data.fractions)
    stratify = labels if labels.ndim == 1 and len(np.unique(labels)) <= 20 else None
    train, test = splits.kfold(len(labels), data.folds, data.fold, data.split_seed, stratify)
    parts = np.zeros(len(labels), np.int8)
    parts[test] = 2
    held = splits.holdout(len(train), fractions[1] / (1 - fractions[2]), data.split_seed)[1]
    parts[train[held]] = 1
    return parts


def _require(condition: bool, how: str, what: str) -> None:
    if not condition:
        raise PgxError(f"config.data.split={how}: needs {what}")


def _groups(table: tables.Table, data, kind: str, how: str) -> np.ndarray:
    """The group of each row that a group, scaffold or cold split keeps in one part."""
    columns = table.columns
    if how == "group":
        if data.group_column not in columns:
            raise PgxError(
                f"config.data.group_column: {data.group_column!r} is not a column of "
                f"{table.path} (give group=COLUMN)"
            )
        return columns[data.group_column]
    smiles = data.smiles_column or "smiles"
    if how == "scaffold":
        _require(kind in ("smiles", "pair"), how, "SMILES")
        return splits.scaffolds(list(columns[smiles]))
    _require(kind == "pair", how, "drug-target pairs")
    return columns[smiles] if how == "cold_drug" else columns[data.protein_column or "protein"]


def _valid_rows(
    table: tables.Table, inputs: tables.Inputs, fitted: dict, encode, bad
) -> np.ndarray:
    """Rows whose input the encoder accepts (empty cells, letters outside the alphabet, SMILES
    RDKit cannot parse are bad records), checked in chunks, a failing chunk row by row."""
    keep = np.ones(len(table), bool)
    columns = {c: table.columns[c] for c in inputs.columns}
    for c, values in columns.items():
        for row in np.flatnonzero(values == ""):
            name = _name(table, row)
            tables.reject_row(table, row, name, f"record {name!r}: empty {c!r}", bad)
            keep[row] = False
    ids = np.array([_name(table, row) for row in range(len(table))])
    chunk = 4096
    for start in range(0, len(table), chunk):
        rows = np.arange(start, min(start + chunk, len(table)))
        rows = rows[keep[rows]]
        try:
            encode({"id": ids[rows], **{c: v[rows] for c, v in columns.items()}})
        except PgxError:
            for row in rows:
                try:
                    encode(
                        {
                            "id": ids[row : row + 1],
                            **{c: v[row : row + 1] for c, v in columns.items()},
                        }
                    )
                except PgxError as err:
                    name = str(ids[row])
                    tables.reject_row(table, row, name, f"record {name!r}: {err}", bad)
                    keep[row] = False
    return keep


def _fitted(inputs, targets: list, task, length: int) -> dict:
    """What the encoder chose from the data, saved with the run: the input kind and columns,
    the targets, the task and its classes, the input length."""
    return {
        "kind": inputs.kind,
        "columns": list(inputs.columns),
        "targets": targets,
        "task": task.kind,
        "classes": list(task.classes),
        "length": length,
    }


def _name(table: tables.Table, row: int) -> str:
    ids = table.columns.get("id")
    return str(ids[row]) if ids is not None and ids[row] else f"line {int(table.lines[row])}"


def _lengths(values: np.ndarray, kind: str) -> np.ndarray:
    """Each input's length: letters, SMILES characters, or tokens of a marked sentence."""
    if kind == "sentence":
        return np.array([len(tokens) for tokens in _tokens(values)])
    return np.array([len(str(v)) for v in values])


def _tokens(sentences: np.ndarray) -> list[list[str]]:
    """The blinded tokens of each sentence with two [[marked]] drugs (others are skipped:
    the encoder names them as bad records)."""
    return [
        list(preprocess(marked_pairs(str(s), 1, "")[0]).tokens)
        for s in sentences
        if str(s).count("[[") == 2
    ]


def build(config: ml_collections.ConfigDict) -> Experiment:
    data = config.data
    bad = BadRecords(data.get("bad_records", "error"))
    names = {r: data.get(f"{r}_column", "") for r in ("sequence", "smiles", "protein", "sentence")}
    if table_store.streams(data.get("stream", "auto"), data.path, names, data.alphabet):
        return _streamed(config, bad, names)
    table = read(data, bad)
    inputs = tables.input_kind(table, names, data.alphabet)
    fasta = "sequence" in table.columns and set(table.columns) == {"id", "sequence", "label"}
    excluded = [*inputs.columns, "id", "split", data.group_column]
    targets = (
        ["label"]
        if fasta and not data.targets
        else tables.target_columns(table, data.targets, excluded)
    )
    task = tables.task_of(table, targets, data.task)
    labels, weights, keep = tables.encode_targets(table, targets, task, bad)
    names_split = split_names(table, data, inputs.kind, labels)
    train_rows = np.flatnonzero(keep & (names_split == "train"))
    lengths = _lengths(table.columns[inputs.columns[0]][train_rows], inputs.kind)
    fitted = _fitted(inputs, targets, task, tables.sequence_length(lengths, data.length))
    if inputs.kind == "pair":
        proteins = np.array([len(p) for p in table.columns[inputs.columns[1]][train_rows]])
        fitted["protein_length"] = tables.sequence_length(proteins, data.protein_length)
    vectors = None
    if inputs.kind == "sentence":
        sentences = _tokens(table.columns[inputs.columns[0]][train_rows])
        vocabulary = vocab_lib.Vocabulary.build(sentences)
        fitted["vocabulary"] = vocabulary.words[2:]
        corpus = InMemorySource({"tokens": np.array([" ".join(s) for s in sentences])})
        vectors, _ = ddi.word_vectors(config, vocabulary, corpus)  # "random", "corpus", "file:"
        fitted.update({_frozen(c): vectors[c] for c in config.words.frozen})
    found = predictor(config, fitted, vectors)
    keep &= _valid_rows(table, inputs, fitted, found.encode, bad)
    keep &= names_split != ""
    ids = np.array([_name(table, row) for row in range(len(table))])
    sources = {}
    for split in splits.SPLIT_NAMES:
        rows = np.flatnonzero(keep & (names_split == split))
        if len(rows):
            columns = {"id": ids[rows], **{c: table.columns[c][rows] for c in inputs.columns}}
            sources[split] = InMemorySource(
                {**columns, "label": labels[rows], "weight": weights[rows]}
            )
    if "train" not in sources:
        raise PgxError(f"{table.path}: no training rows left")
    summary = _summary(table, inputs, fitted, sources, bad, names_split, keep)
    for line in summary:
        print(f"table: {line}")
    files = {
        SUMMARY_FILE: "".join(f"{line}\n" for line in summary),
        SPLITS_FILE: _split_table(table, ids, names_split, keep),
    }
    if bad.skipped:
        files[SKIPPED_RECORDS_FILE] = bad.tsv()
    if inputs.kind == "pair" and len(targets) == 1:
        return _pair_experiment(found, sources, fitted, data, files)
    return Experiment(found, sources, files=files)


SAMPLE_ROWS = 10000
"""A streamed table's input kind, targets and task are read from its first rows."""
STREAMED_SPLITS = ("column", "random", "kfold", "chrom", "group")


def _streamed(config: ml_collections.ConfigDict, bad: BadRecords, names: dict) -> Experiment:
    """A table too large for memory (`pgx_jax.data.table_store`): what it holds inferred from
    its first `SAMPLE_ROWS` rows, prepared once to array_record, split row by row from the
    prepared per-row arrays, and read batch by batch."""
    data = config.data
    if data.positives or tables.is_fasta(data.path):
        raise PgxError("config.data.stream: streams CSV, TSV or Parquet tables, not FASTA files")
    sample = tables.read_table(data.path, max_rows=SAMPLE_ROWS)
    inputs = tables.input_kind(sample, names, data.alphabet)
    if inputs.kind not in table_store.STREAMED_KINDS:
        raise PgxError(
            f"config.data.stream: streams DNA, RNA or protein sequences; {data.path} holds "
            f"{inputs.kind} inputs (give stream=false)"
        )
    how = data.split or ("column" if "split" in sample.columns else "random")
    if how not in STREAMED_SPLITS:
        raise PgxError(
            f"config.data.split={how}: a streamed table is split row by row; expected one of "
            f"{', '.join(STREAMED_SPLITS)} (or stream=false)"
        )
    excluded = [*inputs.columns, "id", "split", data.group_column]
    targets = tables.target_columns(sample, data.targets, excluded)
    task = tables.task_of(sample, targets, data.task)
    chrom = next((c for c in ("chrom", "chromosome", "chr") if c in sample.columns), "")
    roles = {"split": "split", "chrom": chrom, "group": data.group_column}
    settings = table_store.Settings(
        kind=inputs.kind,
        column=inputs.columns[0],
        id_column="id",
        targets=tuple(targets),
        task=task.kind,
        classes=task.classes,
        factors=tuple((r, c) for r, c in roles.items() if c in sample.columns),
    )
    cache = os.path.join(tfds_directory(data.get("tfds_dir") or None), "tables")
    started = time.perf_counter()
    prepared = table_store.prepare(data.path, settings, cache, bad)
    seconds = time.perf_counter() - started
    parts = _streamed_parts(prepared, data, how)  # every row has one: no cold splits here
    train_rows = np.flatnonzero(prepared.keep & (parts == 0))
    fitted = _fitted(
        inputs, targets, task, tables.sequence_length(prepared.lengths[train_rows], data.length)
    )
    found = predictor(config, fitted)
    records = np.cumsum(prepared.keep, dtype=np.int32) - 1  # each kept row's record
    sources, labels = {}, {}
    for part, split in enumerate(splits.SPLIT_NAMES):
        rows = np.flatnonzero(prepared.keep & (parts == part))
        if len(rows):
            sources[split] = table_store.StreamSource(
                prepared.directory, records[rows], fitted["length"], len(targets)
            )
            labels[split] = prepared.labels[rows]
    if "train" not in sources:
        raise PgxError(f"{data.path}: no training rows left")
    how_prepared = "reused" if prepared.reused else f"prepared in {seconds:.0f} s"
    summary = [
        f"streamed from {prepared.directory} ({how_prepared}); input, targets and task "
        f"inferred from the first {len(sample)} rows; no {SPLITS_FILE} for a streamed table",
        *summary_lines(
            f"{data.path} ({len(prepared.keep)} records)",
            fitted,
            labels,
            prepared.lengths[train_rows],
            0,
            bad,
        ),
    ]
    for line in summary:
        print(f"table: {line}")
    files = {SUMMARY_FILE: "".join(f"{line}\n" for line in summary)}
    if bad.skipped:
        files[SKIPPED_RECORDS_FILE] = bad.tsv()
    encode = functools.partial(table_store.encode_tokens, kind=inputs.kind)
    return Experiment(found, sources, encode=encode, files=files)


def _streamed_parts(prepared: table_store.Prepared, data, how: str) -> np.ndarray:
    """Each row's part (0 train, 1 validation, 2 test) of a prepared table, as `split_names`
    cuts an in-memory one (small integers: 10 million split names would take 400 MB)."""
    rows, path = len(prepared.keep), data.path
    if how == "random":
        return splits.random_part_indices(rows, tuple(data.fractions), data.split_seed)
    if how == "kfold":
        return kfold_parts(prepared.labels, data)
    role = "split" if how == "column" else how
    if role not in prepared.factors:
        column = {"split": "split", "chrom": "chrom", "group": repr(data.group_column)}[role]
        raise PgxError(f"config.data.split={how}: {path} has no {column} column")
    factor = prepared.factors[role]
    if how == "group":
        return splits.group_parts(factor.codes, tuple(data.fractions), data.split_seed)
    if how == "column":
        found = np.array([SPLIT_ALIASES.get(v.lower(), "?") for v in factor.values.tolist()])
        if (found == "?").any():
            unknown = np.flatnonzero(found == "?")
            first = unknown[np.argmin(factor.first_lines[unknown])]
            where = tables.Table(path, {}, factor.first_lines).where(first)
            raise PgxError(
                f"{where}: split {str(factor.values[first])!r}; expected "
                "train, validation (valid, val, dev) or test"
            )
    else:
        chroms = tuple(data.validation_chroms), tuple(data.test_chroms)
        found = splits.by_chromosome(factor.values, *chroms)
    part = np.array([splits.SPLIT_NAMES.index(name) for name in found.tolist()], np.int8)
    return part[factor.codes]


def _pair_experiment(
    found: Predictor, sources: dict, fitted: dict, data: ml_collections.ConfigDict, files: dict
) -> Experiment:
    """Drug-target pairs trained as the DTI domain trains them: every distinct SMILES and
    protein tokenised once, batches of pair indices (factorised: each distinct sequence of a
    batch encoded once) in protein blocks (`data.block_pairs`; -1 chosen from the data,
    `sampling.blocking_of`), or in random order (`data.pair_order="random"`)."""
    batch_size = data.batch_size
    smiles_column, protein_column = fitted["columns"]
    drugs = sorted({s for source in sources.values() for s in source.columns[smiles_column]})
    proteins = sorted({p for source in sources.values() for p in source.columns[protein_column]})
    lengths = ml_collections.ConfigDict(
        {"smiles_length": fitted["length"], "protein_length": fitted["protein_length"]}
    )
    drug_tokens = np.stack([dti.smiles_row(d, d, lengths) for d in drugs])
    protein_tokens = np.stack([dti.protein_row(p, p, lengths) for p in proteins])
    drug_of = {d: i for i, d in enumerate(drugs)}
    protein_of = {p: i for i, p in enumerate(proteins)}
    indexed = {
        name: InMemorySource(
            {
                **source.columns,
                "drug_index": np.array([drug_of[d] for d in source.columns[smiles_column]]),
                "protein_index": np.array([protein_of[p] for p in source.columns[protein_column]]),
            }
        )
        for name, source in sources.items()
    }
    train_proteins = indexed["train"].columns["protein_index"]
    blocks = data.block_pairs
    if blocks < 0:
        blocks = sampling.blocking_of(train_proteins, batch_size)
    shape = f"blocks of {blocks} pairs" if blocks else "whole proteins"
    print(f"table: training batches of {shape if data.pair_order == 'block' else 'random pairs'}")
    return Experiment(
        found,
        indexed,
        order=sampling.pair_blocks(train_proteins, batch_size, data.pair_order, blocks),
        encode=functools.partial(
            pair_batches.encode_pairs,
            drug_tokens=drug_tokens,
            protein_tokens=protein_tokens,
            factorised=True,
            process_rows=batch_size // jax.process_count(),
        ),
        files=files,
    )


def _summary(table, inputs, fitted: dict, sources: dict, bad: BadRecords, names, keep) -> list[str]:
    """What was inferred from an in-memory table (`summary_lines`)."""
    labels = {split: np.asarray(source.columns["label"]) for split, source in sources.items()}
    lengths = _lengths(sources["train"].columns[inputs.columns[0]], inputs.kind)
    left_out = int(np.sum(keep == 0)) - len(bad.skipped)
    return summary_lines(
        f"{table.path} ({len(table)} records)", fitted, labels, lengths, left_out, bad
    )


def summary_lines(
    file: str, fitted: dict, labels: dict, lengths: np.ndarray, left_out: int, bad: BadRecords
) -> list[str]:
    """What was inferred, one line each: input kind and columns, task and targets, class
    balance (or target means) of each split's `labels`, the training inputs' `lengths` and how
    many were cut, split sizes, bad rows."""
    lines = [
        f"file: {file}",
        f"input: {fitted['kind']} from column(s) {fitted['columns']}",
        f"task: {fitted['task']}, target(s) {fitted['targets']}"
        + (f", classes {fitted['classes']}" if fitted["classes"] else ""),
    ]
    for split in splits.SPLIT_NAMES:
        if split not in labels:
            lines.append(f"{split}: 0 records (warning: the split left this part empty)")
            continue
        lines.append(f"{split}: {len(labels[split])} records, {_balance(fitted, labels[split])}")
    cut = int(np.sum(lengths > fitted["length"]))
    unit = "tokens" if fitted["kind"] == "sentence" else "characters"
    lines.append(
        f"length: {fitted['length']} {unit} (training inputs {lengths.min()}-{lengths.max()}, "
        f"{cut} cut)"
        + (f"; proteins {fitted['protein_length']}" if "protein_length" in fitted else "")
    )
    if left_out > 0:
        lines.append(f"left out by the split: {left_out} records")
    if bad.skipped:
        lines.append(bad.summary(listed_in=SKIPPED_RECORDS_FILE))
    return lines


def _balance(fitted: dict, labels: np.ndarray) -> str:
    if fitted["task"] in ("binary", "multiclass"):
        counts = np.bincount(labels.astype(int), minlength=len(fitted["classes"]))
        return ", ".join(f"{c}: {n}" for c, n in zip(fitted["classes"], counts, strict=True))
    if fitted["task"] == "multilabel":
        return "positives " + ", ".join(
            f"{t}: {int(labels[:, k].sum())}" for k, t in enumerate(fitted["targets"])
        )
    values = labels.reshape(len(labels), -1)
    return ", ".join(
        f"{t} mean {values[:, k].mean():.4g} sd {values[:, k].std():.4g}"
        for k, t in enumerate(fitted["targets"])
    )


def _split_table(table, ids: np.ndarray, names: np.ndarray, keep: np.ndarray) -> str:
    """`splits.tsv`: every row's line, id and split (`-` for a row left out)."""
    rows = [
        f"{int(line)}\t{name}\t{split if kept else '-'}\n"
        for line, name, split, kept in zip(table.lines, ids, names, keep, strict=True)
    ]
    return "line\tid\tsplit\n" + "".join(rows)
