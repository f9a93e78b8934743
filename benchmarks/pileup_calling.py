"""Germline F1 by variant type and coverage, the pileup CNN against bcftools, on the held-out
chromosome of simulated reads; somatic recall by VAF; candidates encoded and called per second.

    python -m pgx_jax.data.reads_synthetic runs/reads --size-mb 3 --coverage 10 30 60
    python -m pgx_jax.data.reads_synthetic runs/reads --size-mb 3 --coverage 60 --somatic \
        --no-germline
    python benchmarks/pileup_calling.py --dir runs/reads --workdir runs/pileup_bench \
        --coverage 10 30 60 --steps 400 [--somatic 60]

Per coverage C: `pgx train --config configs/variants/pileup.py:germline,dir=DIR,coverage=C`
(chr1-3 train, chr4 validation) for `--steps` steps, `pgx call-variants` on chr5, and
`bcftools mpileup -f REF -r chr5 -a AD,DP sample_Cx.bam` written to a file, then `bcftools
call -mv` (Debian's bcftools, `apt-get install -y bcftools`; a baseline, not a dependency).
Both call sets are split into alleles and left-aligned (`calling.read_alleles`) and matched
by position and allele against truth.vcf.gz (`calling.evaluate`). `--somatic C` trains the
somatic net on tumour_Cx.bam / normal_Cx.bam and reports its recall per planted VAF and its
precision. Writes `results.json` and prints markdown tables.
"""

import argparse
import json
import os
import subprocess
import time

from pgx_jax import cli
from pgx_jax.data import pileup
from pgx_jax.data.genome import Genome
from pgx_jax.data.reads_synthetic import require
from pgx_jax.runs import load_run
from pgx_jax.variants import calling

TEST = "chr5"


def train(config: str, workdir: str, steps: int) -> None:
    """`pgx train` of a pileup config for `steps` steps (no-op if the run finished)."""
    if not os.path.exists(os.path.join(workdir, "results.json")):
        argv = ["train", f"--config=configs/variants/pileup.py:{config},steps={steps}"]
        if cli.main([*argv, f"--workdir={workdir}"]) != 0:
            raise SystemExit(f"training {config} failed")


def cnn_calls(workdir: str, bam: str, fasta: str, output: str, normal: str | None = None) -> dict:
    """Call TEST with the run; the seconds to encode its candidates, and end to end."""
    run = load_run(workdir)
    reference = Genome(fasta)
    start = time.perf_counter()
    columns = pileup.examples(bam, reference, [TEST], run.config.data, normal)
    encoded = time.perf_counter() - start
    start = time.perf_counter()
    called = calling.call_variants(run, bam, fasta, output, normal=normal, chroms=[TEST])
    total = time.perf_counter() - start
    candidates = len(columns["pos"])
    return {
        "candidates": candidates,
        "calls": called,
        "candidates_encoded_per_s": candidates / encoded,
        "candidates_called_per_s": candidates / total,
    }


def bcftools_calls(bam: str, fasta: str, output: str) -> float:
    """`bcftools mpileup` to a file, then `call -mv`; the seconds both took."""
    bcftools = require("bcftools")
    start = time.perf_counter()
    piled = output + ".mpileup.bcf"
    subprocess.run(
        [bcftools, "mpileup", "-f", fasta, "-r", TEST, "-a", "AD,DP", "-Ob", "-o", piled, bam],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [bcftools, "call", "-mv", "-Ov", "-o", output, piled], check=True, capture_output=True
    )
    return time.perf_counter() - start


def germline(args, coverage: float, reference: Genome, truth: dict) -> dict:
    c = f"{coverage:g}"
    bam, workdir = f"{args.dir}/sample_{c}x.bam", f"{args.workdir}/germline_{c}x"
    train(f"germline,dir={args.dir},coverage={c}", workdir, args.steps)
    speed = cnn_calls(workdir, bam, reference.path, f"{workdir}/calls_{TEST}.vcf")
    seconds = bcftools_calls(bam, reference.path, f"{workdir}/bcftools_{TEST}.vcf")
    found = {}
    for name in ("calls", "bcftools"):
        calls = calling.read_alleles(f"{workdir}/{name}_{TEST}.vcf", reference)
        found["cnn" if name == "calls" else "bcftools"] = calling.evaluate(truth, calls, [TEST])
    return {**found, "speed": speed, "bcftools_seconds": seconds}


def somatic(args, coverage: float, reference: Genome) -> dict:
    import pysam

    c = f"{coverage:g}"
    workdir = f"{args.workdir}/somatic_{c}x"
    train(f"somatic,dir={args.dir},coverage={c}", workdir, args.steps)
    output = f"{workdir}/calls_{TEST}.vcf"
    speed = cnn_calls(
        workdir,
        f"{args.dir}/tumour_{c}x.bam",
        reference.path,
        output,
        f"{args.dir}/normal_{c}x.bam",
    )
    truth = calling.read_alleles(f"{args.dir}/somatic_truth.vcf.gz", reference)
    calls = calling.read_alleles(output, reference)
    vaf = {}
    with pysam.VariantFile(f"{args.dir}/somatic_truth.vcf.gz") as vcf:
        for record in vcf:
            key = pileup.left_align(
                reference, record.chrom, record.pos - 1, record.ref, record.alts[0]
            )
            vaf[(record.chrom, *key)] = record.info["VAF"]
    by_vaf = {}
    for f in sorted(set(vaf.values())):
        keys = {k for k in truth if k[0] == TEST and vaf.get(k) == f}
        by_vaf[f"{f:g}"] = {
            "planted": len(keys),
            "recall": len(keys & set(calls)) / max(len(keys), 1),
        }
    return {"all": calling.evaluate(truth, calls, [TEST]), "by_vaf": by_vaf, "speed": speed}


def table(results: dict) -> str:
    lines = [
        "| coverage | caller | SNV F1 | insertion F1 | deletion F1 | all F1 (P / R) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c, found in results["germline"].items():
        for caller in ("cnn", "bcftools"):
            s = found[caller]
            a = s["all"]
            lines.append(
                f"| {c}x | {'pileup CNN' if caller == 'cnn' else 'bcftools call -mv'} | "
                + " | ".join(f"{s[t]['f1']:.3f}" for t in calling.TYPES)
                + f" | {a['f1']:.3f} ({a['precision']:.3f} / {a['recall']:.3f}) |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--coverage", type=float, nargs="+", default=[10, 30, 60])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--somatic", type=float, nargs="*", default=[])
    args = parser.parse_args()
    require("bcftools")
    reference = Genome(f"{args.dir}/genome.fa")
    truth = calling.read_alleles(f"{args.dir}/truth.vcf.gz", reference)
    results = {"germline": {}, "somatic": {}}
    for coverage in args.coverage:
        results["germline"][f"{coverage:g}"] = germline(args, coverage, reference, truth)
    for coverage in args.somatic:
        results["somatic"][f"{coverage:g}"] = somatic(args, coverage, reference)
    os.makedirs(args.workdir, exist_ok=True)
    with open(f"{args.workdir}/results.json", "w") as f:
        json.dump(results, f, indent=2)
    print(table(results))
    print(json.dumps({k: v["speed"] for k, v in results["germline"].items()}, indent=1))
    print(json.dumps(results["somatic"], indent=1))


if __name__ == "__main__":
    main()
