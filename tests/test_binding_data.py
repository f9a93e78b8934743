"""Loading the binding data sets: counts as in each SOURCE.md, bad input, T/U and case."""

import gzip
import os

import ml_collections
import numpy as np
import pytest
from conftest import SHARED_DATA

from experiments.binding import StrandAverage
from experiments.rbp import encode_rna
from pgx_jax.data import alphabets, homology
from pgx_jax.data.augment import with_reverse_complements
from pgx_jax.data.builders import chipseq, dbp, rbp24
from pgx_jax.data.builders._files import find_experiment
from pgx_jax.data.shuffle import dinucleotide_counts
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError
from pgx_jax.models.deepbind import DeepBind

DATA = os.environ.get("PGX_DATA_DIR", SHARED_DATA)


def _needs(folder: str) -> str:
    """The shared folder; its absence fails under CI and skips elsewhere."""
    path = os.path.join(DATA, folder)
    if not os.path.isdir(path):
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data missing under CI: {path}")
        pytest.skip(f"shared data missing: {path}")
    return path


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


CHIPSEQ = {  # SOURCE.md: training positives; every test file is 500 bound + 500 background
    "ARID3A": 8526,
    "CTCFL": 11033,
    "ELK1": 5084,
    "GABPA": 6066,
    "MYC": 4051,
    "REST": 6406,
}


@pytest.mark.parametrize("tf", sorted(CHIPSEQ))
def test_chipseq_counts_and_shuffled_negatives(tf):
    _needs(chipseq.FOLDER)
    splits = chipseq.load(ml_collections.ConfigDict({"experiment": tf}))
    positives = sum(int(splits[s].columns["label"].sum()) for s in ("train", "validation"))
    assert positives == CHIPSEQ[tf]
    for name in ("train", "validation"):
        labels = splits[name].columns["label"]
        assert labels.sum() * 2 == len(labels)
    test = splits["test"].columns["label"]
    assert (len(test), int(test.sum())) == (1000, 500)
    if tf == "GABPA":
        train = splits["train"].columns
        by_id = dict(zip(_text(train["id"]), _text(train["sequence"]), strict=True))
        for name in list(by_id)[:50]:
            if name.endswith("_shuf0"):
                shuffled, original = by_id[name], by_id[name[: -len("_shuf0")]]
                assert dinucleotide_counts(shuffled) == dinucleotide_counts(original)
                assert shuffled != original


def test_experiment_prefixes_resolve_or_fail_clearly(tmp_path):
    directory = _needs(chipseq.FOLDER)
    assert find_experiment(directory, "REST", chipseq.TRAIN_SUFFIX).startswith("REST_GM12878")
    with pytest.raises(PgxError, match="no file NOPE"):
        find_experiment(directory, "NOPE", chipseq.TRAIN_SUFFIX)
    for name in ("AB_x", "AB_y"):
        (tmp_path / f"{name}{chipseq.TRAIN_SUFFIX}").write_bytes(b"")
    with pytest.raises(PgxError, match="several experiments"):
        find_experiment(str(tmp_path), "AB", chipseq.TRAIN_SUFFIX)


def test_bad_seq_row_names_file_and_line(tmp_path):
    path = tmp_path / "X_AC.seq.gz"
    with gzip.open(path, "wt") as f:
        f.write("FoldID\tEventID\tseq\tBound\nA\tseq_1_peak\tACGT\t1\nA\tseq_2_peak\tACGT\tyes\n")
    with pytest.raises(PgxError, match=r"X_AC.seq.gz line 3: Bound is 'yes'"):
        chipseq.read_seq_file(str(path))


RBP24 = {  # SOURCE.md: train +, train -, test +, test -
    "ALKBH5_Baltz2012": (1213, 1197, 134, 132),
    "C17ORF85_Baltz2012": (1860, 1849, 206, 205),
    "C22ORF28_Baltz2012": (9369, 9136, 500, 500),
    "CAPRIN1_Baltz2012": (8140, 7901, 500, 500),
    "CLIPSEQ_ELAVL1": (8595, 8436, 500, 500),
    "PARCLIP_PUM2": (9116, 8227, 500, 500),
}


@pytest.mark.parametrize("experiment", sorted(RBP24))
def test_rbp24_counts(experiment):
    base = os.path.join(_needs(rbp24.FOLDER), experiment)
    counts = []
    for part in ("train", "ls"):
        labels = np.array([r["label"] for r in rbp24.read_experiment(base, part)])
        counts += [int(labels.sum()), int((labels == 0).sum())]
    assert tuple(counts) == RBP24[experiment]


def test_rbp24_splits_keep_every_record():
    _needs(rbp24.FOLDER)
    splits = rbp24.load(ml_collections.ConfigDict({"experiment": "ALKBH5"}))
    assert len(splits["train"]) + len(splits["validation"]) == 1213 + 1197
    assert len(splits["test"]) == 134 + 132
    sequences = _text(splits["test"].columns["sequence"])
    assert any("u" in s.lower() for s in sequences) and any("t" in s.lower() for s in sequences)


