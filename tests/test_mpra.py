"""MPRA saturation mutagenesis (Kircher et al. 2019): loader, windows, VCF, block folds,
baselines and a short training on the block split."""

import gzip
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse

from configs.variants import mpra as mpra_config
from experiments import variants as variants_experiment
from pgx_jax.data import mpra
from pgx_jax.errors import PgxError
from pgx_jax.metrics import significant_sign_auroc
from pgx_jax.models.variant_effect import (
    VariantEffectCNN,
    kmer_differences,
    position_mean_baseline,
    ridge_fit,
)
from pgx_jax.train.loop import fit


@pytest.fixture(scope="module")
def directory() -> str:
    return os.path.join(os.environ["PGX_DATA_DIR"], "satmut_mpra_kircher2019")


@pytest.fixture(scope="module")
def variants(directory) -> dict:
    return mpra.read_variants(directory)


@pytest.fixture(scope="module")
def elements(directory) -> dict:
    return mpra.read_elements(os.path.join(directory, mpra.FASTA_FILE))


def test_counts_match_source_md(variants):
    """44,658 GRCh37 rows minus the 11 NA aggregate rows; alt counts as SOURCE.md lists."""
    assert len(variants["label"]) == 44_658 - 11
    alts, counts = np.unique(variants["alt"], return_counts=True)
    assert dict(zip(alts.tolist(), counts.tolist(), strict=True)) == {
        "A": 10_072,
        "C": 9_580,
        "G": 9_470,
        "T": 10_048,
        "-": 5_477,
    }
    elements, per_element = np.unique(variants["element"], return_counts=True)
    assert len(elements) == 29
    assert dict(zip(elements.tolist(), per_element.tolist(), strict=True))["MSMB"] == 2_026 - 7
    # SOURCE.md says 7,383; the file itself (awk on the GRCh37 rows) has 7,396.
    assert int(np.sum(variants["p_value"] < mpra.SIGNIFICANT_P)) == 7_396


def test_cagi5_counts(directory):
    train, train_left = mpra.read_cagi5(directory, "train")
    test, test_left = mpra.read_cagi5(directory, "test")
    assert len(train["label"]) + train_left["outside_element"] == 4_650
    assert train_left == {"outside_element": 11, "unmeasured": 0}
    assert len(test["label"]) + sum(test_left.values()) == 13_186
    assert test_left == {"outside_element": 23, "unmeasured": 0}
    # F9 chrX:138612669 T>A: effect_size -0.17 in CAGI5, Coefficient -0.179 in elements.tsv
    first = np.flatnonzero((train["pos"] == 138612669) & (train["alt"] == "A"))[0]
    assert train["label"][first] == pytest.approx(-0.17)
    assert train["element"][first] == "F9"


def test_windows_centred_on_the_reference_base(variants, elements):
    rng = np.random.default_rng(0)
    rows = rng.choice(len(variants["label"]), 300, replace=False)
    sample = {k: v[rows] for k, v in variants.items()}
    windows = mpra.add_windows(sample, elements, 41)
    for i in range(len(rows)):
        element = elements[sample["element"][i]]
        offset = int(sample["offset"][i])
        assert sample["pos"][i] == element.start + offset
        reference, alternative = windows["ref_window"][i], windows["alt_window"][i]
        assert len(reference) == len(alternative) == 41
        assert reference[20] == sample["ref"][i] == element.sequence[offset]
        assert reference[:20] == alternative[:20]
        if sample["alt"][i] == "-":
            assert alternative[20:] == mpra.slicer(element.sequence)(offset + 1, offset + 22)
        else:
            assert alternative[20] == sample["alt"][i]
            assert alternative[21:] == reference[21:]


