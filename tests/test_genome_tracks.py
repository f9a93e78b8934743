"""`pgx predict --genome --regions`: a run's predictions over regions of a genome as bedGraph
and bigWig tracks, each bin the prediction of the window centred on it."""

import os

import numpy as np
import pyBigWig
import pytest

from pgx_jax import cli
from pgx_jax.commands.predict import predict_file
from pgx_jax.data import genome
from pgx_jax.data.genome_synthetic import chromosome_sizes, write_synthetic_genome
from pgx_jax.errors import PgxError
from pgx_jax.genome_tracks import region_windows, regions
from pgx_jax.runs import load_run

SMALL = ["--config.model.filters=(16, 8, 8)", "--config.model.hidden=(16,)"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[str, str]:
    folder = str(tmp_path_factory.mktemp("tracks"))
    write_synthetic_genome(folder, chromosome_sizes(3, count=10), seed=3)
    workdir = os.path.join(folder, "run")
    args = ["train", f"--config=configs/genome/basset.py:dir={folder},steps=2", *SMALL]
    assert cli.main([*args, f"--workdir={workdir}"]) == 0
    return folder, workdir


def test_regions_and_their_bins(trained):
    reference = genome.Genome(os.path.join(trained[0], "genome.fa"))
    found = regions("chr8:1,001-2,000", reference)
    assert (found.start.tolist(), found.end.tolist()) == ([1000], [2000])
    windows, bins = region_windows(found, reference, 600, 200)
    assert bins.start.tolist() == [1000, 1200, 1400, 1600, 1800]
    assert (windows.start + 200).tolist() == bins.start.tolist()  # each bin central
    whole = regions("chr9", reference)
    assert whole.end.tolist() == [int(reference.sizes[reference.index("chr9")])]
    for bad, message in (("chrZ:1-10", "neither a BED file"), ("chr8:0-10", "outside chr8")):
        with pytest.raises(PgxError, match=message):
            regions(bad, reference)


def test_tracks_hold_the_predictions_of_the_windows_centred_on_their_bins(trained, tmp_path):
    folder, workdir = trained
    fasta = os.path.join(folder, "genome.fa")
    graph, wig = str(tmp_path / "p.bedGraph"), str(tmp_path / "p.bw")
    for output in (graph, wig):
        args = ["predict", f"--workdir={workdir}", f"--genome={fasta}", f"--output={output}"]
        assert cli.main([*args, "--regions=chr8:20001-22000"]) == 0
    run = load_run(workdir)
    tasks = list(run.predictor.fitted["tasks"])
    reference = genome.Genome(fasta)
    with open(f"{str(tmp_path / 'p')}.{tasks[1]}.bedGraph") as f:
        rows = [line.split("\t") for line in f]
    assert [int(r[1]) for r in rows] == list(range(20000, 22000, 200))
    windows = tmp_path / "windows.fa"
    windows.write_text(
        "".join(
            f">w{s}\n{reference.fetch('chr8', s - 200, s + 400)}\n"
            for s in range(20000, 22000, 200)
        )
    )
    alone = predict_file(run, str(windows))[1].predictions[:, 1]
    np.testing.assert_allclose([float(r[3]) for r in rows], alone, rtol=1e-4)
    with pyBigWig.open(f"{str(tmp_path / 'p')}.{tasks[1]}.bw") as bw:
        values = bw.values("chr8", 20000, 22000, numpy=True)[::200]
    np.testing.assert_allclose(values, alone, rtol=1e-4)


@pytest.mark.parametrize("target", ["peaks", "counts", "profile"])
def test_variants_get_a_score_per_track(trained, tmp_path, target):
    """A multi-task run scores each allele once per track: probabilities with a log-odds
    change (peaks), or expected counts (counts; a profile model's total)."""
    folder = trained[0]
    fasta = os.path.join(folder, "genome.fa")
    workdir = str(tmp_path / "run")
    config = {
        "peaks": f"configs/genome/basset.py:dir={folder},steps=2",
        "counts": f"configs/genome/bpnet.py:dir={folder},steps=2,target=counts",
        "profile": f"configs/genome/bpnet.py:dir={folder},steps=2",
    }[target]
    small = (
        SMALL if target != "profile" else ["--config.model.filters=8", "--config.model.layers=2"]
    )
    assert cli.main(["train", f"--config={config}", *small, f"--workdir={workdir}"]) == 0
    reference = genome.Genome(fasta)
    base = reference.fetch("chr8", 30000, 30001)
    other = "A" if base != "A" else "C"
    vcf = tmp_path / "v.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr8\t30001\tv1\t{base}\t{other}\t.\t.\t.\n"
    )
    out = tmp_path / "s.tsv"
    args = [f"--workdir={workdir}", f"--fasta={fasta}", f"--vcf={vcf}", f"--output={out}"]
    assert cli.main(["score-variants", *args]) == 0
    header, row = [line.split("\t") for line in out.read_text().splitlines()]
    tasks = len(load_run(workdir).predictor.fitted["tasks"])
    assert [f"ref_score_{t}" in header for t in range(tasks)] == [True] * tasks
    assert ("log_odds_change_0" in header) == (target == "peaks")
    run = load_run(workdir)
    length = int(run.config.data.length)
    window = reference.fetch("chr8", 30000 - length // 2, 30000 - length // 2 + length)
    single = tmp_path / "w.fa"
    single.write_text(f">w\n{window}\n")
    found = predict_file(run, str(single))[1].predictions[0]
    expected = found.sum(axis=0) if target == "profile" else found
    values = dict(zip(header, row, strict=True))
    got = [float(values[f"ref_score_{t}"]) for t in range(tasks)]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
