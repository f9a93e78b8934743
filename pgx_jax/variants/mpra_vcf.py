"""The saturation-mutagenesis MPRA of Kircher et al. 2019 as a VCF over its element FASTA.

`$PGX_DATA_DIR/satmut_mpra_kircher2019/element_reference_GRCh37_from_Ref_column.fa` holds one
contig per experiment label (`>{Element} chr:start-end GRCh37 ...`, plus strand); a GRCh37
row of `elements.tsv.gz` at genomic `Pos` becomes a record on contig `Element` at
`Pos - start + 1`. A deletion (`Alt = -`) is written the VCF way, anchored on the base before
it (the base after it at an element's first position). Rows with `NA` positions (aggregate
terms, not variants) are left out and counted. The measured effect travels along as INFO
`MPRA_COEF` (log2 effect) and `MPRA_P` (its p-value); the ID is `Element:pos:ref>alt`.
"""

import csv
import re

from pgx_jax.data.readers import open_text, read_fasta
from pgx_jax.errors import PgxError

_HEADER = re.compile(r"^(\S+) (\S+):(\d+)-(\d+) ")
COLUMNS = ("Chrom", "Pos", "Ref", "Alt", "Coefficient", "pValue", "Element", "Release")


def element_starts(fasta_path: str) -> dict[str, tuple[int, str]]:
    """Element -> (1-based genomic start, sequence), from the FASTA headers."""
    starts = {}
    for record in read_fasta(fasta_path):
        match = _HEADER.match(record.description + " ")
        if not match:
            raise PgxError(f"{fasta_path}: record {record.id!r}: header lacks 'chr:start-end'")
        starts[record.id] = (int(match.group(3)), record.sequence.upper())
    return starts


def write_mpra_vcf(
    elements_path: str, fasta_path: str, output: str, release: str = "GRCh37"
) -> dict[str, int]:
    """Write the `release` rows of `elements.tsv.gz` as a VCF on the element contigs; returns
    counts of written records and of rows left out (`NA` positions)."""
    starts = element_starts(fasta_path)
    records, left_out = [], 0
    with open_text(elements_path) as f:
        reader = csv.DictReader(f, delimiter="\t")
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise PgxError(f"{elements_path}: missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            if row["Release"] != release:
                continue
            if row["Pos"] == "NA":
                left_out += 1
                continue
            element = row["Element"]
            if element not in starts:
                raise PgxError(f"{elements_path} line {line}: element {element!r} not in FASTA")
            start, sequence = starts[element]
            pos = int(row["Pos"]) - start + 1
            if not 1 <= pos <= len(sequence):
                raise PgxError(f"{elements_path} line {line}: {row['Pos']} outside {element}")
            ref, alt = row["Ref"].upper(), row["Alt"].upper()
            if alt == "-":
                if pos > 1:
                    pos, ref, alt = pos - 1, sequence[pos - 2] + ref, sequence[pos - 2]
                else:
                    ref, alt = ref + sequence[pos], sequence[pos]
            variant_id = f"{element}:{int(row['Pos']) - start + 1}:{row['Ref']}>{row['Alt']}"
            info = f"MPRA_COEF={row['Coefficient']};MPRA_P={row['pValue']}"
            records.append((element, pos, variant_id, ref, alt, info))
    with open(output, "w") as out:
        out.write("##fileformat=VCFv4.2\n")
        for element, (_, sequence) in starts.items():
            out.write(f"##contig=<ID={element},length={len(sequence)}>\n")
        out.write(
            '##INFO=<ID=MPRA_COEF,Number=1,Type=Float,Description="measured log2 effect">\n'
            '##INFO=<ID=MPRA_P,Number=1,Type=Float,Description="p-value of MPRA_COEF">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        )
        for element, pos, variant_id, ref, alt, info in records:
            out.write(f"{element}\t{pos}\t{variant_id}\t{ref}\t{alt}\t.\t.\t{info}\n")
    return {"records": len(records), "left_out_na": left_out}
