"""`pgx score-variants` on a FASTA and VCF built here around a planted CTCF site, scored by a
small RC-shared DeepBind run trained on the planted motif: the site-destroying variant scores
lower than one outside it, REF mismatches and unknown contigs are reported (count, file and
line) and not scored, a malformed VCF is one error line, and an RC-shared model scores a
window and its reverse complement alike. Also: the MPRA elements as a VCF match their FASTA,
and `pgx mutagenesis` on the same run finds the planted site."""

import contextlib
import csv
import gzip
import io
import os
import stat
from pathlib import Path

import numpy as np
import pysam
import pytest
from conftest import run_pgx
from PIL import Image

from pgx_jax.cli import main as pgx
from pgx_jax.data import mpra
from pgx_jax.data.alphabets import DNA, reverse_complement
from pgx_jax.data.jaspar import jaspar_pfm
from pgx_jax.errors import PgxError
from pgx_jax.variants.vcf import Reference, read_vcf

pytestmark = pytest.mark.slow

SITE = 200
"""0-based start of the planted CTCF consensus in contig `chr1`."""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> str:
    """RC-shared DeepBind on the planted CTCF motif: 3000 sequences, 300 steps of 128."""
    workdir = str(tmp_path_factory.mktemp("variants") / "run")
    run_pgx(
        ["train", "--config=configs/binding/deepbind.py:rc=True",
         "--config.data.num_examples=3000", "--config.data.batch_size=128",
         "--config.train.num_steps=300", f"--workdir={workdir}"]
    )  # fmt: skip
    return workdir


def _other(bases: str) -> str:
    """Each base replaced by the next of ACGT: a substitution of every base."""
    return "".join("ACGT"[("ACGT".index(b) + 1) % 4] for b in bases)


def _consensus() -> tuple[str, int, str]:
    """CTCF's consensus, its most informative position and that position's rarest letter."""
    pfm = jaspar_pfm("MA0139")
    consensus = "".join("ACGT"[i] for i in pfm.argmax(axis=1))
    position = int(pfm.max(axis=1).argmax())
    return consensus, position, "ACGT"[int(pfm[position].argmin())]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """chr1: 400 random bases with the CTCF consensus at SITE; a VCF of planted effects."""
    rng = np.random.default_rng(7)
    consensus, core, rare = _consensus()
    contig = "".join(rng.choice(list("ACGT"), 400))
    contig = contig[:SITE] + consensus + contig[SITE + len(consensus) :]
    directory = tmp_path_factory.mktemp("variant_files")
    fasta = str(directory / "ref.fa")
    with open(fasta, "w") as f:
        f.write(">chr1 planted\n" + "\n".join(contig[i : i + 60] for i in range(0, 400, 60)) + "\n")
    p = SITE + core  # 0-based position of the motif's most informative base
    far = 60
    other = "A" if contig[far] != "A" else "C"
    wrong = next(b for b in "ACGT" if b != contig[300])
    records = [
        ("chr1", p + 1, "destroy", contig[p], rare),
        ("chr1", p, "deletion", contig[p - 1 : p + 1], contig[p - 1]),
        ("chr1", far + 1, "outside", contig[far], other),
        ("chr1", 301, "mismatch", wrong, contig[300]),
        ("chrX", 10, "nocontig", "A", "G"),
        ("chr1", far + 11, "insertion", contig[far + 10], contig[far + 10] + "TT"),
        ("chr1", p, "insert_in_site", contig[p - 1], contig[p - 1] + "AAAAAA"),
        ("chr1", p + 1, "mnv_in_site", contig[p : p + 2], rare + rare),
        ("chr1", far + 21, "mnv", contig[far + 20 : far + 22], _other(contig[far + 20 : far + 22])),
        (
            "chr1",
            far + 31,
            "complex",
            contig[far + 30 : far + 33],
            _other(contig[far + 30 : far + 33 : 2]),
        ),
        ("chr1", far + 41, "symbolic_del", contig[far + 40], "<DEL>"),
        ("chr1", far + 51, "star", contig[far + 50], "*"),
        ("chr1", far + 61, "n_alt", contig[far + 60], "N"),
        ("chr1", far + 71, "no_alt", contig[far + 70], "."),
    ]
    vcf = str(directory / "variants.vcf")
    with open(vcf, "w") as f:
        f.write("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=400>\n")
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, pos, name, ref, alt in records:
            f.write(f"{chrom}\t{pos}\t{name}\t{ref}\t{alt}\t.\t.\t.\n")
    return {"fasta": fasta, "vcf": vcf, "contig": contig, "dir": directory}


