"""Your own data by configuration (configs/table.py, experiments/table.py): what is inferred
from a table or FASTA file (input kind, alphabet, targets, task), every split kind, the FASTA
layouts, and bad rows (one error naming file, line and record, or skipped and listed)."""

import csv
import re

import numpy as np
import pytest

from configs import table as table_config
from experiments import table as table_experiment
from pgx_jax.data import tables
from pgx_jax.data.readers import SKIPPED_RECORDS_FILE
from pgx_jax.data.shuffle import dinucleotide_counts
from pgx_jax.data.splits import SPLIT_NAMES
from pgx_jax.errors import PgxError

AMINO = "ACDEFGHIKLMNPQRSTVWY"
DRUGS = (
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "CCO",
    "CCN(CC)CC",
    "OC(=O)CCC(=O)O",
    "c1ccncc1",
    "CC(C)O",
    "Clc1ccccc1",
    "NCCO",
    "C1CCCCC1O",
)
CORES = ("c1ccccc1", "c1ccncc1", "C1CCCCC1", "c1ccc2ccccc2c1", "c1ccsc1", "C1CCNCC1", "C1CC1")
CORES += ("c1cncnc1", "C1CCOC1", "c1ccoc1")
SUBSTITUENTS = ("C", "CC", "O", "N", "CO", "CCC", "C(=O)O", "Cl", "F", "CN")
"""Ring cores and substituents: 100 molecules on 10 Bemis-Murcko scaffolds, 10 on each."""


# ---------------------------------------------------------------- files and helpers


def write_table(path, header: list[str], rows: list[list], delimiter: str = ",") -> str:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def write_fasta(path, records: list[tuple[str, str]]) -> str:
    with open(path, "w") as f:
        f.writelines(f">{header}\n{sequence}\n" for header, sequence in records)
    return str(path)


def dna(rng: np.random.Generator, length: int = 30, letters: str = "ACGT") -> str:
    return "".join(rng.choice(list(letters), length))


def protein(rng: np.random.Generator, length: int = 40) -> str:
    return "".join(rng.choice(list(AMINO), length))


def dna_table(path, count: int = 60, seed: int = 0, extra: dict | None = None) -> str:
    """`id,sequence,y` (y binary), plus the `extra` columns (name -> function of the row)."""
    rng = np.random.default_rng(seed)
    extra = extra or {}
    rows = [[f"s{i}", dna(rng), i % 2, *(f(i) for f in extra.values())] for i in range(count)]
    return write_table(path, ["id", "sequence", "y", *extra], rows)


def pairs_table(path, drugs: int = 12, proteins: int = 10, seed: int = 0) -> str:
    """Every pair of `drugs` SMILES and `proteins` random proteins with an affinity."""
    rng = np.random.default_rng(seed)
    sequences = [protein(rng) for _ in range(proteins)]
    rows = [
        [f"d{d}p{p}", DRUGS[d], sequences[p], f"{rng.normal(6, 1):.3f}"]
        for d in range(drugs)
        for p in range(proteins)
    ]
    return write_table(path, ["id", "smiles", "protein", "affinity"], rows)


def scaffold_molecules() -> list[str]:
    return [core + substituent for core in CORES for substituent in SUBSTITUENTS]


def make_table(columns: dict[str, list], path: str = "t.csv") -> tables.Table:
    """A table of the given columns (cells as strings), rows on lines 2, 3, ..."""
    cells = {
        name: np.array([str(v) for v in values], dtype=str) for name, values in columns.items()
    }
    rows = len(next(iter(cells.values())))
    return tables.Table(path, cells, np.arange(2, rows + 2))


def config_of(path: str, arg: str = "", **data):
    """configs/table.py's config of `path` (with `arg`), then `data` set under config.data."""
    config = table_config.get_config(f"path={path}" + (f",{arg}" if arg else ""))
    for name, value in data.items():
        config.data[name] = value
    return config


def build(path: str, arg: str = "", **data):
    return table_experiment.build(config_of(path, arg, **data))


def ids_by_split(experiment) -> dict[str, list[str]]:
    """The ids of each split's records."""
    return {name: [str(i) for i in s.columns["id"]] for name, s in experiment.splits.items()}


def split_of_id(experiment) -> dict[str, str]:
    """Each row's split as `splits.tsv` lists it ('-' for a row left out)."""
    lines = experiment.files[table_experiment.SPLITS_FILE].splitlines()
    assert lines[0] == "line\tid\tsplit"
    return {row.split("\t")[1]: row.split("\t")[2] for row in lines[1:]}


def assert_disjoint_cover(parts: dict[str, list[str]], everything: set[str]) -> None:
    """No id in two parts, every id in one."""
    found = [i for ids in parts.values() for i in ids]
    assert len(found) == len(set(found))
    assert set(found) == everything


def values_by_part(experiment, column_of_id: dict[str, str]) -> dict[str, set[str]]:
    """The values (by id) that each split's records hold."""
    return {name: {column_of_id[i] for i in ids} for name, ids in ids_by_split(experiment).items()}


