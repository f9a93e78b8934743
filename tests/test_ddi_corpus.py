"""DDI-2013 reader and preprocessing: counts against SOURCE.md, blinding, positions, filtering."""

import io
import os
import tarfile
from collections import Counter

import numpy as np
import pytest
from conftest import SHARED_DATA

from experiments.ddi import crop_window, encode_pairs, relative_positions
from pgx_jax.data import ddi_corpus
from pgx_jax.data.vocab import Vocabulary
from pgx_jax.errors import PgxError

DDI_DIR = os.path.join(os.environ.get("PGX_DATA_DIR", SHARED_DATA), "ddi2013")


def ddi_directory() -> str:
    """The shared DDI-2013 folder; its absence fails under CI and skips elsewhere."""
    if not os.path.isfile(os.path.join(DDI_DIR, ddi_corpus.ARCHIVE)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"DDI-2013 data missing under CI: {DDI_DIR}")
        pytest.skip(f"DDI-2013 data not found: {DDI_DIR}")
    return DDI_DIR


SENTENCE = "Aspirin may increase the effect of warfarin (Coumadin) and beta- and alpha-blockers."


def document(pairs: str, entities: str | None = None) -> str:
    entities = entities or (
        '<entity id="d0.s0.e0" charOffset="0-6" type="drug" text="Aspirin"/>'
        '<entity id="d0.s0.e1" charOffset="35-42" type="drug" text="warfarin"/>'
        '<entity id="d0.s0.e2" charOffset="45-52" type="brand" text="Coumadin"/>'
        '<entity id="d0.s0.e3" charOffset="59-62;75-82" type="group" text="beta-blockers"/>'
        '<entity id="d0.s0.e4" charOffset="69-82" type="group" text="alpha-blockers"/>'
    )
    return (
        f'<document id="DDI-DrugBank.d0"><sentence id="d0.s0" text="{SENTENCE}">'
        f"{entities}{pairs}</sentence></document>"
    )


def pair(pid: str, e1: str, e2: str, ddi: str = "false", kind: str | None = None) -> str:
    extra = f' type="{kind}"' if kind else ""
    return f'<pair id="{pid}" e1="d0.s0.{e1}" e2="d0.s0.{e2}" ddi="{ddi}"{extra}/>'


def test_counts_per_split_and_class_match_source_md():
    directory = ddi_directory()
    expected = {
        "train": {"negative": 23771, "mechanism": 1319, "effect": 1687, "advise": 826, "int": 188},
        "test": {"negative": 4737, "mechanism": 302, "effect": 360, "advise": 221, "int": 96},
    }
    by_source = {
        "train": {
            ("DrugBank", True): 3789,
            ("DrugBank", False): 22216,
            ("MedLine", True): 232,
            ("MedLine", False): 1555,
        },
        "test": {
            ("DrugBank", True): 884,
            ("DrugBank", False): 4381,
            ("MedLine", True): 95,
            ("MedLine", False): 356,
        },
    }
    for split in ("train", "test"):
        pairs, skipped = ddi_corpus.read_corpus(directory, split, untyped="int")
        labels = Counter(p.label for p in pairs)
        truth = dict(expected[split])
        if split == "train":
            truth["int"] += 1  # the one untyped positive, DDI-DrugBank.d236.s29, mapped to int
        assert labels == truth
        assert Counter((p.source, p.label != "negative") for p in pairs) == by_source[split]
        assert not skipped
    dropped, skipped = ddi_corpus.read_corpus(directory, "train", untyped="drop")
    assert len(dropped) == 27791 and skipped == {"untyped_positive": 1}


def test_blinding_positions_and_discontinuous_mentions():
    xml = document(pair("d0.s0.p0", "e0", "e1", "true", "effect") + pair("d0.s0.p1", "e1", "e3"))
    pairs, _ = ddi_corpus.parse_document(xml, "hand.xml")
    first = ddi_corpus.preprocess(pairs[0])
    assert first.tokens == (
        "DRUG1", "may", "increase", "the", "effect", "of", "DRUG2", "(", "DRUGOTHER", ")",
        "and", "DRUGOTHER", "-", "and", "DRUGOTHER", ".",
    )  # fmt: skip
    assert (first.e1_index, first.e2_index, first.label) == (0, 6, "effect")
    # beta-blockers is "beta" + "blockers", the latter inside alpha-blockers: the target's
    # own fragments win over the other mention, one placeholder per fragment.
    second = ddi_corpus.preprocess(pairs[1])
    assert second.tokens[6:] == ("DRUG1", "(", "DRUGOTHER", ")", "and", "DRUG2", "-", "and",
                                 "DRUGOTHER", "DRUG2", ".")  # fmt: skip
    assert (second.e1_index, second.e2_index) == (6, 11)
    assert list(relative_positions(5, 2, 1)) == [1, 1, 2, 3, 3]
    batch = encode_pairs(
        {"tokens": np.array([" ".join(first.tokens)]), "e1_index": np.array([0]),
         "e2_index": np.array([6]), "label": np.array([2])},
        vocabulary=Vocabulary(["DRUG1", "DRUG2", "may"]), max_length=32, bucket=8,
        max_distance=3,
    )  # fmt: skip
    inputs = batch["inputs"]
    assert inputs["tokens"].shape == (1, 16) and inputs["mask"].sum() == 16
    assert list(inputs["tokens"][0, :4]) == [2, 4, 1, 1]  # DRUG1, may, unknown, unknown
    assert list(inputs["pos1"][0, :5]) == [4, 5, 6, 7, 7]  # distance 0..3, clipped at 3
    assert list(inputs["pos2"][0, :8]) == [1, 1, 1, 1, 2, 3, 4, 5]
    assert inputs["pos1"][0, 15] == 7 and batch["label"][0] == 2