def _read_tsv(path: str) -> dict[str, dict]:
    with open(path) as f:
        return {row["id"]: row for row in csv.DictReader(f, delimiter="\t")}


@pytest.fixture(scope="module")
def scored(run, files) -> tuple[dict, str]:
    """The TSV rows by id and the command's stderr."""
    out = str(files["dir"] / "scores.tsv")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = pgx(
            ["score-variants", f"--workdir={run}", f"--fasta={files['fasta']}",
             f"--vcf={files['vcf']}", f"--output={out}", f"--vcf_output={out}.vcf",
             "--batch_size=4"]
        )  # fmt: skip
    assert code == 0, stderr.getvalue()
    return _read_tsv(out), stderr.getvalue()


def test_destroying_the_planted_site_scores_lower_than_a_variant_outside_it(scored):
    rows, _ = scored
    diff = {k: float(rows[k]["diff"]) for k in ("destroy", "deletion", "outside")}
    log_odds = {k: float(rows[k]["log_odds_change"]) for k in diff}
    assert float(rows["destroy"]["ref_score"]) > 0.5  # the window holds the planted site
    assert diff["destroy"] < diff["outside"] and diff["deletion"] < diff["outside"]
    assert log_odds["destroy"] < -1.0 and log_odds["deletion"] < -1.0
    assert abs(log_odds["outside"]) < 0.5
    for key in ("destroy", "deletion", "outside"):
        row = rows[key]
        assert float(row["diff"]) == pytest.approx(
            float(row["alt_score"]) - float(row["ref_score"]), abs=2e-6
        )
        ref, alt = float(row["ref_score"]), float(row["alt_score"])
        expected = np.log(alt / (1 - alt)) - np.log(ref / (1 - ref))
        rounding = 1e-6 / min(ref * (1 - ref), alt * (1 - alt))  # 6 digits in the TSV
        assert float(row["log_odds_change"]) == pytest.approx(expected, abs=1e-3 + rounding)


def test_ref_mismatch_and_unknown_contig_are_reported_and_not_scored(scored, files):
    rows, stderr = scored
    assert rows["mismatch"]["status"] == "ref_mismatch" and rows["mismatch"]["diff"] == ""
    assert rows["nocontig"]["status"] == "unknown_contig" and rows["nocontig"]["diff"] == ""
    assert "1 ref_mismatch" in stderr and "8 scored" in stderr
    assert f"{files['vcf']} line 7: chr1:301" in stderr  # 3 header lines, 4th record
    assert f"{files['vcf']} line 8: chrX:10" in stderr


def test_every_kind_is_scored_or_listed_with_its_reason(scored, files):
    rows, stderr = scored
    kinds = {k: rows[k]["kind"] for k in ("destroy", "deletion", "insertion", "mnv", "complex")}
    assert kinds == {
        "destroy": "snv",
        "deletion": "deletion",
        "insertion": "insertion",
        "mnv": "mnv",
        "complex": "complex",
    }
    for key in ("insertion", "insert_in_site", "mnv_in_site", "mnv", "complex"):
        assert rows[key]["status"] == "scored" and rows[key]["diff"] != ""
    for key in ("insert_in_site", "mnv_in_site"):  # both break the planted site
        assert float(rows[key]["log_odds_change"]) < -1.0
    far = float(rows["insertion"]["log_odds_change"])
    assert all(
        float(rows[k]["log_odds_change"]) < far - 1.0 for k in ("insert_in_site", "mnv_in_site")
    )
    statuses = {k: rows[k]["status"] for k in ("symbolic_del", "star", "n_alt", "no_alt")}
    assert statuses == {
        "symbolic_del": "symbolic",
        "star": "symbolic",
        "n_alt": "ambiguous",
        "no_alt": "symbolic",
    }
    assert f"{files['vcf']} line 16: chr1:{60 + 61} " in stderr  # the N allele, listed


