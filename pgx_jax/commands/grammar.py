"""`pgx grammar --workdir RUN (--sequences SEQ.fa | --random N) --motif MA0139 --outdir DIR`:
what a trained sequence model makes of a motif planted in backgrounds, and with `--second`, of
a pair of motifs at each gap and orientation.

Backgrounds are `--backgrounds` dinucleotide shuffles of the given sequences (each as long as
the model reads) or of N random ones (`--seed`). A motif is a JASPAR id (its consensus) or
bases. Marginalisation plants `--motif` at each background's centre; with `--second`, the pair
(`--motif`, gap, `--second`) is planted centred for gaps 0..`--max_gap` and orientations ++,
+-, -+, -- (`pgx_jax/interpret/grammar.py`). Predictions come from the run's predict path;
`--raw` measures raw outputs (logits), which do not saturate as probabilities do.

DIR gets `marginalize.tsv` (per background: the prediction of each output before and after,
and the change), `marginalize.png` (histograms of `--task` before and after), and with
`--second` `spacing.tsv` (orientation, gap, mean change of each output) and `spacing.png`.

example: pgx grammar --workdir runs/default --random 200 --motif MA0139 --outdir grammar
"""

import os
import sys

import numpy as np
from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open, check_writable


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string("sequences", None, "FASTA to shuffle", flag_values=flag_values)
    flags.DEFINE_integer("random", 0, "or: this many random sequences", flag_values=flag_values)
    flags.DEFINE_integer("backgrounds", 200, "shuffled backgrounds", flag_values=flag_values)
    flags.DEFINE_integer("seed", 0, "seed of sequences and shuffles", flag_values=flag_values)
    flags.DEFINE_string("motif", None, "JASPAR id or bases", flag_values=flag_values)
    flags.DEFINE_string("second", None, "a second motif: spacing curves", flag_values=flag_values)
    flags.DEFINE_integer("max_gap", 20, "largest gap between the pair", flag_values=flag_values)
    flags.DEFINE_integer("task", 0, "output drawn in the pictures", flag_values=flag_values)
    flags.DEFINE_bool(
        "raw", False, "raw outputs (logits), not probabilities", flag_values=flag_values
    )
    flags.DEFINE_string("outdir", None, "output directory", flag_values=flag_values)


def _sequences(flag_values, length: int) -> list[str]:
    from pgx_jax.data.readers import read_fasta
    from pgx_jax.interpret.design import random_starts

    rng = np.random.default_rng(flag_values.seed)
    if bool(flag_values.sequences) == (flag_values.random > 0):
        raise PgxError("give one of --sequences FASTA and --random N")
    if flag_values.random:
        return random_starts(flag_values.random, length, rng)
    records = read_fasta(flag_values.sequences)
    for record in records:
        if len(record.sequence) != length:
            raise PgxError(
                f"{flag_values.sequences}: {record.id} has {len(record.sequence)} bases, the "
                f"model reads {length}"
            )
    return [r.sequence.upper() for r in records]


def predict_fn(run, raw: bool = False):
    """`sequences -> [N, T]`: the run's predictions (the link of its task) of DNA windows, or
    with `raw` its raw outputs (logits: they do not saturate as probabilities do)."""
    from pgx_jax.variants import scoring

    def predict(sequences: list[str]) -> np.ndarray:
        ids = [f"s{i}" for i in range(len(sequences))]
        outputs = scoring.window_outputs(run, sequences, ids, run.batch_size())
        return outputs if raw else scoring.predictions(run.predictor.task, outputs)

    return predict


def main(argv: list[str]) -> int:
    """Marginalisation and spacing curves of motifs with a finished run's model."""
    flag_values, _ = parse("grammar", argv, _define, with_config=False)
    if not flag_values.workdir or not flag_values.motif or not flag_values.outdir:
        raise PgxError("--workdir, --motif and --outdir are required")
    from pgx_jax.interpret import grammar
    from pgx_jax.runs import load_run
    from pgx_jax.variants.scoring import model_input_length

    motif = grammar.motif_sequence(flag_values.motif)
    second = grammar.motif_sequence(flag_values.second) if flag_values.second else None
    check_writable(flag_values.outdir, "--outdir")
    run = load_run(flag_values.workdir)
    if run.predictor.reads != ("sequence",) or run.config.data.get("alphabet", "dna") != "dna":
        raise PgxError(f"{flag_values.workdir}: grammar needs a DNA sequence model")
    length = model_input_length(run)
    rng = np.random.default_rng(flag_values.seed + 1)
    background = grammar.backgrounds(_sequences(flag_values, length), flag_values.backgrounds, rng)
    predict, task, out = predict_fn(run, flag_values.raw), flag_values.task, flag_values.outdir
    result = grammar.marginalize(predict, background, motif)
    if not 0 <= task < result["before"].shape[1]:
        raise PgxError(f"--task {task}: the model has {result['before'].shape[1]} outputs")
    write_marginal(result, os.path.join(out, "marginalize.tsv"))
    change = (result["after"] - result["before"])[:, task]
    title = f"{flag_values.motif} at the centre of {len(background)} backgrounds"
    grammar.marginal_picture(result, task, title, os.path.join(out, "marginalize.png"))
    print(
        f"grammar: {flag_values.motif} ({motif}) planted in {len(background)} shuffled "
        f"backgrounds: output {task} {result['before'][:, task].mean():.4f} -> "
        f"{result['after'][:, task].mean():.4f} (mean change {change.mean():+.4f})",
        file=sys.stderr,
    )
    if second:
        gaps = list(range(flag_values.max_gap + 1))
        curves = grammar.spacing(predict, background, motif, second, gaps)
        write_spacing(curves, gaps, os.path.join(out, "spacing.tsv"))
        title = f"{flag_values.motif} then {flag_values.second}"
        grammar.spacing_picture(curves, gaps, task, title, os.path.join(out, "spacing.png"))
    print(f"grammar: wrote {', '.join(sorted(os.listdir(out)))} in {out}", file=sys.stderr)
    return 0


def write_marginal(result: dict, path: str) -> None:
    """One line per background: before_t, after_t, change_t for each output t."""
    before, after = result["before"], result["after"]
    head = [f"{n}_{t}" for t in range(before.shape[1]) for n in ("before", "after", "change")]
    with atomic_open(path) as f:
        f.write("\t".join(["background", *head]) + "\n")
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            values = [f"{v:.6g}" for t in range(len(b)) for v in (b[t], a[t], a[t] - b[t])]
            f.write("\t".join([str(i), *values]) + "\n")


def write_spacing(curves: dict, gaps: list[int], path: str) -> None:
    """orientation, gap, mean change of each output."""
    width = next(iter(curves.values())).shape[1]
    with atomic_open(path) as f:
        f.write("\t".join(["orientation", "gap", *(f"change_{t}" for t in range(width))]) + "\n")
        for orientation, curve in curves.items():
            for gap, row in zip(gaps, curve, strict=True):
                f.write("\t".join([orientation, str(gap), *(f"{v:.6g}" for v in row)]) + "\n")