def assert_no_value_shared(by_part: dict[str, set[str]]) -> None:
    names = list(by_part)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            shared = by_part[names[a]] & by_part[names[b]]
            assert not shared, f"{names[a]} and {names[b]} share {sorted(shared)[:3]}"


# ---------------------------------------------------------------- file formats


def test_csv_gzipped_tsv_and_parquet_read_alike(tmp_path):
    import gzip

    import pandas as pd

    rng = np.random.default_rng(16)
    frame = pd.DataFrame(
        {
            "id": [f"m{i}" for i in range(40)],
            "smiles": [DRUGS[i % len(DRUGS)] for i in range(40)],
            "logS": rng.normal(size=40).round(3),
        }
    )
    frame.to_csv(tmp_path / "m.csv", index=False)
    with gzip.open(tmp_path / "m.tsv.gz", "wt") as f:
        frame.to_csv(f, sep="\t", index=False)
    frame.to_parquet(tmp_path / "m.parquet")
    found = [build(str(tmp_path / name)) for name in ("m.csv", "m.tsv.gz", "m.parquet")]
    for experiment in found:
        assert experiment.predictor.fitted["kind"] == "smiles"
        assert experiment.predictor.fitted["targets"] == ["logS"]
        assert ids_by_split(experiment) == ids_by_split(found[0])
        np.testing.assert_allclose(
            experiment.splits["test"].columns["label"], found[0].splits["test"].columns["label"]
        )
    frame.loc[4, "smiles"] = "C1CC("
    frame.to_parquet(tmp_path / "bad.parquet")
    with gzip.open(tmp_path / "bad.tsv.gz", "wt") as f:
        frame.to_csv(f, sep="\t", index=False)
    # a Parquet file has rows, not lines
    parquet = re.escape(str(tmp_path / "bad.parquet"))
    with pytest.raises(PgxError, match=rf"^{parquet}: record 'm4': .*'C1CC\(' \(row 5\)$"):
        build(str(tmp_path / "bad.parquet"))
    gz = re.escape(str(tmp_path / "bad.tsv.gz"))
    with pytest.raises(PgxError, match=rf"^{gz} line 6: record 'm4': .*'C1CC\('$"):
        build(str(tmp_path / "bad.tsv.gz"))


# ---------------------------------------------------------------- alphabet and input kind


@pytest.mark.parametrize(
    ("sequences", "expected"),
    [
        (["ACGTACGTNN", "GGCCTTAA"], "dna"),
        (["acgtacgt", "ggccNNtt"], "dna"),  # soft-masked
        (["ACGUACGUAC", "GGCCUUAA"], "rna"),
        (["acguuu"], "rna"),
        (["MKVLAAGIVGLLLAQPEWRS", "MSTNPKPQRKTKRNTNRRPQ"], "protein"),
        (["ACDEFGHIKLMNPQRSTVWY"], "protein"),
        # one typo among nucleotides: still DNA (the typo is the encoder's bad record)
        (["ACGTACGTACGTACGTACGTX", "ACGTACGTAC" * 3], "dna"),
    ],
)
def test_alphabet_is_read_from_the_letters(sequences, expected):
    assert tables.alphabet_of(sequences) == expected


def test_the_alphabet_of_a_sequence_file_and_its_override(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[f"r{i}", dna(rng, letters="ACGU"), i % 2] for i in range(40)]
    rna = write_table(tmp_path / "rna.csv", ["id", "sequence", "y"], rows)
    assert build(rna).predictor.fitted["kind"] == "rna"
    assert table_config.get_config(f"path={rna}").model.name == "deepbind"
    rows = [[f"p{i}", protein(rng), i % 2] for i in range(40)]
    proteins = write_table(tmp_path / "p.tsv", ["id", "sequence", "y"], rows, "\t")
    assert build(proteins).predictor.fitted["kind"] == "protein"
    dna_file = dna_table(tmp_path / "d.csv")
    assert build(dna_file).predictor.fitted["kind"] == "dna"
    # ACGT read as a (short) protein when the config says so
    overridden = build(dna_file, "alphabet=protein")
    assert overridden.predictor.fitted["kind"] == "protein"
    assert overridden.predictor.fitted["columns"] == ["sequence"]


SENTENCE = "[[aspirin]] may increase the anticoagulant effect of [[warfarin]] ."


@pytest.mark.parametrize(
    ("columns", "names", "expected"),
    [
        ({"sequence": ["ACGT", "GGCA"]}, {}, ("dna", ("sequence",))),
        ({"sequence": ["MKVLW", "PQRST"]}, {}, ("protein", ("sequence",))),
        ({"smiles": ["CCO", "c1ccccc1"]}, {}, ("smiles", ("smiles",))),
        (
            {"smiles": ["CCO", "CCN"], "protein": ["MKV", "PQR"]},
            {},
            ("pair", ("smiles", "protein")),
        ),
        ({"sentence": [SENTENCE, SENTENCE]}, {}, ("sentence", ("sentence",))),
        ({"protein": ["MKVLW", "PQRST"]}, {}, ("protein", ("protein",))),
        ({"seq": ["ACGT", "GGCA"]}, {"sequence": "seq"}, ("dna", ("seq",))),
        (
            {"drug": ["CCO", "CCN"], "target": ["MKV", "PQR"]},
            {"smiles": "drug", "protein": "target"},
            ("pair", ("drug", "target")),
        ),
        ({"text": [SENTENCE, SENTENCE]}, {"sentence": "text"}, ("sentence", ("text",))),
    ],
)
def test_input_kind_by_column_names(columns, names, expected):
    table = make_table({"id": ["a", "b"], **columns, "y": [0, 1]})
    found = tables.input_kind(table, names)
    assert (found.kind, found.columns) == expected