def test_rna_encoding_reads_t_as_u_and_case_as_viewpoint():
    records = {
        "id": np.array(["t", "u"]),
        "sequence": np.array(["acgtACGTac", "acguACGUac"]),
        "label": np.array([1, 0]),
    }
    plain = encode_rna(records, length=12, case="ignore")["inputs"]
    np.testing.assert_array_equal(plain["x"][0], plain["x"][1])
    assert plain["x"].shape == (2, 12, 4) and plain["mask"][0].sum() == 10
    np.testing.assert_array_equal(plain["x"][0, 3], [0, 0, 0, 1])
    viewpoint = encode_rna(records, length=12, case="viewpoint")["inputs"]["x"]
    np.testing.assert_array_equal(viewpoint[0, :, 4], [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(viewpoint[..., :4], plain["x"])


def test_dbp_counts_and_nucleotide_entries():
    _needs(dbp.FOLDER)
    with pytest.warns(UserWarning, match=r"left out 7 of 1075 entries .*nucleotide.*1AOII"):
        splits = dbp.load(ml_collections.ConfigDict({}))
    train = np.concatenate([splits[s].columns["label"] for s in ("train", "validation")])
    assert (len(train), int(train.sum())) == (1075 - 7, 525 - 7)
    test = splits["test"].columns["label"]
    assert (len(test), int(test.sum())) == (186, 93)


def test_dbp_leakage_filter_drops_test_chains_from_training():
    _needs(dbp.FOLDER)
    with pytest.warns(UserWarning, match="left out 77 training chains"):
        splits = dbp.load(ml_collections.ConfigDict({"exclude_similar": 1.0}))
    test = set(_text(splits["test"].columns["sequence"]))
    train = _text(np.concatenate([splits[s].columns["sequence"] for s in ("train", "validation")]))
    assert len(train) == 1068 - 77 and not test & set(train)


def test_dbp_homology_filter_leaves_no_test_chain_a_training_homolog():
    _needs(dbp.FOLDER)
    with pytest.warns(UserWarning, match="left out 90 training chains with a pdb186.fasta homolog"):
        splits = dbp.load(ml_collections.ConfigDict({"exclude_homologs": 0.3}))
    train = _text(np.concatenate([splits[s].columns["sequence"] for s in ("train", "validation")]))
    similarity, _ = homology.nearest_references(_text(splits["test"].columns["sequence"]), train)
    assert len(train) == 1068 - 90 and similarity.max() < 0.3


def test_dbp_bad_label_names_file_and_record(tmp_path):
    path = tmp_path / "bad.fasta"
    path.write_text(">1ABCA|1\nMKV\n>2XYZB|3\nMKV\n")
    with pytest.raises(PgxError, match=r"bad.fasta record 2 \(2XYZB\|3\)"):
        dbp.read_labelled_fasta(str(path))


def test_rc_augmentation_adds_reverse_complements():
    source = InMemorySource(
        {"id": np.array([b"a"]), "sequence": np.array([b"AACGT"]), "label": np.array([1])}
    )
    doubled = with_reverse_complements(source, alphabets.DNA).columns
    assert _text(doubled["sequence"]) == ["AACGT", "ACGTT"]
    assert _text(doubled["id"]) == ["a", "a_rc"] and list(doubled["label"]) == [1, 1]


def test_strand_average_scores_both_strands_alike():
    import jax

    x, mask = alphabets.one_hot(["ACGTTGCAAGGCTTACGATCG", "TTTTGGGGCCCCAAAA"], alphabets.DNA, 24)
    model = StrandAverage(DeepBind(num_filters=4, filter_width=5, hidden=8))
    variables = model.init(jax.random.PRNGKey(0), x, mask)
    forward = model.apply(variables, x, mask)
    reverse = model.apply(variables, x[:, ::-1, ::-1], mask[:, ::-1])
    np.testing.assert_allclose(forward, reverse, rtol=1e-5, atol=1e-6)


def test_chipseq_test_negatives_are_dinucleotide_shuffles_of_test_peaks():
    """Why training on dinucleotide shuffles matches the test set (docs/results.md)."""
    directory = _needs(chipseq.FOLDER)
    name = find_experiment(directory, "GABPA", chipseq.TEST_SUFFIX)
    records = chipseq.read_seq_file(os.path.join(directory, name + chipseq.TEST_SUFFIX))

    def key(sequence):
        return tuple(sorted(dinucleotide_counts(sequence).items()))

    peaks = {key(r["sequence"]) for r in records if r["label"] == 1}
    negatives = [r["sequence"] for r in records if r["label"] == 0]
    assert len(negatives) == 500 and all(key(s) in peaks for s in negatives)
