"""Your own data: a table or FASTA file of any input kind, trained by configuration alone.

pgx train --config configs/table.py:path=FILE --workdir DIR
pgx train --config configs/table.py:positives=pos.fa,negatives=neg.fa --workdir DIR
pgx train --config configs/table.py:path=d.csv,targets=logD+logP,split=scaffold --workdir DIR
pgx train --config configs/table.py:path=d.tsv,split=kfold,folds=5 --workdir DIR
pgx train --config configs/table.py:path=d.csv,model=deepbind --config.model.num_filters=64
pgx train --config configs/table.py:path=d.csv,model=ensemble,member=enhancer_cnn \
    --config.model.kernel_sizes='(5,9)' --config.model.member.num_filters=16

FILE: CSV or TSV (also gzipped) or Parquet with a header, or FASTA whose headers carry
`label=VALUE`; `positives=`/`negatives=` take one FASTA file per class instead (with
`positives=` alone, negatives are dinucleotide shuffles of the positives). The input columns
are found by name: `sequence` (DNA, RNA or protein, read from the letters or given with
`alphabet=`), `smiles`, `smiles` and `protein` (a drug-target pair), or `sentence` with two
drugs marked [[like this]]; other names with `sequence=COL` (also `smiles=`, `protein=`,
`sentence=`). Targets: `targets=a+b`, else every other numeric column. The task (binary,
multiclass, multilabel, regression) is read from the targets, or `task=`. Splits (`split=`):
a `split` column if the file has one, else `random` (80/10/10), `kfold` (`folds=`, the test
metrics averaged over folds), `group` (by `group=COL`), `scaffold` (Bemis-Murcko, SMILES),
`cold_drug`, `cold_target`, `cold_both` (pairs), `chrom` (by a `chrom` column; test chr8 and
chr9, validation chr6 and chr7). Large tables stream (`stream=auto`: a CSV/TSV/Parquet table of
sequences of at least 512 MB, 128 MB gzipped; `stream=true`/`false`): prepared once to
array_record in the prepared-data cache and read batch by batch.
Each input kind gets its domain's model and the settings that
won on the benchmarks (`model=NAME` for any registered model; `model=ensemble` ensembles
`member=NAME`, default the domain's model); the rules are in the README section "Your own
data".
"""

import dataclasses

import ml_collections

from configs.base import base_config
from pgx_jax.configs import parse_arg
from pgx_jax.data import tables
from pgx_jax.errors import PgxError
from pgx_jax.models import MODELS

NO_DEFAULT = ("parent", "name", "dtype")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = parse_arg(
        arg,
        path="",
        positives="",
        negatives="",
        targets="",
        task="",
        alphabet="",
        split="",
        folds=5,
        group="",
        model="",
        member="",
        sequence="",
        smiles="",
        protein="",
        sentence="",
        epochs=30,
        batch=64,
        stream="auto",
    )
    if not (arg.path or arg.positives):
        raise PgxError("configs/table.py: give path=FILE (or positives=FILE)")
    config = base_config(
        "table",
        batch_size=arg.batch,
        learning_rate=1e-3,
        num_epochs=arg.epochs,
        metrics=(),  # by the task the data shows (experiments/table.py)
        early_stopping="validation/loss",
        mode="min",
        patience=5,
    )
    data = config.data
    data.path = arg.path
    data.positives = arg.positives
    data.negatives = arg.negatives
    data.id_column = "id"
    data.sequence_column = arg.sequence
    data.smiles_column = arg.smiles
    data.protein_column = arg.protein
    data.sentence_column = arg.sentence
    data.targets = arg.targets
    data.task = arg.task
    data.alphabet = arg.alphabet
    data.length = 0  # 0: the 99th percentile of the training sequences' lengths
    data.protein_length = 0
    data.split = arg.split
    data.fractions = (0.8, 0.1, 0.1)
    data.split_seed = 0
    data.group_column = arg.group
    data.folds = arg.folds
    data.fold = 0
    data.validation_chroms = ("chr6", "chr7")
    data.test_chroms = ("chr8", "chr9")
    data.shuffle_seed = 0
    data.pair_order = "block"  # drug-target pairs: "block" (by protein) or "random"
    data.block_pairs = -1  # pairs per block: -1 chosen from the data, 0 whole proteins
    data.stream = arg.stream  # "auto", "true", "false" (pgx_jax/data/table_store.py)
    if arg.split == "kfold":
        config.protocol.field = "data.fold"
        config.protocol.choices = tuple(range(arg.folds))
    names = {"sequence": arg.sequence, "smiles": arg.smiles, "protein": arg.protein}
    names["sentence"] = arg.sentence
    kind = tables.peek_kind(arg.path, arg.positives, names, arg.alphabet)
    config.model = model_config(arg.model, kind, arg.member)
    if kind == "sentence":
        config.words = ml_collections.ConfigDict({"dim": 100, "channels": ("random",)})
        config.words.frozen = ()
        config.words.word2vec_epochs = 20
    return config


def model_config(name: str, kind: str, member: str = "") -> ml_collections.ConfigDict:
    """The model of `kind` with the settings of its domain's config, or every field of the
    registered model `name` with its default (the experiment fills in task, outputs and
    vocabulary sizes); an ensemble's member is `member` (or the domain's model) alike."""
    if name:
        if name not in MODELS:
            raise PgxError(f"configs/table.py: model={name!r}; known: {sorted(MODELS)}")
        fields = MODELS[name].__dataclass_fields__
        defaults = {
            f: field.default
            for f, field in fields.items()
            if f not in NO_DEFAULT and field.default is not dataclasses.MISSING
        }
        if name == "ensemble":
            defaults["member"] = model_config(member, kind)
        return ml_collections.ConfigDict({"name": name, **defaults})
    if kind in ("dna", "rna"):
        from configs.binding import deepbind

        return deepbind.get_config("rc" if kind == "dna" else "").model
    if kind == "protein":
        from configs.binding import dbp

        return dbp.get_config("").model
    if kind == "smiles":
        from configs.dti import solubility

        return solubility.get_config().model
    if kind == "pair":
        from configs.dti import deepdta

        return deepdta.get_config("davis").model
    from configs.ddi import textcnn

    return textcnn.get_config("seeds=1").model