def test_crop_keeps_both_targets():
    assert crop_window(50, 3, 10, 64) == 0
    start = crop_window(300, 150, 200, 100)
    assert start <= 150 and start + 100 > 200
    assert crop_window(300, 290, 295, 100) == 200


def test_lowercase_and_numbers():
    assert ddi_corpus.normalise("Warfarin") == "warfarin"
    assert [ddi_corpus.normalise(t) for t in ("25", "0.5", "1,000", "10mg", "5%")] == ["NUM"] * 5
    assert ddi_corpus.normalise("DRUG1") == "DRUG1"
    assert ddi_corpus.normalise("Warfarin", lowercase=False) == "Warfarin"


def test_filter_rules_on_hand_written_pairs():
    xml = document(
        pair("p0", "e1", "e2")  # warfarin (Coumadin): abbreviation / alias
        + pair("p1", "e0", "e1")  # no rule
        + pair("p2", "e2", "e4")  # Coumadin ) and beta- and alpha-blockers: not a plain list
    )
    pairs, _ = ddi_corpus.parse_document(xml, "hand.xml")
    rules = [ddi_corpus.preprocess(p).filter_rule for p in pairs]
    assert rules == ["abbreviation", "", ""]
    listing = "Aspirin, warfarin, and heparin."
    entities = (
        '<entity id="d0.s0.e0" charOffset="0-6" type="drug" text="Aspirin"/>'
        '<entity id="d0.s0.e1" charOffset="9-16" type="drug" text="warfarin"/>'
        '<entity id="d0.s0.e2" charOffset="23-29" type="drug" text="heparin"/>'
    )
    xml = document(pair("p0", "e0", "e2") + pair("p1", "e0", "e1"), entities)
    xml = xml.replace(SENTENCE, listing)
    pairs, _ = ddi_corpus.parse_document(xml, "list.xml")
    assert [ddi_corpus.preprocess(p).filter_rule for p in pairs] == ["coordinate", "coordinate"]
    same = document(
        pair("p0", "e0", "e1"),
        '<entity id="d0.s0.e0" charOffset="0-6" type="drug" text="Aspirin"/>'
        '<entity id="d0.s0.e1" charOffset="35-42" type="drug" text="aspirin"/>',
    )
    pairs, _ = ddi_corpus.parse_document(same, "same.xml")
    assert ddi_corpus.preprocess(pairs[0]).filter_rule == "same_name"


def test_bad_input_names_file_and_record(tmp_path):
    with pytest.raises(PgxError, match=r"bad\.xml: malformed XML"):
        ddi_corpus.parse_document(b"<document><sentence", "bad.xml")
    outside = document(
        pair("p0", "e0", "e1"),
        '<entity id="d0.s0.e0" charOffset="0-6" type="drug" text="Aspirin"/>'
        '<entity id="d0.s0.e1" charOffset="80-99" type="drug" text="x"/>',
    )
    with pytest.raises(PgxError, match=r"off\.xml: entity d0\.s0\.e1: .*outside its sentence"):
        ddi_corpus.parse_document(outside, "off.xml")
    untyped = document(pair("p0", "e0", "e1", "true"))
    with pytest.raises(PgxError, match=r"u\.xml: pair p0: ddi='true' without a type"):
        ddi_corpus.parse_document(untyped, "u.xml", untyped="error")
    archive = tmp_path / ddi_corpus.ARCHIVE
    with tarfile.open(archive, "w:gz") as tar:
        data = b"<document><sentence"
        info = tarfile.TarInfo("DDICorpus/Train/DrugBank/broken.xml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(PgxError, match=r"DDICorpus/Train/DrugBank/broken\.xml: malformed XML"):
        ddi_corpus.read_corpus(str(tmp_path), "train")


def test_predict_input_marks():
    marked_pairs = ddi_corpus.marked_pairs
    pairs = marked_pairs("[[Aspirin]] and [[warfarin]] with [[heparin]].", 4, "in.txt")
    assert [(p.e1.text, p.e2.text) for p in pairs] == [
        ("Aspirin", "warfarin"),
        ("Aspirin", "heparin"),
        ("warfarin", "heparin"),
    ]
    first = ddi_corpus.preprocess(pairs[1])
    assert first.tokens == ("DRUG1", "and", "DRUGOTHER", "with", "DRUG2", ".")
    assert marked_pairs("only [[one]] drug", 1, "in.txt") == []
    with pytest.raises(PgxError, match=r"in\.txt: line 2: unbalanced"):
        marked_pairs("[[Aspirin and warfarin", 2, "in.txt")