def test_each_kind_scores_its_hand_built_windows(run, scored, files):
    """The insertion's and the MNV's scores are the model's on windows cut here by hand."""
    from pgx_jax.runs import load_run
    from pgx_jax.variants.scoring import model_input_length, predictions, window_outputs

    rows, _ = scored
    loaded = load_run(run)
    length = model_input_length(loaded)
    contig, p, half = files["contig"], 71, length // 2  # the insertion goes before base 71
    insertion = (contig[p - half + 1 : p] + "TT" + contig[p:])[:length]
    mnv = contig[80 - half + 1 : 80] + _other(contig[80:82]) + contig[82:]
    windows = [insertion, mnv[:length]]
    assert all(len(w) == length for w in windows)
    outputs = window_outputs(loaded, windows, ["ins", "mnv"], 4)
    expected = predictions(loaded.predictor.task, outputs)
    for key, value in zip(("insertion", "mnv"), expected, strict=True):
        assert float(rows[key]["alt_score"]) == pytest.approx(float(value), abs=2e-6)


def test_vcf_output_declares_and_carries_the_scores(scored, files):
    rows, _ = scored
    with pysam.VariantFile(str(files["dir"] / "scores.tsv.vcf")) as vcf:
        assert {"PGX_REF", "PGX_ALT", "PGX_DIFF", "PGX_LOGODDS", "PGX_STATUS"} <= set(
            vcf.header.info
        )
        for record in vcf:
            if record.alts is None:  # ALT `.`: copied as it is, listed in the TSV
                assert rows[record.id]["status"] == "symbolic"
                continue
            assert record.info["PGX_STATUS"] == (rows[record.id]["status"],)
            if rows[record.id]["status"] == "scored":
                assert record.info["PGX_DIFF"][0] == pytest.approx(
                    float(rows[record.id]["diff"]), rel=1e-4
                )


def test_strict_fails_on_a_ref_mismatch(run, files, tmp_path, capsys):
    out = str(tmp_path / "strict.tsv")
    args = [f"--workdir={run}", f"--fasta={files['fasta']}", f"--vcf={files['vcf']}"]
    assert pgx(["score-variants", *args, f"--output={out}", "--strict"]) == 1
    assert "REF mismatch or unknown contig (--strict)" in capsys.readouterr().err
    assert os.path.isfile(out)  # the table is written before the failure


