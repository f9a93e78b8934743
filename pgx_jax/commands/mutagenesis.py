"""`pgx mutagenesis --workdir RUN --fasta SEQ.fa [--record ID ...] --outdir DIR`: in-silico
mutagenesis, gradient x input and integrated gradients of a run's model on FASTA records.

Each record is encoded by the run's Predictor (its alphabet, length and padding) and
explained through the model's raw output (the logit for classification; `--output_index`
picks one output of a multi-output model). Per record, named by its id, DIR gets:
`<id>.npz` (sequence, score, ism [L, K] with 0 at the reference letter, grad_x_input,
integrated_gradients, over the record's unpadded positions), `<id>_ism.tsv` (position,
reference letter, the score change for each letter), and pictures: `<id>_ism.png` (heat map),
`<id>_ism_logo.png` (minus the mean substitution effect at each reference letter),
`<id>_grad_x_input.png` and `<id>_integrated_gradients.png` (logos).

example: pgx mutagenesis --workdir runs/default --fasta new.fa --record seq1 --outdir ism
"""

import os
import re
import sys

import numpy as np
from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.data import lengths
from pgx_jax.errors import PgxError
from pgx_jax.files import check_writable


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string("fasta", None, "FASTA file (plain or gzip)", flag_values=flag_values)
    flags.DEFINE_multi_string(
        "record", [], "record id to explain (repeatable)", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "max_records", 3, "without --record: the first N records", flag_values=flag_values
    )
    flags.DEFINE_string("outdir", None, "output directory", flag_values=flag_values)
    flags.DEFINE_integer(
        "output_index", 0, "output of a multi-output model", flag_values=flag_values
    )
    flags.DEFINE_integer("steps", 64, "integrated-gradients steps", flag_values=flag_values)
    flags.DEFINE_enum(
        "baseline", "zero", ["zero", "uniform"], "integrated-gradients baseline",
        flag_values=flag_values,
    )  # fmt: skip


def explain_record(run, sequence: str, record_id: str, output_index: int, steps: int, kind: str):
    """ISM map, gradient x input and integrated gradients of one sequence, trimmed to its
    unpadded positions; with the one-hot input and the model's score."""
    from pgx_jax.interpret import mutagenesis as ism

    predictor = run.predictor
    records = {"id": np.array([record_id]), "sequence": np.array([sequence])}
    lengths.check_fits(predictor.input_lengths, records, "--fasta")
    encoded = predictor.encode(records)
    inputs = {name: np.asarray(value) for name, value in encoded["inputs"].items()}
    x = inputs.get("x")
    if x is None or x.ndim != 3 or not np.issubdtype(x.dtype, np.floating):
        raise PgxError(
            f"{run.workdir}: mutagenesis needs one-hot sequence inputs 'x' [B, L, K]; "
            f"experiment {run.config.experiment!r} gives {sorted(inputs)}"
        )
    score_fn = ism.model_score_fn(predictor.model, run.variables, inputs, output_index)
    x = x[0]
    keep = np.asarray(inputs["mask"][0], bool) if "mask" in inputs else np.ones(len(x), bool)
    return {
        "x": x[keep],
        "score": float(np.asarray(score_fn(x[None]))[0]),
        "ism": ism.mutation_map(score_fn, x)[keep],
        "grad_x_input": ism.gradient_x_input(score_fn, x)[keep],
        "integrated_gradients": ism.integrated_gradients(score_fn, x, ism.baseline(x, kind), steps)[
            keep
        ],
    }


def write_record(result: dict, record_id: str, letters: str, outdir: str) -> list:
    """The npz, TSV and PNG files of one explained record; returns their paths."""
    from pgx_jax.interpret import logos, plots
    from pgx_jax.interpret import mutagenesis as ism

    stem = os.path.join(outdir, re.sub(r"[^A-Za-z0-9._-]", "_", record_id))
    shown = "".join(
        letters[k] if row[k] > 0.5 else "N"
        for row, k in zip(result["x"], result["x"].argmax(axis=1), strict=True)
    )  # the bases the model read, after the encoder's padding and cutting
    np.savez(f"{stem}.npz", sequence=shown, letters=letters, **result)
    with open(f"{stem}_ism.tsv", "w") as f:
        f.write("\t".join(["position", "ref", *letters]) + "\n")
        for i, row in enumerate(result["ism"]):
            f.write("\t".join([str(i + 1), shown[i], *(f"{v:.6g}" for v in row)]) + "\n")
    title = f"{record_id} (score {result['score']:.3f})"
    return [
        f"{stem}.npz",
        f"{stem}_ism.tsv",
        plots.mutation_map(result["ism"], shown, f"{stem}_ism.png", f"ISM: {title}", letters),
        logos.save_attribution_logo(
            ism.position_importance(result["ism"], result["x"]),
            f"{stem}_ism_logo.png",
            f"mean ISM effect: {title}",
            letters,
        ),
        logos.save_attribution_logo(
            result["grad_x_input"],
            f"{stem}_grad_x_input.png",
            f"gradient x input: {title}",
            letters,
        ),
        logos.save_attribution_logo(
            result["integrated_gradients"],
            f"{stem}_integrated_gradients.png",
            f"integrated gradients: {title}",
            letters,
        ),
    ]


def main(argv: list[str]) -> int:
    """Explain FASTA records with a finished run's model."""
    flag_values, _ = parse("mutagenesis", argv, _define, with_config=False)
    if not flag_values.workdir or not flag_values.fasta or not flag_values.outdir:
        raise PgxError("--workdir, --fasta and --outdir are required")
    if flag_values.steps <= 0:
        raise PgxError(f"--steps must be positive, got {flag_values.steps}")
    from pgx_jax.data.readers import read_fasta
    from pgx_jax.runs import load_run

    check_writable(flag_values.outdir, "--outdir")
    records = read_fasta(flag_values.fasta)
    if flag_values.record:
        by_id = {r.id: r for r in records}
        missing = [name for name in flag_values.record if name not in by_id]
        if missing:
            raise PgxError(f"{flag_values.fasta}: no record(s) {missing}")
        records = [by_id[name] for name in flag_values.record]
    else:
        records = records[: flag_values.max_records]
    run = load_run(flag_values.workdir)
    if run.predictor.reads != ("sequence",):
        raise PgxError(
            f"{flag_values.workdir}: experiment {run.config.experiment!r} does not read "
            "sequences; mutagenesis needs a sequence model"
        )
    letters = {"rna": "ACGU"}.get(run.config.data.get("alphabet", "dna"), "ACGT")
    for record in records:
        result = explain_record(
            run,
            record.sequence,
            record.id,
            flag_values.output_index,
            flag_values.steps,
            flag_values.baseline,
        )
        if len(record.sequence) > len(result["x"]):
            print(
                f"mutagenesis: {record.id}: {len(record.sequence)} bases, the model reads "
                f"{len(result['x'])} of them (as the run's encoder cuts them)",
                file=sys.stderr,
            )
        paths = write_record(result, record.id, letters, flag_values.outdir)
        print(
            f"mutagenesis: {record.id}: score {result['score']:.4f}, "
            f"{len(result['x'])} positions -> {', '.join(os.path.basename(p) for p in paths)}",
            file=sys.stderr,
        )
    return 0
