"""`pgx motifs --workdir DIR [--fasta SEQS.fa] [--output DIR] [--threshold 0.5] [--top 3]
[--match_threshold 0.7]`: filters as motifs.

For a run whose model starts with a `OneHotConv`, every first-layer filter becomes a position
frequency matrix of the subsequences that activate it above `threshold` times its maximum,
trimmed of uninformative flanks. The sequences scanned are the run's test split (positives
only for classification; rebuilt from the run's data set, which must be at hand), or the
records of `--fasta` (all of them; the model alone is restored from the workdir). Writes
`motifs.meme` (MEME minimal format), `logos/filter_<f>.png` (titled with the filter's rank),
`motif_matches.tsv` (the `top` JASPAR CORE vertebrate matches of each filter, filters ranked by
how well their best site separates the classes) and `motifs.json` (the thresholds and the
ranking). A filter is named after its best match only when that scores at least
`match_threshold`; below it, "no match above T".

example: pgx motifs --workdir runs/default --top 3
"""

import json
import os
import sys

import numpy as np
from absl import flags

from pgx_jax.commands.flags import parse
from pgx_jax.data import lengths
from pgx_jax.errors import PgxError
from pgx_jax.files import check_writable, write_atomically
from pgx_jax.interpret.motifs import MATCH_THRESHOLD, named_match