def test_input_kind_errors_name_the_columns():
    table = make_table({"id": ["a"], "seq": ["ACGT"], "y": [1]})
    with pytest.raises(PgxError, match=r"t\.csv: no input column; .*columns: \['id', 'seq', 'y'\]"):
        tables.input_kind(table, {})
    with pytest.raises(
        PgxError, match=r"config\.data\.sequence_column: t\.csv has no column 'dna'"
    ):
        tables.input_kind(table, {"sequence": "dna"})


@pytest.mark.parametrize(
    ("header", "arg", "kind"),
    [
        (["id", "drug", "affinity"], "smiles=drug", "smiles"),
        (["id", "drug", "target", "affinity"], "smiles=drug,protein=target", "pair"),
        (["id", "text", "relation"], "sentence=text", "sentence"),
    ],
)
def test_renamed_input_columns_through_the_config(tmp_path, header, arg, kind):
    """config.data.*_column name the input columns; the data and its model follow them."""
    rng = np.random.default_rng(2)
    rows = []
    for i in range(40):
        row = {"id": f"r{i}", "affinity": f"{rng.normal():.3f}", "relation": ("a", "b")[i % 2]}
        row |= {"drug": DRUGS[i % len(DRUGS)], "target": protein(rng)}
        row["text"] = SENTENCE.replace("aspirin", ("heparin", "digoxin", "lithium")[i % 3])
        rows.append([row[h] for h in header])
    path = write_table(tmp_path / "renamed.csv", header, rows)
    experiment = build(path, arg)
    fitted = experiment.predictor.fitted
    config = config_of(path, arg)
    for role, column in (part.split("=") for part in arg.split(",")):
        assert config.data[f"{role}_column"] == column
    assert fitted["kind"] == kind
    assert fitted["columns"] == header[1:-1]
    assert tuple(experiment.predictor.reads) == tuple(fitted["columns"])
    assert fitted["targets"] == [header[-1]]
    indices = {"drug_index", "protein_index"} if kind == "pair" else set()  # factorised pairs
    expected = {"id", *fitted["columns"], "label", "weight", *indices}
    assert set(experiment.splits["train"].columns) == expected


# ---------------------------------------------------------------- targets


def test_targets_named_with_plus_in_that_order():
    table = make_table({"id": ["a"], "sequence": ["ACGT"], "x": [1], "y": [2], "z": [3]})
    assert tables.target_columns(table, "z+x", ["sequence"]) == ["z", "x"]
    assert tables.target_columns(table, " y ", ["sequence"]) == ["y"]


def test_default_targets_are_the_other_numeric_columns():
    table = make_table(
        {
            "id": ["1", "2"],
            "chrom": ["chr1", "chr2"],
            "start": [100, 200],
            "end": [130, 230],
            "split": ["train", "test"],
            "group": [1, 2],
            "family": [7, 8],
            "sequence": ["ACGT", "TTGA"],
            "note": ["x", "y"],
            "bound": [0, 1],
            "signal": [0.5, ""],
        }
    )
    found = tables.target_columns(table, "", ["sequence", "id", "split", "family"])
    assert found == ["bound", "signal"]


def test_a_single_text_column_is_the_target():
    table = make_table(
        {"id": ["a", "b", "c"], "smiles": ["CCO", "CCN", "CO"], "label": ["active", "inactive", ""]}
    )
    assert tables.target_columns(table, "", ["smiles"]) == ["label"]


def test_no_target_or_an_unknown_target_is_an_error():
    table = make_table({"id": ["a"], "sequence": ["ACGT"], "y": [1]})
    with pytest.raises(PgxError, match=r"config\.data\.targets: t\.csv has no column\(s\) \['w'\]"):
        tables.target_columns(table, "y+w", ["sequence"])
    text = make_table({"id": [f"{i}" for i in range(30)], "sequence": ["ACGT"] * 30})
    text.columns["comment"] = np.array([f"n{i}" for i in range(30)])
    text.columns["note"] = np.array([f"m{i}" for i in range(30)])
    with pytest.raises(PgxError, match=r"t\.csv: no target column; name one or more with targets"):
        tables.target_columns(text, "", ["sequence"])


def test_an_unknown_target_through_build(tmp_path):
    path = dna_table(tmp_path / "d.csv")
    with pytest.raises(
        PgxError, match=r"config\.data\.targets: .*d\.csv has no column\(s\) \['w'\]"
    ):
        build(path, "targets=y+w")