def test_all_mismatching_is_an_error(run, files, tmp_path, capsys):
    vcf = str(tmp_path / "wrong.vcf")
    with open(vcf, "w") as f:
        f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        base = files["contig"][10]
        wrong = next(b for b in "ACGT" if b != base)
        f.write(f"chr1\t11\tw\t{wrong}\t{base}\t.\t.\t.\n")
    args = [f"--workdir={run}", f"--fasta={files['fasta']}", f"--vcf={vcf}"]
    assert pgx(["score-variants", *args, f"--output={tmp_path / 'o.tsv'}"]) == 1
    err = capsys.readouterr().err
    assert "no variant could be scored" in err and f"{vcf} line 3: chr1:11" in err


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        ("chr1\t5x\tv\tA\tG\t.\t.\t.\n", 3, "POS '5x' is not a positive whole number"),
        (
            "chr1\t5\tv\tA\tG\t.\t.\t.\nchr1\t9\tv2\tA\n",
            4,
            "4 tab-separated columns, a record needs 8 (CHROM to INFO)",
        ),
    ],
)
def test_malformed_vcf_is_one_error_naming_file_and_line(
    files, tmp_path, capsys, body, line, problem
):
    vcf = str(tmp_path / "bad.vcf")
    with open(vcf, "w") as f:
        f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body)
    with pytest.raises(PgxError) as caught:
        list(read_vcf(vcf))
    assert (
        str(caught.value)
        == f"{vcf} line {line} (record {line - 2}): malformed VCF record ({problem})"
    )
    args = ["--workdir=unused", f"--fasta={files['fasta']}", f"--vcf={vcf}", "--output=o.tsv"]
    assert pgx(["score-variants", *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{vcf} line {line}" in err[0]


def test_rc_shared_model_scores_a_window_and_its_reverse_complement_alike(run, files):
    from pgx_jax.runs import load_run
    from pgx_jax.variants.scoring import window_outputs

    restored = load_run(run)
    contig = files["contig"]
    windows = [contig[start : start + 101] for start in (0, 150, 160, 299)]
    flipped = reverse_complement(windows, DNA)
    ids = [str(i) for i in range(len(windows))]
    forward = window_outputs(restored, windows, ids, 4)
    np.testing.assert_allclose(window_outputs(restored, flipped, ids, 4), forward, atol=1e-5)
    averaged = window_outputs(restored, windows, ids, 3, average_strands=True)
    np.testing.assert_allclose(averaged, forward, atol=1e-5)


def test_read_only_fasta_directory_gets_a_temporary_index(files, tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    fasta = directory / "ref.fa"
    fasta.write_text(Path(files["fasta"]).read_text())
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with Reference(str(fasta)) as reference:
            assert reference.lengths == {"chr1": 400}
            assert reference.fetch("chr1")(-2, 3) == "NN" + files["contig"][:3]
            assert reference.fetch("chr2") is None
        assert os.listdir(directory) == ["ref.fa"]
    finally:
        directory.chmod(stat.S_IRWXU)


def test_mpra_elements_vcf_matches_the_element_fasta(tmp_path):
    """Every GRCh37 MPRA variant (SNVs and 1-bp deletions) lands on its element's REF."""
    from pgx_jax.variants.scoring import plan

    data = os.path.join(os.environ["PGX_DATA_DIR"], "satmut_mpra_kircher2019")
    fasta = os.path.join(data, "element_reference_GRCh37_from_Ref_column.fa")
    vcf = str(tmp_path / "mpra.vcf")
    assert mpra.write_vcf(data, vcf) == 44647
    with Reference(fasta) as reference:
        rows = plan(list(read_vcf(vcf)), reference, 101)
    assert {row.status for row in rows} == {"scored"}
    deletions = [row for row in rows if len(row.record.ref) == 2]
    assert len(deletions) == 5477
    assert all(len(row.windows[0]) == len(row.windows[1]) == 101 for row in rows[:100])


def test_mutagenesis_command_finds_the_planted_site(run, files, tmp_path):
    """The most damaging substitutions of a window around the site fall inside the site."""
    consensus, _, _ = _consensus()
    start = SITE - 40
    fasta = tmp_path / "site.fa"
    fasta.write_text(f">site planted\n{files['contig'][start : start + 101]}\n>other\nACGT\n")
    out = str(tmp_path / "out")
    args = [f"--workdir={run}", f"--fasta={fasta}", f"--outdir={out}"]
    assert pgx(["mutagenesis", *args, "--record=site", "--steps=32"]) == 0
    saved = np.load(os.path.join(out, "site.npz"))
    assert saved["ism"].shape == saved["grad_x_input"].shape == (101, 4)
    assert saved["integrated_gradients"].shape == (101, 4)
    assert np.all(saved["ism"][saved["x"] == 1] == 0.0)
    worst = np.argsort(saved["ism"].min(axis=1))[:5]
    assert np.all((worst >= 40) & (worst < 40 + len(consensus))), worst
    with open(os.path.join(out, "site_ism.tsv")) as f:
        assert f.readline().split() == ["position", "ref", "A", "C", "G", "T"]
        assert len(f.readlines()) == 101
    for suffix in ("ism", "ism_logo", "grad_x_input", "integrated_gradients"):
        with Image.open(os.path.join(out, f"site_{suffix}.png")) as image:
            image.verify()
    assert not os.path.exists(os.path.join(out, "other.npz"))
    assert pgx(["mutagenesis", *args, "--record=nope"]) == 1


def test_multi_output_rows_get_one_column_set_per_output(files, tmp_path):
    """Two-output (multi-label) scores: `_0`/`_1` TSV columns and `PGX_*_<k>` INFO fields."""
    from pgx_jax.variants.scoring import AlleleRow, write_tsv, write_vcf

    records = list(read_vcf(files["vcf"]))
    rows = [AlleleRow(r, alt, "insertion", "not scored") for r in records for alt in r.alts]
    logits = {"ref": np.array([0.0, 1.0]), "alt": np.array([1.0, -1.0])}
    rows[0].status, rows[0].detail = "scored", ""
    rows[0].ref_score, rows[0].alt_score = (1 / (1 + np.exp(-v)) for v in logits.values())
    rows[0].log_odds_change = logits["alt"] - logits["ref"]
    out = str(tmp_path / "multi.tsv")
    write_tsv(rows, "multilabel", out)
    first = _read_tsv(out)["destroy"]
    assert [first[f"log_odds_change_{k}"] for k in (0, 1)] == ["1", "-2"]
    assert float(first["diff_1"]) == pytest.approx(1 / (1 + np.exp(1)) - 1 / (1 + np.exp(-1)))
    assert _read_tsv(out)["outside"]["diff_0"] == ""
    write_vcf(rows, "multilabel", files["vcf"], out + ".vcf")
    with pysam.VariantFile(out + ".vcf") as vcf:
        assert {"PGX_DIFF_0", "PGX_DIFF_1", "PGX_LOGODDS_1"} <= set(vcf.header.info)
        record = next(iter(vcf))
        assert record.info["PGX_LOGODDS_1"][0] == pytest.approx(-2.0)


def test_bgzip_vcf_is_read_and_plain_gzip_is_a_clear_error(files, tmp_path):
    bgzipped = str(tmp_path / "v.vcf.gz")
    pysam.tabix_compress(files["vcf"], bgzipped)
    assert [r.id for r in read_vcf(bgzipped)] == [r.id for r in read_vcf(files["vcf"])]
    assert next(iter(read_vcf(bgzipped))).line == 4
    plain = tmp_path / "plain.vcf.gz"
    plain.write_bytes(gzip.compress(Path(files["vcf"]).read_bytes()))
    with pytest.raises(PgxError, match="gzip-compressed but not bgzip"):
        list(read_vcf(str(plain)))


def test_strand_averaging_run_scores_the_mean_of_both_strands():
    """A `data.rc_average` run (StrandAverage around DeepBind) and `--average_strands` on the
    bare model both give the mean logit of a window and its reverse complement."""
    import functools

    import jax
    import ml_collections
    import optax

    from experiments.binding import StrandAverage, encode_nucleotides
    from pgx_jax.experiment import Predictor
    from pgx_jax.models import create_model
    from pgx_jax.runs import Run
    from pgx_jax.train.state import create_train_state
    from pgx_jax.variants.scoring import window_outputs

    bare = create_model("deepbind", num_filters=8, filter_width=9, hidden=16)
    x = np.zeros((1, 101, 4), np.float32)
    variables = bare.init(jax.random.key(0), x)
    encode = functools.partial(encode_nucleotides, alphabet=DNA, length=101, unknown="uniform")
    config = ml_collections.ConfigDict({"data": {"batch_size": 2}})

    def run(model):
        wrapped = {"model": variables["params"]}  # StrandAverage's submodule
        params = wrapped if isinstance(model, StrandAverage) else variables["params"]
        state = create_train_state(model, optax.identity(), {"x": x}, 0).replace(params=params)
        return Run("run", config, Predictor(model, "binary", encode, ()), state, 0, "latest")

    rng = np.random.default_rng(3)
    windows = ["".join(rng.choice(list("ACGT"), 101)) for _ in range(5)]
    flipped, ids = reverse_complement(windows, DNA), list("abcde")
    forward = window_outputs(run(bare), windows, ids, 2)
    backward = window_outputs(run(bare), flipped, ids, 2)
    assert np.abs(forward - backward).max() > 1e-3  # the bare model is not symmetric
    averaged = window_outputs(run(StrandAverage(bare)), windows, ids, 2)
    np.testing.assert_allclose(averaged, (forward + backward) / 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        window_outputs(run(StrandAverage(bare)), flipped, ids, 2), averaged, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        window_outputs(run(bare), windows, ids, 3, average_strands=True), averaged, rtol=1e-5
    )


def test_a_position_past_the_contig_end_is_named_as_such(run, files, tmp_path, capsys):
    vcf = str(tmp_path / "past.vcf")
    with open(vcf, "w") as f:
        f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        base = files["contig"][10]
        f.write(f"chr1\t11\tin\t{base}\t{'A' if base != 'A' else 'C'}\t.\t.\t.\n")
        f.write("chr1\t900\tpast\tA\tG\t.\t.\t.\n")
    out = tmp_path / "o.tsv"
    args = [f"--workdir={run}", f"--fasta={files['fasta']}", f"--vcf={vcf}", f"--output={out}"]
    assert pgx(["score-variants", *args]) == 0
    with open(out) as f:
        rows = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
    assert rows["past"]["status"] == "outside_contig"
    assert (
        rows["past"]["detail"] == "POS 900 (REF 1 bp) is past the end of chr1 (400 bp in the FASTA)"
    )
    assert f"{vcf} line 4: chr1:900 A>G: POS 900" in capsys.readouterr().err