def test_block_folds_partition_blocks(variants):
    blocks = mpra.position_blocks(variants, 30)
    held_out = []
    for fold in range(5):
        train, test = mpra.block_folds(blocks, 5, fold, seed=0)
        assert not set(blocks[train]) & set(blocks[test])
        assert len(train) + len(test) == len(blocks)
        held_out.append(test)
    every = np.concatenate(held_out)
    assert np.array_equal(np.sort(every), np.arange(len(blocks)))
    # the same genomic position in two conditions (LDLR, LDLR.2) shares a block
    ldlr = variants["element"] == "LDLR"
    ldlr2 = variants["element"] == "LDLR.2"
    position = variants["pos"][ldlr][0]
    assert len(set(blocks[(ldlr | ldlr2) & (variants["pos"] == position)])) == 1


def test_write_vcf(directory, variants, elements, tmp_path):
    path = str(tmp_path / "mpra.vcf")
    assert mpra.write_vcf(directory, path) == len(variants["label"])
    with open(path) as handle:
        lines = handle.read().splitlines()
    header = [line for line in lines if line.startswith("##")]
    assert sum(line.startswith("##contig=<ID=") for line in header) == len(elements)
    assert "##contig=<ID=HBB,length=187>" in header
    body = [line.split("\t") for line in lines if not line.startswith("#")]
    assert len(body) == len(variants["label"])
    by_id = {row[2]: row for row in body}
    previous = {}
    for chrom, pos, _, ref, alt, *_ in body:
        sequence = elements[chrom].sequence
        pos = int(pos)
        assert pos >= previous.get(chrom, 0)  # sorted within a contig
        previous[chrom] = pos
        assert sequence[pos - 1 : pos - 1 + len(ref)] == ref
        if len(ref) == 2:  # anchored deletion: ALT is the anchor base (after it at POS 1)
            assert alt == ref[0] or (pos == 1 and alt == ref[1])
        else:
            assert len(ref) == len(alt) == 1 and ref != alt
    row = variants["id"].tolist().index("F9:138612669T>A")
    chrom, pos, _, ref, alt, _, _, info = by_id["F9:138612669T>A"]
    assert (chrom, int(pos), ref, alt) == ("F9", 138612669 - 138612622 + 1, "T", "A")
    fields = dict(item.split("=") for item in info.split(";"))
    assert float(fields["Coefficient"]) == pytest.approx(variants["label"][row], rel=1e-5)
    deletion = next(r for r in body if len(r[3]) == 2 and int(r[1]) > 1)
    assert deletion[4] == deletion[3][0]


def test_bad_row_names_file_and_line(directory, tmp_path):
    """A broken row is one PgxError naming the file and its line."""
    os.symlink(os.path.join(directory, mpra.FASTA_FILE), tmp_path / mpra.FASTA_FILE)
    header = "Chrom\tPos\tRef\tAlt\tBarcodes\tDNA\tRNA\tCoefficient\tpValue\tElement\tRelease\n"
    good = "2\t60722075\tC\tA\t146\t2785\t6772\t-0.05\t0.39\tBCL11A\tGRCh37\n"
    for bad, message in [
        ("2\t60722075\tG\tA\t1\t1\t1\t0.1\t0.5\tBCL11A\tGRCh37\n", "Ref G but BCL11A holds C"),
        ("2\t60722075\tC\tA\t1\t1\t1\tx\t0.5\tBCL11A\tGRCh37\n", "Coefficient 'x' is not"),
        ("2\t60722075\tC\tA\t1\t1\t1\t0.1\t0.5\tNOPE\tGRCh37\n", "element 'NOPE' is not"),
    ]:
        with gzip.open(tmp_path / mpra.ELEMENTS_FILE, "wt") as handle:
            handle.write(header + good + bad)
        with pytest.raises(PgxError, match=rf"elements.tsv.gz line 3: {message}"):
            mpra.read_variants(str(tmp_path))


