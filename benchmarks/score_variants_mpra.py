"""`pgx score-variants` on the Kircher et al. 2019 saturation-mutagenesis MPRA elements.

    python benchmarks/score_variants_mpra.py --workdir /work/runs/gabpa_rc --outdir /tmp/mpra

Writes `variants.vcf` from `elements.tsv.gz` (GRCh37 rows on the element FASTA;
`pgx_jax.data.mpra.write_vcf`), runs `pgx score-variants` on it, and prints the Spearman
correlation of the model's score change (`diff`, alt - ref) with the measured log2 effect
(`Coefficient`): over all scored variants, over the TERT-* elements (whose promoter mutations
are known to create ETS sites, GABPA's motif), per element, and over the significant variants
(p < 1e-5).
"""

import argparse
import os
import sys

import numpy as np
from scipy.stats import spearmanr

from pgx_jax.cli import main as pgx
from pgx_jax.data import mpra
from pgx_jax.variants.vcf import open_vcf

MPRA = "satmut_mpra_kircher2019"
TERT_HOTSPOTS = {"C228T": 1295228, "C250T": 1295250}
"""The recurrent TERT promoter mutations (GRCh37; C>T on TERT's minus strand, G>A on plus)."""


def _table(vcf_path: str) -> list[tuple[str, float, float, float, str]]:
    """(element, measured coefficient, p-value, model diff, id) of each scored record."""
    rows = []
    with open_vcf(vcf_path) as vcf:
        for record in vcf:
            if record.info["PGX_STATUS"][0] != "scored":
                continue
            element = record.id.split(":")[0]
            info = record.info
            rows.append(
                (element, info["Coefficient"], info["pValue"], info["PGX_DIFF"][0], record.id)
            )
    return rows


def _hotspots(rows) -> list[str]:
    """Model diff of the TERT hotspots and its rank (1 = largest gain) within the element."""
    lines = []
    for element in sorted({r[0] for r in rows if r[0].startswith("TERT-")}):
        diffs = np.sort([r[3] for r in rows if r[0] == element])[::-1]
        for name, genomic in TERT_HOTSPOTS.items():
            variant_id = f"{element}:{genomic}G>A"
            row = next(r for r in rows if r[4] == variant_id)
            rank = int(np.searchsorted(-diffs, -row[3])) + 1
            lines.append(
                f"  {name} in {element}: diff {row[3]:+.3f} (rank {rank} of {len(diffs)}), "
                f"measured {row[1]:+.2f}"
            )
    return lines


def _spearman(rows) -> str:
    if len(rows) < 3:
        return f"n={len(rows)}"
    coef = np.array([r[1] for r in rows])
    diff = np.array([r[3] for r in rows])
    rho, p = spearmanr(diff, coef)
    return f"rho={rho:+.3f} (p={p:.1e}, n={len(rows)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, help="trained run (e.g. GABPA DeepBind)")
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--batch_size", type=int, default=512)
    args = parser.parse_args()
    data = os.path.join(os.environ.get("PGX_DATA_DIR", "../shared/data"), MPRA)
    fasta = os.path.join(data, mpra.FASTA_FILE)
    os.makedirs(args.outdir, exist_ok=True)
    vcf = os.path.join(args.outdir, "variants.vcf")
    print(f"variants.vcf: {mpra.write_vcf(data, vcf)} records")
    scored_vcf = os.path.join(args.outdir, "scored.vcf")
    code = pgx(
        [
            "score-variants",
            f"--workdir={args.workdir}",
            f"--fasta={fasta}",
            f"--vcf={vcf}",
            f"--output={os.path.join(args.outdir, 'scored.tsv')}",
            f"--vcf_output={scored_vcf}",
            f"--batch_size={args.batch_size}",
        ]
    )
    if code:
        return code
    rows = _table(scored_vcf)
    tert = [r for r in rows if r[0].startswith("TERT-")]
    print(f"Spearman(diff, Coefficient), all elements: {_spearman(rows)}")
    print(f"Spearman(diff, Coefficient), TERT-*:       {_spearman(tert)}")
    significant = [r for r in rows if r[2] < 1e-5]
    print(f"  significant (p < 1e-5), all:  {_spearman(significant)}")
    print(f"  significant (p < 1e-5), TERT: {_spearman([r for r in tert if r[2] < 1e-5])}")
    print("TERT promoter hotspots (model diff, rank among the element's variants):")
    print("\n".join(_hotspots(rows)))
    for element in sorted({r[0] for r in rows}):
        print(f"  {element:<15} {_spearman([r for r in rows if r[0] == element])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
