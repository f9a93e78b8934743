"""The RNA structure cache: ViennaRNA's own folds, context letters by hand, folded once."""

import RNA

from pgx_jax.data import rna_structure

SEQUENCES = [
    "GGGGAAAACCCCAUAUGGGGAAAACCCC",
    "acgtGGGAAAUCCCaaaGGGCUUAGCCCguuu",
    "AUAUAUAUAU",
]


def test_contexts_by_hand():
    # 5' end, stem, internal loop (a bulge), stem, hairpin, stem, 3' end
    assert rna_structure.contexts("..((.((...))))..") == "FFSSISSHHHSSSSTT"
    # two hairpins in the exterior loop; a multiloop closed by the outer pair
    assert rna_structure.contexts("(..)..(..)") == "SHHSMMSHHS"
    assert rna_structure.contexts("((..).(..))") == "SSHHSMSHHSS"
    assert rna_structure.contexts("....") == "FFFF"


def test_cache_folds_once_and_matches_rna_fold(tmp_path, monkeypatch):
    path = str(tmp_path / "rna_structure" / "test.tsv")
    first = rna_structure.StructureCache(path).structures(SEQUENCES)
    expected = [RNA.fold(s.upper().replace("T", "U"))[0] for s in SEQUENCES]
    assert first == expected
    assert len((tmp_path / "rna_structure" / "test.tsv").read_text().splitlines()) == 3

    def no_folding(sequence):
        raise AssertionError(f"folded {sequence} again")

    monkeypatch.setattr(rna_structure, "fold", no_folding)
    cache = rna_structure.StructureCache(path)  # a new run reads the file
    assert cache.structures(SEQUENCES[::-1]) == expected[::-1]
    # the T/U and case spelling of a sequence is the same key
    assert cache.structures([SEQUENCES[0].lower()]) == expected[:1]
    x = cache.contexts(SEQUENCES[2:], 12)
    assert x.shape == (1, 12, 6) and x[0, :10].sum() == 10 and not x[0, 10:].any()


def test_one_hot_contexts():
    x = rna_structure.one_hot_contexts(["FSH", "T"], 4)
    assert x.shape == (2, 4, 6)
    assert x.sum() == 4 and x[0, 1, rna_structure.CONTEXTS.index("S")] == 1
    assert not x[1, 1:].any()


def test_rbp_encoder_reads_the_structure(tmp_path):
    from experiments import rbp

    cache = rna_structure.StructureCache(str(tmp_path / "s.tsv"))
    records = {"id": ["a", "b"], "sequence": SEQUENCES[:2], "label": [1, 0]}
    inputs = rbp.encode_rna(records, length=40, case="ignore", structure=cache)["inputs"]
    assert inputs["structure"].shape == (2, 40, 6)
    letters = rna_structure.contexts(RNA.fold(SEQUENCES[0])[0])
    got = "".join(rna_structure.CONTEXTS[i] for i in inputs["structure"][0, :28].argmax(-1))
    assert got == letters and not inputs["structure"][0, 28:].any()