def test_position_mean_baseline_known_answer():
    prediction = position_mean_baseline(
        np.array(["a", "a", "a", "b"]),
        np.array([0, 0, 1, 0]),
        np.array([1.0, 3.0, 5.0, 10.0]),
        np.array(["a", "a", "a", "b", "c"]),
        np.array([0, 1, 2, 5, 0]),
    )
    # (a, 0): mean of 1 and 3; (a, 1): 5; (a, 2): element a's mean; (b, 5): element b's mean;
    # (c, 0): no such element, the global mean.
    np.testing.assert_allclose(prediction, [2.0, 5.0, 3.0, 10.0, 19.0 / 4])


def test_kmer_differences_known_answer():
    features = kmer_differences(np.array(["AAC"]), np.array(["AGC"]), (1, 2)).toarray()[0]
    expected = np.zeros(4 + 16)
    expected[[0, 2]] = [-1, 1]  # A -> G at the centre
    expected[4 + np.array([0, 1, 2, 9])] = [-1, -1, 1, 1]  # AA, AC lost; AG, GC gained
    np.testing.assert_array_equal(features, expected)


def test_ridge_matches_lstsq():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 8))
    targets = features @ rng.normal(size=8) + rng.normal(size=60)
    alpha = 3.0
    augmented = np.vstack([features, np.sqrt(alpha) * np.eye(8)])
    expected = np.linalg.lstsq(augmented, np.r_[targets, np.zeros(8)], rcond=None)[0]
    np.testing.assert_allclose(ridge_fit(features, targets, alpha), expected, rtol=1e-10)
    sparse = ridge_fit(scipy.sparse.csr_matrix(features), targets, alpha)
    np.testing.assert_allclose(sparse, expected, rtol=1e-10)


def test_significant_sign_auroc():
    effect = np.array([1.0, 2.0, -1.0, -2.0, 3.0, -3.0])
    p_value = np.array([1e-9, 1e-9, 1e-9, 1e-9, 0.5, 0.5])  # the last two are not significant
    score = np.array([0.9, 0.1, 0.5, 0.0, -5.0, 5.0])
    # positives {0.9, 0.1} vs negatives {0.5, 0.0}: 3 of 4 pairs ordered
    assert significant_sign_auroc(effect, score, p_value, 1e-5) == pytest.approx(0.75)


@pytest.mark.slow
def test_short_training_beats_the_position_mean_on_held_out_blocks(tmp_path):
    """A small CNN trained briefly (300 steps) on three experiments' variants predicts the
    effects of held-out position blocks better than the position-mean baseline (which, with
    whole positions held out, falls back to each element's mean)."""
    config = mpra_config.get_config("split=blocks")
    config.data.elements = ("LDLR", "LDLR.2", "SORT1")
    config.data.batch_size = 64
    config.train.num_steps = 300
    config.optimizer.warmup_steps = 30
    config.model.num_filters = 64
    results = fit(config, variants_experiment.build(config), str(tmp_path))
    # measured on this CPU: CNN 0.146, position mean 0.038 (k-mer ridge 0.279: a 300-step CNN
    # on 2,200 training variants does not reach it; the full runs are in docs/results.md)
    assert results["test/pearson"] > 0.1, results
    assert results["test/pearson"] > results["test/baseline_position_mean/pearson"] + 0.05, results


def test_antisymmetric_model_negates_when_the_alleles_swap():
    model = VariantEffectCNN(
        num_filters=8, kernel_size=5, center=9, num_elements=3, antisymmetric=True
    )
    ids = jax.random.randint(jax.random.key(0), (4, 21), 0, 4)
    ref = jax.nn.one_hot(ids, 4)
    alt = ref.at[:, 10].set(jax.nn.one_hot((ids[:, 10] + 1) % 4, 4))
    element = jnp.array([0, 1, 2, 0])
    variables = model.init(jax.random.key(1), ref, alt, element)
    offset = variables["params"]["element_offset"][element]
    forward = model.apply(variables, ref, alt, element) - offset
    backward = model.apply(variables, alt, ref, element) - offset
    np.testing.assert_allclose(forward, -backward, atol=1e-6)
    assert np.all(np.abs(forward) > 0)