# ---------------------------------------------------------------- task


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["0", "1", "1", "0", ""], tables.Task("binary", ("0", "1"))),
        (["inactive", "active", "active"], tables.Task("binary", ("active", "inactive"))),
        (["-1", "1", "1"], tables.Task("binary", ("-1", "1"))),
        (["2", "10", "1", "2"], tables.Task("multiclass", ("1", "2", "10"))),
        (["b", "a", "c", "a"], tables.Task("multiclass", ("a", "b", "c"))),
        (["0.5", "1.25", "-3.0", "2"], tables.Task("regression")),
        ([str(i) for i in range(tables.MAX_CLASSES + 1)], tables.Task("regression")),
        # a typo among 0/1 labels: still binary (the typo is a bad record)
        (["0", "1"] * 10 + ["x"], tables.Task("binary", ("0", "1"))),
    ],
)
def test_task_of_one_target(values, expected):
    table = make_table({"y": values})
    assert tables.task_of(table, ["y"]) == expected


def test_task_of_several_targets():
    table = make_table(
        {"a": ["0", "1", "", "1"], "b": ["1", "1", "0", ""], "c": ["0.5", "2.5", "", "1"]}
    )
    assert tables.task_of(table, ["a", "b"]) == tables.Task("multilabel")
    assert tables.task_of(table, ["a", "c"]) == tables.Task("regression")
    assert tables.task_of(table, ["a", "b"], "regression") == tables.Task("regression")


def test_task_override():
    table = make_table({"y": ["0", "1", "2", "1"], "z": ["0", "1", "1", "0"]})
    assert tables.task_of(table, ["y"], "regression") == tables.Task("regression")
    assert tables.task_of(table, ["z"], "multiclass") == tables.Task("multiclass", ("0", "1"))


@pytest.mark.parametrize(
    ("columns", "targets", "task", "error"),
    [
        (
            {"y": ["0", "1", "2"]},
            ["y"],
            "binary",
            r"task=binary: target 'y' has values \['0', '1', '2'\]",
        ),
        ({"y": ["a", "b", "c"]}, ["y"], "regression", r"regression on non-numeric target 'y'"),
        ({"y": ["0", "1"]}, ["y"], "ordinal", r"'ordinal'; expected binary, multiclass"),
        ({"y": ["0", "1"]}, ["y"], "multilabel", r"'multilabel'; expected binary"),
        ({"y": ["0", "1"], "z": ["1", "0"]}, ["y", "z"], "binary", r"'binary' with 2 targets"),
        (
            {"y": ["a", "b"], "z": ["1", "0"]},
            ["y", "z"],
            "",
            r"on non-numeric targets \['y', 'z'\]",
        ),
        ({"y": [f"t{i}" for i in range(30)]}, ["y"], "", r"30 distinct text values; at most 20"),
    ],
)
def test_task_errors(columns, targets, task, error):
    with pytest.raises(PgxError, match=error):
        tables.task_of(make_table(columns), targets, task)