MATCH_COLUMNS = (
    "filter", "filter_rank", "auroc", "sites", "width",
    "match_rank", "matrix_id", "name", "score", "strand", "offset",
)  # fmt: skip


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string(
        "fasta", None, "sequences to scan (default: the run's test split)", flag_values=flag_values
    )
    flags.DEFINE_string(
        "output", None, "output directory (default: the workdir)", flag_values=flag_values
    )
    flags.DEFINE_float(
        "threshold", 0.5, "fraction of a filter's maximum a window must exceed",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_integer("top", 3, "JASPAR matches reported per filter", flag_values=flag_values)
    flags.DEFINE_float(
        "match_threshold", MATCH_THRESHOLD,
        "similarity score from which a filter is named after its best JASPAR match",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_integer(
        "max_sequences", 20000, "test sequences scanned at most", flag_values=flag_values
    )


def scanned_sequences(run, fasta: str | None, max_sequences: int) -> tuple[dict, np.ndarray]:
    """Encoded sequences to scan and their labels (None without): the records of `fasta`, or
    the run's test split (else validation, else train), at most `max_sequences`."""
    from pgx_jax.data.sources import take
    from pgx_jax.experiment import build_experiment

    if fasta:
        from pgx_jax.data.readers import read_fasta

        found = read_fasta(fasta)[:max_sequences]
        records = {
            "id": np.array([r.id for r in found]),
            "sequence": np.array([r.sequence for r in found]),
        }
        lengths.check_fits(run.predictor.input_lengths, records, fasta)
        return run.predictor.encode(records), None
    experiment = build_experiment(run.config)
    splits = experiment.splits
    source = splits[next(s for s in ("test", "validation", "train") if s in splits)]
    batch = experiment.encode_split(take(source, np.arange(min(len(source), max_sequences))))
    return batch, np.asarray(batch["label"])


def filter_motifs(
    run, batch: dict, labels: np.ndarray | None, threshold: float = 0.5, top: int = 3
) -> list:
    """One dict per first-layer filter of the encoded sequences `batch`, most discriminative
    first (by AUROC of its best site against `labels` for classification; in filter order
    without labels or for regression).

    Keys: filter, auroc (NaN without it), sites, pfm [W, 4], motif (trimmed, maybe empty),
    matches (best JASPAR matches of the trimmed motif, best first).
    """
    from pgx_jax.interpret.filters import first_layer_activations, rank_filters
    from pgx_jax.interpret.motifs import best_jaspar_matches, filter_pfms, trim_pfm

    x = batch["inputs"].get("x")
    if x is None or np.ndim(x) != 3 or np.shape(x)[2] != 4:
        raise PgxError(f"{run.workdir}: the model's input is not one-hot DNA/RNA [N, L, 4]")
    try:
        activations = first_layer_activations(run.predictor.model, run.variables, x)
    except IndexError:
        raise PgxError(f"{run.workdir}: the model has no OneHotConv first layer") from None
    classified = labels is not None and run.predictor.task in ("binary", "multilabel")
    positive = (labels.reshape(len(labels), -1) > 0).any(axis=1) if classified else None
    auroc = (
        rank_filters(activations, positive.astype(np.float32))
        if classified
        else np.full(activations.shape[2], np.nan)
    )
    if positive is not None:
        x, activations = x[positive], activations[positive]
    width = np.shape(x)[1] - activations.shape[1] + 1
    pfms, counts = filter_pfms(x, activations, width, threshold)
    found = []
    for f in np.argsort(-np.nan_to_num(auroc, nan=-1.0), kind="stable"):
        motif = trim_pfm(pfms[f])
        matches = best_jaspar_matches(motif, top=top) if counts[f] and len(motif) else []
        found.append(
            {
                "filter": int(f),
                "auroc": float(auroc[f]),
                "sites": int(counts[f]),
                "pfm": pfms[f],
                "motif": motif,
                "matches": matches,
            }
        )
    return found


def write_motifs(
    found: list, output: str, match_threshold: float = MATCH_THRESHOLD, threshold: float = 0.5
) -> None:
    """Write motifs.meme, logos/filter_<f>.png, motif_matches.tsv and motifs.json under
    `output`; a filter carries its best match's name only from `match_threshold` up."""
    from pgx_jax.interpret.logos import save_logo
    from pgx_jax.interpret.meme import write_meme

    os.makedirs(os.path.join(output, "logos"), exist_ok=True)
    meme, sites, rows = [], [], ["\t".join(MATCH_COLUMNS)]
    for rank, m in enumerate(found):
        named = bool(m["matches"]) and m["matches"][0]["score"] >= match_threshold
        best = m["matches"][0] if named else None
        label = f"{best['matrix_id']}_{best['name']}" if best else ""
        if m["sites"] and len(m["motif"]):
            meme.append((f"filter{m['filter']}", label.replace(" ", "_"), m["motif"]))
            sites.append(m["sites"])
        if m["sites"]:
            logo = m["motif"] if len(m["motif"]) else m["pfm"]
            title = (
                f"#{rank + 1} filter {m['filter']}, AUROC {m['auroc']:.3f}: "
                f"{named_match(m['matches'], match_threshold)}"
            )
            save_logo(logo, os.path.join(output, "logos", f"filter_{m['filter']:03d}.png"), title)
        head = [m["filter"], rank + 1, f"{m['auroc']:.4f}", m["sites"], len(m["motif"])]
        for j, match in enumerate(m["matches"] or [None]):
            tail = (
                [j + 1, match["matrix_id"], match["name"], f"{match['score']:.4f}",
                 match["strand"], match["offset"]]
                if match
                else [""] * 6
            )  # fmt: skip
            rows.append("\t".join(str(v) for v in head + tail))
    write_meme(os.path.join(output, "motifs.meme"), meme, sites=sites)
    with open(os.path.join(output, "motif_matches.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    ranked = not all(np.isnan(m["auroc"]) for m in found)
    summary = {
        "match_threshold": match_threshold,
        "activation_threshold": threshold,
        "ranked_by": "auroc of the best site" if ranked else "filter order (no labels)",
    }
    write_atomically(os.path.join(output, "motifs.json"), json.dumps(summary, indent=2) + "\n")


def main(argv: list[str]) -> int:
    """Export the first-layer filters of a run as motifs, logos and JASPAR matches."""
    flag_values, _ = parse("motifs", argv, _define, with_config=False)
    if not flag_values.workdir:
        raise PgxError("--workdir is required")
    from pgx_jax.runs import load_run

    output = check_writable(flag_values.output or flag_values.workdir, "--output")
    run = load_run(flag_values.workdir)
    batch, labels = scanned_sequences(run, flag_values.fasta, flag_values.max_sequences)
    found = filter_motifs(run, batch, labels, flag_values.threshold, flag_values.top)
    write_motifs(found, output, flag_values.match_threshold, flag_values.threshold)
    matched = sum(bool(m["matches"]) for m in found)
    threshold = flag_values.match_threshold
    named = sum(bool(m["matches"]) and m["matches"][0]["score"] >= threshold for m in found)
    print(
        f"motifs: {len(found)} filters ({matched} with a motif, {named} matching JASPAR at "
        f"{threshold:g} or more) from the {run.kind} checkpoint "
        f"(step {run.step}); wrote {output}/motifs.meme, motif_matches.tsv, logos/",
        file=sys.stderr,
    )
    for m in found[:5]:
        if m["matches"]:
            print(
                f"filter {m['filter']}: auroc {m['auroc']:.3f}, "
                f"{named_match(m['matches'], flag_values.match_threshold)}"
            )
    return 0
