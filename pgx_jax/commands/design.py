"""`pgx design --workdir RUN (--starts SEQ.fa | --random N) --max_edits K --output designs.fa`:
sequences edited to raise (or lower) one output of a trained sequence model.

Starts are the FASTA's records (each as long as the model reads) or N uniformly random
sequences (`--seed`). `--method evolve` is greedy in-silico evolution (gReLU's `evolve`);
`--method gradient` a relaxed one-hot with a penalty per edit (ledidi); both batched over all
starts (`pgx_jax/interpret/design.py`). `--task` picks the output to move, `--direction up|down`
the way, `--hold W` penalises the other outputs' change (raw output units). `--fixed` keeps
positions: ranges of 1-based positions for every start (`1-10,40-45`), or a BED file of
(start id, 0-based start, end) rows.

Writes the designs as FASTA (`<id>_designed`), `<output stem>.tsv` (per design: edits used,
the predicted output of every task for the start, the design and the start with as many random
edits at free positions; with `--scan MA0139` the JASPAR motif's best PWM relative score
over both strands in each of the three, a match counted at 0.8; and the edits as
`position:from>to`) and `<output stem>_edits.tsv` (id, position, from, to). Predictions come
from the run's predict path (`pgx predict`).

example: pgx design --workdir runs/default --random 100 --max_edits 5 --output designs.fa
"""

import os
import sys

import numpy as np
from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.errors import PgxError
from pgx_jax.files import check_output

LETTERS = "ACGT"


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string("starts", None, "FASTA of start sequences", flag_values=flag_values)
    flags.DEFINE_integer("random", 0, "or: this many random starts", flag_values=flag_values)
    flags.DEFINE_integer("seed", 0, "seed of random starts and edits", flag_values=flag_values)
    flags.DEFINE_integer("task", 0, "output (task) to move", flag_values=flag_values)
    flags.DEFINE_enum("direction", "up", ["up", "down"], "raise or lower", flag_values=flag_values)
    flags.DEFINE_float("hold", 0.0, "penalty on other outputs' change", flag_values=flag_values)
    flags.DEFINE_integer("max_edits", 5, "substitutions at most", flag_values=flag_values)
    flags.DEFINE_string(
        "fixed", "", "positions kept: ranges or a BED file", flag_values=flag_values
    )
    flags.DEFINE_enum(
        "method", "evolve", ["evolve", "gradient"], "design method", flag_values=flag_values
    )
    flags.DEFINE_integer("steps", 300, "gradient: Adam steps", flag_values=flag_values)
    flags.DEFINE_float("learning_rate", 0.3, "gradient: Adam rate", flag_values=flag_values)
    flags.DEFINE_float("edit_penalty", 1.0, "gradient: penalty per edit", flag_values=flag_values)
    flags.DEFINE_string(
        "scan", "", "JASPAR id: best match in starts and designs", flag_values=flag_values
    )
    flags.DEFINE_string("output", None, "FASTA of the designs", flag_values=flag_values)


def fixed_positions(spec: str, ids: list[str], length: int) -> np.ndarray:
    """[S, L] bool of kept positions from `--fixed`: `a-b,c` 1-based ranges for every start,
    or a BED file of (start id, 0-based start, end)."""
    fixed = np.zeros((len(ids), length), bool)
    if not spec:
        return fixed
    if os.path.isfile(spec):
        rows = {name: i for i, name in enumerate(ids)}
        with open(spec) as f:
            for line_number, line in enumerate(f, 1):
                fields = line.split()
                if not fields or fields[0].startswith(("#", "track", "browser")):
                    continue
                if (
                    len(fields) < 3
                    or fields[0] not in rows
                    or not (fields[1].isdigit() and fields[2].isdigit())
                ):
                    raise PgxError(
                        f"{spec} line {line_number}: want 'start id, start, end' with an id of "
                        f"the starts, got {line.strip()!r}"
                    )
                fixed[rows[fields[0]], int(fields[1]) : int(fields[2])] = True
        return fixed
    for part in spec.split(","):
        bounds = part.strip().split("-")
        if not all(b.isdigit() for b in bounds) or len(bounds) > 2 or int(bounds[0]) < 1:
            raise PgxError(f"--fixed: {part!r} is neither a file nor a range like 1-10")
        fixed[:, int(bounds[0]) - 1 : int(bounds[-1])] = True
    return fixed