def test_multilabel_masks_empty_cells_and_regression_keeps_several_outputs(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for i in range(50):
        a, b = ("" if i % 7 == 0 else str(i % 2)), ("" if i % 5 == 0 else str((i // 2) % 2))
        rows.append([f"m{i}", DRUGS[i % len(DRUGS)], a, b, f"{rng.normal():.3f}", i])
    header = ["id", "smiles", "tox_a", "tox_b", "logP", "start"]
    path = write_table(tmp_path / "tox.csv", header, rows)
    experiment = build(path, "targets=tox_a+tox_b")
    fitted = experiment.predictor.fitted
    assert (fitted["task"], fitted["targets"]) == ("multilabel", ["tox_a", "tox_b"])
    assert table_experiment.outputs_of(fitted) == 2
    cells = {r[0]: (r[2], r[3]) for r in rows}
    for source in experiment.splits.values():
        for name, label, weight in zip(
            source.columns["id"], source.columns["label"], source.columns["weight"], strict=True
        ):
            for k, cell in enumerate(cells[str(name)]):
                assert weight[k] == (0.0 if cell == "" else 1.0)
                assert label[k] == (float(cell) if cell else 0.0)
    # default targets: every numeric column but the SMILES, id and position (start) columns
    experiment = build(path)
    fitted = experiment.predictor.fitted
    assert (fitted["task"], fitted["targets"]) == ("regression", ["tox_a", "tox_b", "logP"])
    assert experiment.splits["train"].columns["label"].shape[1:] == (3,)
    assert table_experiment.outputs_of(fitted) == 3


def test_classes_are_encoded_in_order_and_summarised(tmp_path):
    rng = np.random.default_rng(4)
    kinds = ("loop", "helix", "sheet")
    rows = [[f"p{i}", protein(rng), kinds[i % 3]] for i in range(60)]
    path = write_table(tmp_path / "ss.tsv", ["id", "sequence", "structure"], rows, "\t")
    experiment = build(path)
    fitted = experiment.predictor.fitted
    assert (fitted["kind"], fitted["task"]) == ("protein", "multiclass")
    assert fitted["classes"] == ["helix", "loop", "sheet"]
    assert experiment.predictor.classes == ("helix", "loop", "sheet")
    assert table_experiment.outputs_of(fitted) == 3
    truth = {r[0]: r[2] for r in rows}
    for source in experiment.splits.values():
        for name, label in zip(source.columns["id"], source.columns["label"], strict=True):
            assert fitted["classes"][int(label)] == truth[str(name)]
    summary = experiment.files[table_experiment.SUMMARY_FILE]
    assert f"file: {path} (60 records)" in summary
    assert "input: protein from column(s) ['sequence']" in summary
    assert (
        "task: multiclass, target(s) ['structure'], classes ['helix', 'loop', 'sheet']" in summary
    )


# ---------------------------------------------------------------- splits


def test_split_column_with_aliases(tmp_path):
    names = ["train", "valid", "val", "dev", "test", "Train", "TEST", "validation"]
    meant = ["train", "validation", "validation", "validation", "test", "train", "test"]
    meant += ["validation"]
    path = dna_table(tmp_path / "d.csv", 40, extra={"split": lambda i: names[i % len(names)]})
    experiment = build(path)
    expected = {"train": set(), "validation": set(), "test": set()}
    for i in range(40):
        expected[meant[i % len(names)]].add(f"s{i}")
    assert {k: set(v) for k, v in ids_by_split(experiment).items()} == expected
    assert experiment.predictor.fitted["targets"] == ["y"]  # the split column is no target
    assert split_of_id(experiment) == {
        i: split for split, members in expected.items() for i in members
    }


def test_a_bad_split_value_names_file_and_line(tmp_path):
    values = ["train"] * 6 + ["training"] + ["test"] * 3
    path = dna_table(tmp_path / "d.csv", 10, extra={"split": lambda i: values[i]})
    with pytest.raises(PgxError, match=rf"^{re.escape(path)} line 8: split 'training'; expected"):
        build(path)
    # an explicit split kind ignores the column
    assert len(build(path, "split=random").splits["train"]) == 8


def test_random_split_is_seeded_with_the_configured_fractions(tmp_path):
    path = dna_table(tmp_path / "d.csv", 100)
    everything = {f"s{i}" for i in range(100)}
    first = ids_by_split(build(path))
    assert {k: len(v) for k, v in first.items()} == {"train": 80, "validation": 10, "test": 10}
    assert_disjoint_cover(first, everything)
    assert ids_by_split(build(path, "split=random")) == first
    other = ids_by_split(build(path, split_seed=1))
    assert other != first
    assert_disjoint_cover(other, everything)
    wide = ids_by_split(build(path, fractions=(0.6, 0.2, 0.2)))
    assert {k: len(v) for k, v in wide.items()} == {"train": 60, "validation": 20, "test": 20}
    assert_disjoint_cover(wide, everything)


def test_kfold_test_folds_are_disjoint_and_cover_every_row(tmp_path):
    path = dna_table(tmp_path / "d.csv", 40)
    config = config_of(path, "split=kfold,folds=4")
    assert config.protocol.field == "data.fold"
    assert tuple(config.protocol.choices) == (0, 1, 2, 3)
    table = tables.read_table(path)
    labels = table.columns["y"].astype(np.float32)
    tests = []
    for fold in range(4):
        config.data.fold = fold
        names = table_experiment.split_names(table, config.data, "dna", labels)
        assert set(names.tolist()) == set(SPLIT_NAMES)
        test_rows = set(np.flatnonzero(names == "test").tolist())
        assert len(test_rows) == 10
        assert np.sum(labels[list(test_rows)]) == 5  # stratified by the binary label
        tests.append(test_rows)
    assert set().union(*tests) == set(range(40))
    assert sum(len(t) for t in tests) == 40
    # and through build: fold 2's test part is the rows split_names gave
    experiment = build(path, "split=kfold,folds=4", fold=2)
    assert set(ids_by_split(experiment)["test"]) == {f"s{r}" for r in tests[2]}


def test_group_split_keeps_each_group_in_one_part(tmp_path):
    family = {i: f"fam{(i * 7) % 15}" for i in range(90)}
    path = dna_table(tmp_path / "d.csv", 90, extra={"family": family.get})
    experiment = build(path, "split=group,group=family")
    assert experiment.predictor.fitted["targets"] == ["y"]  # the group column is no target
    parts = ids_by_split(experiment)
    assert set(parts) == set(SPLIT_NAMES)
    assert_disjoint_cover(parts, {f"s{i}" for i in range(90)})
    assert_no_value_shared(values_by_part(experiment, {f"s{i}": f for i, f in family.items()}))
    with pytest.raises(PgxError, match=r"group_column: 'clan' is not a column of .*d\.csv"):
        build(path, "split=group,group=clan")


def test_scaffold_split_keeps_each_bemis_murcko_scaffold_in_one_part(tmp_path):
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    rng = np.random.default_rng(5)
    molecules = scaffold_molecules()
    rows = [[f"m{i}", s, f"{rng.normal():.3f}"] for i, s in enumerate(molecules)]
    path = write_table(tmp_path / "mols.csv", ["id", "smiles", "logS"], rows)
    scaffold = {
        f"m{i}": Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(Chem.MolFromSmiles(s)))
        for i, s in enumerate(molecules)
    }
    assert len(set(scaffold.values())) == len(CORES)
    experiment = build(path, "split=scaffold")
    parts = ids_by_split(experiment)
    assert set(parts) == set(SPLIT_NAMES)
    assert_disjoint_cover(parts, set(scaffold))
    by_part = values_by_part(experiment, scaffold)
    assert_no_value_shared(by_part)
    assert sum(len(s) for s in by_part.values()) == len(CORES)
    with pytest.raises(PgxError, match=r"split=scaffold: needs SMILES"):
        build(dna_table(tmp_path / "d.csv"), "split=scaffold")


@pytest.mark.parametrize(("how", "column"), [("cold_drug", 1), ("cold_target", 2)])
def test_cold_drug_and_cold_target_splits(tmp_path, how, column):
    path = pairs_table(tmp_path / "pairs.csv")
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    experiment = build(path, f"split={how}")
    assert experiment.predictor.fitted["kind"] == "pair"
    parts = ids_by_split(experiment)
    assert set(parts) == set(SPLIT_NAMES)
    assert_disjoint_cover(parts, {r[0] for r in rows})
    assert_no_value_shared(values_by_part(experiment, {r[0]: r[column] for r in rows}))
    # the other side is shared: cold on one side only
    other = values_by_part(experiment, {r[0]: r[3 - column] for r in rows})
    assert other["train"] & other["test"]


def test_cold_both_shares_neither_side_and_leaves_crossing_pairs_out(tmp_path):
    path = pairs_table(tmp_path / "pairs.csv")
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    experiment = build(path, "split=cold_both")
    parts = ids_by_split(experiment)
    assert set(parts) == set(SPLIT_NAMES)
    drug_of, protein_of = {r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows}
    drugs, proteins = values_by_part(experiment, drug_of), values_by_part(experiment, protein_of)
    assert_no_value_shared(drugs)
    assert_no_value_shared(proteins)
    part_of_drug = {d: p for p, found in drugs.items() for d in found}
    part_of_protein = {q: p for p, found in proteins.items() for q in found}
    kept = {i for ids in parts.values() for i in ids}
    left_out = [r[0] for r in rows if r[0] not in kept]
    assert left_out
    for name, _, _, _ in rows:  # left out exactly when its drug and protein parts differ
        drug, target = part_of_drug.get(drug_of[name]), part_of_protein.get(protein_of[name])
        if drug is not None and drug == target:
            assert name in kept
        if name not in kept:
            assert drug is None or target is None or drug != target
    listed = split_of_id(experiment)
    assert [i for i, s in listed.items() if s == "-"] == left_out
    summary = experiment.files[table_experiment.SUMMARY_FILE]
    assert f"left out by the split: {len(left_out)} records" in summary
    with pytest.raises(PgxError, match=r"split=cold_both: needs drug-target pairs"):
        build(dna_table(tmp_path / "d.csv"), "split=cold_both")


def test_chromosome_split(tmp_path):
    chrom = {i: f"chr{i % 12 + 1}" for i in range(120)}
    extra = {"chrom": chrom.get, "start": lambda i: 1000 * i, "end": lambda i: 1000 * i + 30}
    path = dna_table(tmp_path / "d.csv", 120, extra=extra)
    experiment = build(path, "split=chrom")
    assert experiment.predictor.fitted["targets"] == ["y"]  # chrom, start, end are no targets
    by_part = values_by_part(experiment, {f"s{i}": c for i, c in chrom.items()})
    assert_no_value_shared(by_part)
    assert by_part["validation"] == {"chr6", "chr7"}
    assert by_part["test"] == {"chr8", "chr9"}
    assert by_part["train"] == {f"chr{k}" for k in (1, 2, 3, 4, 5, 10, 11, 12)}
    assert_disjoint_cover(ids_by_split(experiment), {f"s{i}" for i in range(120)})
    other = build(path, "split=chrom", validation_chroms=("chr1",), test_chroms=("chr2", "chr3"))
    by_part = values_by_part(other, {f"s{i}": c for i, c in chrom.items()})
    assert (by_part["validation"], by_part["test"]) == ({"chr1"}, {"chr2", "chr3"})
    with pytest.raises(PgxError, match=r"split=chrom: .*has no 'chrom' column"):
        build(dna_table(tmp_path / "plain.csv"), "split=chrom")


def test_an_unknown_split_is_an_error(tmp_path):
    with pytest.raises(PgxError, match=r"config\.data\.split: 'halves'; expected column, random"):
        build(dna_table(tmp_path / "d.csv"), "split=halves")


# ---------------------------------------------------------------- FASTA


def test_fasta_one_file_per_class(tmp_path):
    rng = np.random.default_rng(6)
    positives = [(f"pos{i}", dna(rng, 40)) for i in range(30)]
    negatives = [(f"neg{i}", dna(rng, 40)) for i in range(20)]
    pos = write_fasta(tmp_path / "pos.fa", positives)
    neg = write_fasta(tmp_path / "neg.fa", negatives)
    config = table_config.get_config(f"positives={pos},negatives={neg}")
    experiment = table_experiment.build(config)
    fitted = experiment.predictor.fitted
    assert (fitted["kind"], fitted["task"], fitted["classes"]) == ("dna", "binary", ["0", "1"])
    sequences = dict(positives + negatives)
    found = {}
    for source in experiment.splits.values():
        for name, sequence, label in zip(
            source.columns["id"], source.columns["sequence"], source.columns["label"], strict=True
        ):
            assert sequence == sequences[str(name)]
            found[str(name)] = int(label)
    assert found == {name: int(name.startswith("pos")) for name in sequences}


def test_fasta_with_labels_in_the_headers(tmp_path):
    rng = np.random.default_rng(7)
    records = [(f"r{i} label={i % 3} source=chip", protein(rng)) for i in range(45)]
    path = write_fasta(tmp_path / "labelled.faa", records)
    experiment = build(path)
    fitted = experiment.predictor.fitted
    assert (fitted["kind"], fitted["task"], fitted["targets"]) == (
        "protein",
        "multiclass",
        ["label"],
    )
    assert fitted["classes"] == ["0", "1", "2"]
    found = {
        str(name): int(label)
        for source in experiment.splits.values()
        for name, label in zip(source.columns["id"], source.columns["label"], strict=True)
    }
    assert found == {f"r{i}": i % 3 for i in range(45)}


def test_a_fasta_header_without_label_is_a_bad_record(tmp_path):
    rng = np.random.default_rng(8)
    records = [(f"r{i} label={i % 2}", dna(rng)) for i in range(30)]
    records[4] = ("r4 bound", records[4][1])  # header on line 9
    path = write_fasta(tmp_path / "labelled.fa", records)
    with pytest.raises(
        PgxError, match=rf"^{re.escape(path)} line 9: record 'r4': no label= in"
    ) as e:
        build(path)
    assert "\n" not in str(e.value)
    experiment = build(path, bad_records="skip")
    kept = {i for ids in ids_by_split(experiment).values() for i in ids}
    assert kept == {f"r{i}" for i in range(30)} - {"r4"}
    listed = experiment.files[SKIPPED_RECORDS_FILE].splitlines()
    assert listed[0] == "file\tline\trecord\tproblem"
    assert listed[1].startswith(f"{path}\t9\tr4\t")
    assert len(listed) == 2


def test_positives_alone_get_dinucleotide_shuffles_as_negatives(tmp_path):
    rng = np.random.default_rng(9)
    positives = {f"pos{i}": dna(rng, 50) for i in range(40)}
    path = write_fasta(tmp_path / "pos.fa", list(positives.items()))
    experiment = table_experiment.build(table_config.get_config(f"positives={path}"))
    records = {}
    for source in experiment.splits.values():
        for name, sequence, label in zip(
            source.columns["id"], source.columns["sequence"], source.columns["label"], strict=True
        ):
            records[str(name)] = (str(sequence), int(label))
    negatives = {n: r for n, r in records.items() if r[1] == 0}
    assert len(negatives) == len(positives) == len(records) - len(negatives)
    assert all(records[name] == (sequence, 1) for name, sequence in positives.items())
    assert set(negatives) == {f"{name}_shuffled" for name in positives}
    changed = 0
    for name, sequence in positives.items():
        shuffled = negatives[f"{name}_shuffled"][0]
        assert dinucleotide_counts(shuffled) == dinucleotide_counts(sequence)
        assert (shuffled[0], shuffled[-1]) == (sequence[0], sequence[-1])
        changed += shuffled != sequence
    assert changed >= 35

    # seeded: the same negatives again, others with another shuffle seed
    def negatives_of(experiment) -> dict[str, str]:
        return {
            str(name): str(sequence)
            for source in experiment.splits.values()
            for name, sequence in zip(source.columns["id"], source.columns["sequence"], strict=True)
            if str(name).endswith("_shuffled")
        }

    config = table_config.get_config(f"positives={path}")
    assert negatives_of(table_experiment.build(config)) == negatives_of(experiment)
    config.data.shuffle_seed = 1
    other = negatives_of(table_experiment.build(config))
    assert set(other) == set(negatives) and other != negatives_of(experiment)


def test_path_and_positives_are_exclusive(tmp_path):
    rng = np.random.default_rng(10)
    pos = write_fasta(tmp_path / "pos.fa", [(f"p{i}", dna(rng)) for i in range(10)])
    table = dna_table(tmp_path / "d.csv")
    with pytest.raises(PgxError, match=r"path= and positives= are exclusive"):
        table_experiment.build(table_config.get_config(f"path={table},positives={pos}"))
    with pytest.raises(PgxError, match=r"give path=FILE \(or positives=FILE\)"):
        table_config.get_config("negatives=neg.fa")


# ---------------------------------------------------------------- bad rows


def _bad_dna(tmp_path) -> tuple[str, str, str]:
    rng = np.random.default_rng(11)
    rows = [[f"s{i}", dna(rng), i % 2] for i in range(40)]
    rows[5][1] = rows[5][1][:10] + "X" + rows[5][1][11:]
    path = write_table(tmp_path / "dna.csv", ["id", "sequence", "y"], rows)
    expected = r"line 7: record 's5': sequence 's5' position 11 \(1-based\): invalid character 'X'"
    return path, expected + " for DNA", ""


def _bad_smiles(tmp_path) -> tuple[str, str, str]:
    rng = np.random.default_rng(12)
    rows = [[f"m{i}", DRUGS[i % len(DRUGS)], f"{rng.normal():.3f}"] for i in range(40)]
    rows[2][1] = "C1CC("
    path = write_table(tmp_path / "mols.csv", ["id", "smiles", "logS"], rows)
    return path, "line 4: record 'm2': .*RDKit cannot parse SMILES 'C1CC\\('", ""


def _bad_target(tmp_path) -> tuple[str, str, str]:
    rng = np.random.default_rng(13)
    rows = [[f"m{i}", DRUGS[i % len(DRUGS)], f"{rng.normal():.3f}"] for i in range(40)]
    rows[9][2] = "n.d."
    path = write_table(tmp_path / "mols.csv", ["id", "smiles", "logS"], rows)
    return path, "line 11: record 'm9' column 'logS': 'n.d.' is not a number", ""


def _nan_target(tmp_path) -> tuple[str, str, str]:
    rng = np.random.default_rng(17)
    rows = [[f"m{i}", DRUGS[i % len(DRUGS)], f"{rng.normal():.3f}"] for i in range(40)]
    rows[20][2] = "NaN"  # a number to float(), but no label to train on
    path = write_table(tmp_path / "mols.csv", ["id", "smiles", "logS"], rows)
    return path, "line 22: record 'm20' column 'logS': 'NaN' is not a number", ""


def _named_bad_target(tmp_path) -> tuple[str, str, str]:
    path, expected, _ = _bad_target(tmp_path)
    return path, expected, "targets=logS,task=regression"


def _empty_input(tmp_path) -> tuple[str, str, str]:
    rng = np.random.default_rng(14)
    rows = [[f"p{i}", protein(rng), i % 2] for i in range(40)]
    rows[0][1] = ""
    path = write_table(tmp_path / "p.tsv", ["id", "sequence", "y"], rows, "\t")
    return path, "line 2: record 'p0': empty 'sequence'", ""


BAD_FILES = {
    "dna_letter": _bad_dna,
    "smiles": _bad_smiles,
    "regression_target": _bad_target,
    "named_regression_target": _named_bad_target,
    "nan_target": _nan_target,
    "empty_input": _empty_input,
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_row_is_one_error_naming_file_line_and_record(tmp_path, case):
    path, expected, arg = BAD_FILES[case](tmp_path)
    with pytest.raises(PgxError, match=f"^{re.escape(path)} {expected}") as caught:
        build(path, arg)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_rows_are_skipped_counted_and_listed(tmp_path, case):
    path, expected, arg = BAD_FILES[case](tmp_path)
    line = int(re.match(r"line (\d+): record '(\w+)'", expected).group(1))
    name = re.match(r"line (\d+): record '(\w+)'", expected).group(2)
    experiment = build(path, arg, bad_records="skip")
    kept = {i for ids in ids_by_split(experiment).values() for i in ids}
    with open(path) as f:
        everything = {row[0] for row in csv.reader(f, delimiter="\t" if ".tsv" in path else ",")}
    assert kept == everything - {"id", name}
    listed = experiment.files[SKIPPED_RECORDS_FILE].splitlines()
    assert listed[0] == "file\tline\trecord\tproblem"
    assert len(listed) == 2
    file, at, record, problem = listed[1].split("\t")
    assert (file, int(at), record) == (path, line, name)
    assert re.match(expected.split(": ", 1)[1], problem)
    assert split_of_id(experiment)[name] == "-"
    summary = experiment.files[table_experiment.SUMMARY_FILE]
    assert f"skipped 1 bad records (all in {SKIPPED_RECORDS_FILE})" in summary


def test_several_bad_rows_are_all_skipped_and_listed(tmp_path):
    rng = np.random.default_rng(15)
    rows = [[f"s{i}", dna(rng), i % 2] for i in range(50)]
    rows[3][1] = ""  # line 5
    rows[10][1] = "ACGTJACGT"  # line 12
    rows[20][2] = ""  # line 22: an empty target
    rows[30][2] = "maybe"  # line 32: not one of the classes
    path = write_table(tmp_path / "d.csv", ["id", "sequence", "y"], rows)
    experiment = build(path, bad_records="skip")
    assert experiment.predictor.fitted["classes"] == ["0", "1"]
    listed = [row.split("\t") for row in experiment.files[SKIPPED_RECORDS_FILE].splitlines()[1:]]
    assert sorted((int(r[1]), r[2]) for r in listed) == [
        (5, "s3"), (12, "s10"), (22, "s20"), (32, "s30")
    ]  # fmt: skip
    assert sum(len(ids) for ids in ids_by_split(experiment).values()) == 46
    assert "skipped 4 bad records" in experiment.files[table_experiment.SUMMARY_FILE]