def _starts(flag_values, length: int) -> tuple[list[str], list[str]]:
    """(ids, sequences) of the starts, each `length` bases."""
    from pgx_jax.data.readers import read_fasta
    from pgx_jax.interpret.design import random_starts

    if bool(flag_values.starts) == (flag_values.random > 0):
        raise PgxError("give one of --starts FASTA and --random N")
    if flag_values.random:
        rng = np.random.default_rng(flag_values.seed)
        sequences = random_starts(flag_values.random, length, rng)
        return [f"random_{i}" for i in range(len(sequences))], sequences
    records = read_fasta(flag_values.starts)
    for record in records:
        if len(record.sequence) != length:
            raise PgxError(
                f"{flag_values.starts}: {record.id} has {len(record.sequence)} bases, the "
                f"model reads {length}"
            )
    return [r.id for r in records], [r.sequence.upper() for r in records]


def _design(run, flag_values, x0: np.ndarray, inputs: dict, fixed: np.ndarray, outputs: int):
    from pgx_jax.interpret import design

    outputs_fn = design.model_outputs_fn(run.predictor.model, run.variables, inputs, outputs)
    direction = 1.0 if flag_values.direction == "up" else -1.0
    goal = design.Goal(flag_values.task, direction, flag_values.hold)
    if flag_values.method == "evolve":
        return design.evolve(outputs_fn, goal, x0, fixed, flag_values.max_edits)
    settings = design.GradientSettings(
        flag_values.steps,
        flag_values.learning_rate,
        flag_values.edit_penalty,
        seed=flag_values.seed,
    )
    return design.gradient_design(outputs_fn, goal, x0, fixed, flag_values.max_edits, settings)


MATCH = 0.8
"""A motif is present where its PWM's relative score (TFBSTools' min.score) reaches this."""


def best_match(x: np.ndarray, matrix_id: str) -> np.ndarray:
    """[S] best relative score (0 worst, 1 the consensus) of JASPAR motif `matrix_id`'s PWM
    (`motifs.log_odds`) over both strands of one-hot sequences [S, L, 4]."""
    from pgx_jax.data.alphabets import reverse_complement_one_hot
    from pgx_jax.data.jaspar import jaspar_pfm
    from pgx_jax.interpret.motifs import log_odds, pwm_scan

    pwm = log_odds(jaspar_pfm(matrix_id))
    low, high = pwm.min(axis=1).sum(), pwm.max(axis=1).sum()
    scores = [pwm_scan(v, pwm).max(axis=1) for v in (x, reverse_complement_one_hot(x))]
    return (np.maximum(*scores) - low) / (high - low)


def _strings(x: np.ndarray) -> list[str]:
    return ["".join(LETTERS[k] for k in row) for row in x.argmax(-1)]


def main(argv: list[str]) -> int:
    """Design sequences with a finished run's model."""
    flag_values, _ = parse("design", argv, _define, with_config=False)
    if not flag_values.workdir or not flag_values.output:
        raise PgxError("--workdir and --output are required")
    if flag_values.max_edits < 1:
        raise PgxError(f"--max_edits must be at least 1, got {flag_values.max_edits}")
    from pgx_jax.interpret import design
    from pgx_jax.runs import load_run
    from pgx_jax.variants import scoring

    stem = os.path.splitext(flag_values.output)[0]
    for path, flag in ((flag_values.output, "--output"), (f"{stem}.tsv", "--output")):
        check_output(path, flag)
    run = load_run(flag_values.workdir)
    if run.predictor.reads != ("sequence",) or run.config.data.get("alphabet", "dna") != "dna":
        raise PgxError(f"{flag_values.workdir}: design needs a DNA sequence model")
    length = scoring.model_input_length(run)
    ids, sequences = _starts(flag_values, length)
    fixed = fixed_positions(flag_values.fixed, ids, length)
    encoded = run.predictor.encode({"id": np.array(ids), "sequence": np.array(sequences)})
    inputs = {name: np.asarray(v)[:1] for name, v in encoded["inputs"].items()}
    x0 = np.asarray(encoded["inputs"]["x"], np.float32)
    outputs = design.num_outputs(run.predictor.model, run.variables, inputs)
    if not 0 <= flag_values.task < outputs:
        raise PgxError(f"--task {flag_values.task}: the model has {outputs} outputs")
    designs = _design(run, flag_values, x0, inputs, fixed, outputs)
    edits = design.edit_counts(designs, x0)
    baseline = design.random_edits(x0, fixed, edits, np.random.default_rng(flag_values.seed + 1))
    names, three = ("start", "designed", "random"), np.concatenate([x0, designs, baseline])
    raw = scoring.window_outputs(run, _strings(three), ids * 3, run.batch_size())
    linked = np.asarray(scoring.predictions(run.predictor.task, raw)).reshape(3 * len(ids), -1)
    scored = dict(zip(names, np.split(linked, 3), strict=True))
    matches = {}
    if flag_values.scan:
        for name, x in (("start", x0), ("designed", designs), ("random", baseline)):
            matches[f"{name}_{flag_values.scan}"] = best_match(x, flag_values.scan)
    write_outputs(stem, flag_values.output, ids, x0, designs, edits, scored, matches)
    mean = {name: float(v[:, flag_values.task].mean()) for name, v in scored.items()}
    print(
        f"design: {len(ids)} starts, {flag_values.method}, at most {flag_values.max_edits} "
        f"edits (mean {edits.mean():.2f}); task {flag_values.task} mean prediction: start "
        f"{mean['start']:.4f}, designed {mean['designed']:.4f}, same number of random edits "
        f"{mean['random']:.4f} -> {flag_values.output}, {stem}.tsv, {stem}_edits.tsv",
        file=sys.stderr,
    )
    if flag_values.scan:
        present = {name: float((v >= MATCH).mean()) for name, v in matches.items()}
        print(
            f"design: {flag_values.scan} PWM match (relative score >= {MATCH}) in "
            + ", ".join(f"{v:.0%} of {k}" for k, v in present.items()),
            file=sys.stderr,
        )
    return 0


def write_outputs(stem, output, ids, x0, designs, edits, scored, matches) -> None:
    """The designs' FASTA, the per-design TSV (predictions [S, T] of `scored`, then the motif
    `matches` [S]) and the per-edit TSV."""
    from pgx_jax.files import atomic_open

    with atomic_open(output) as f:
        for name, sequence in zip(ids, _strings(designs), strict=True):
            f.write(f">{name}_designed\n{sequence}\n")
    tasks = scored["start"].shape[1]
    head = [f"{name}_{t}" for t in range(tasks) for name in scored]
    head += [f"{name}_match" for name in matches]
    changes = []
    with atomic_open(f"{stem}_edits.tsv") as f:
        f.write("id\tposition\tfrom\tto\n")
        for name, start, designed in zip(ids, x0.argmax(-1), designs.argmax(-1), strict=True):
            at = np.flatnonzero(start != designed)
            rows = [(i + 1, LETTERS[start[i]], LETTERS[designed[i]]) for i in at]
            f.writelines(f"{name}\t{p}\t{a}\t{b}\n" for p, a, b in rows)
            changes.append(";".join(f"{p}:{a}>{b}" for p, a, b in rows))
    with atomic_open(f"{stem}.tsv") as f:
        f.write("\t".join(["id", "edits", *head, "changes"]) + "\n")
        for s, name in enumerate(ids):
            values = [f"{scored[n][s, t]:.6g}" for t in range(tasks) for n in scored]
            values += [f"{v[s]:.4f}" for v in matches.values()]
            f.write("\t".join([name, str(edits[s]), *values, changes[s]]) + "\n")
