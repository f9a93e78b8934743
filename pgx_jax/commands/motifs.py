"""`pgx motifs --workdir DIR [--input SEQS] [--method filters|modisco] [--output DIR]
[--top 3] [--match_q 0.05]`: motifs a run's model has learnt, matched against JASPAR CORE
vertebrates by TomTom (memelite) with Benjamini-Hochberg q-values.

The sequences explained are the records of `--input` (FASTA, or a CSV/TSV/Parquet table with
the columns `pgx predict` reads; all of them, the model alone restored from the workdir) or
else the run's test split (positives only for classification; rebuilt from the run's data,
which must be at hand). A motif is named after its best match when that match's q-value is
below `match_q`; else "no match with q below Q".

`--method filters` (for a model whose first layer is a `OneHotConv`): every first-layer filter
becomes a position frequency matrix of the subsequences that activate it above `threshold`
times its maximum, trimmed of uninformative flanks. Writes `motifs.meme`,
`logos/filter_<f>.png`, `motif_matches.tsv` (the `top` matches of each filter, filters ranked
by how well their best site separates the classes) and `motifs.json`.

`--method modisco`: DeepLIFT/DeepSHAP hypothetical contributions of the model's raw output
(`--output_index` of a multi-output model; a profile model's log count, or with `--profile`
its profile as bpnet-lite weighs it) against `shuffles`
dinucleotide shuffles of each sequence (`pgx_jax/interpret/deeplift.py`), then TF-MoDISco
(modisco-lite, in a subprocess) and TomTom of each pattern's trimmed core. Writes
`modisco/contributions.npz` (x, hypothetical), `modisco/modisco_results.h5`,
`modisco_patterns.tsv` (pattern, seqlets, core, the `top` matches), `modisco.meme`,
`logos/pattern_<i>.png` (the core's contribution-weight logo) and `modisco.json`; the run's
report (`pgx report`) shows them.

example: pgx motifs --workdir runs/default --method modisco
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
from pgx_jax.interpret.motifs import MATCH_Q, is_named, named_match

MATCH_FIELDS = ("matrix_id", "name", "p_value", "q_value", "score", "strand", "offset")
MATCH_COLUMNS = ("filter", "filter_rank", "auroc", "sites", "width", "match_rank", *MATCH_FIELDS)
PATTERN_COLUMNS = ("pattern", "seqlets", "start", "end", "match_rank", *MATCH_FIELDS)


def _define(flag_values: flags.FlagValues) -> None:
    flags.DEFINE_string("workdir", None, "run directory of a finished run", flag_values=flag_values)
    flags.DEFINE_string(
        "input", None, "sequences to explain, FASTA or a table (default: the run's test split)",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_enum(
        "method", "filters", ["filters", "modisco"],
        "first-layer filters, or TF-MoDISco patterns of DeepLIFT/DeepSHAP attributions",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_string(
        "output", None, "output directory (default: the workdir)", flag_values=flag_values
    )
    flags.DEFINE_float(
        "threshold", 0.5, "fraction of a filter's maximum a window must exceed",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_integer("top", 3, "JASPAR matches reported per filter", flag_values=flag_values)
    flags.DEFINE_float(
        "match_q", MATCH_Q, "q-value below which a motif is named after its best JASPAR match",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_integer(
        "max_sequences", 20000, "sequences explained at most", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "output_index", 0, "modisco: output of a multi-output model", flag_values=flag_values
    )
    flags.DEFINE_bool(
        "profile", False, "modisco: a profile model's profile (softmax-weighted logits), not "
        "its log count", flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_integer(
        "shuffles", 20, "modisco: dinucleotide-shuffled references per sequence",
        flag_values=flag_values,
    )  # fmt: skip
    flags.DEFINE_integer(
        "max_seqlets", 2000, "modisco: seqlets per sign at most", flag_values=flag_values
    )


def scanned_sequences(run, path: str | None, max_sequences: int) -> tuple[dict, np.ndarray]:
    """Encoded sequences to explain and their labels (None without): the records of `path`
    (what `pgx predict` reads), or the run's test split (else validation, else train), at
    most `max_sequences`."""
    from pgx_jax.data.sources import take
    from pgx_jax.experiment import build_experiment

    if path:
        from pgx_jax.commands.predict import read_records
        from pgx_jax.data.readers import BadRecords

        records, _ = read_records(run, path, BadRecords("raise"))
        records = {name: values[:max_sequences] for name, values in records.items()}
        lengths.check_fits(run.predictor.input_lengths, records, "--input")
        return run.predictor.encode(records), None
    experiment = build_experiment(run.config)
    splits = experiment.splits
    source = splits[next(s for s in ("test", "validation", "train") if s in splits)]
    batch = experiment.encode_split(take(source, np.arange(min(len(source), max_sequences))))
    return batch, np.asarray(batch["label"])


def _positives(run, labels: np.ndarray | None) -> np.ndarray | None:
    """Which records are positive for a classification run with labels (None otherwise)."""
    if labels is None or run.predictor.task not in ("binary", "multilabel"):
        return None
    return (labels.reshape(len(labels), -1) > 0).any(axis=1)


def _one_hot(run, batch: dict) -> np.ndarray:
    x = batch["inputs"].get("x")
    if x is None or np.ndim(x) != 3 or np.shape(x)[2] != 4:
        raise PgxError(f"{run.workdir}: the model's input is not one-hot DNA/RNA [N, L, 4]")
    return np.asarray(x, np.float32)


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
    from pgx_jax.interpret.motifs import filter_pfms, tomtom_matches, trim_pfm

    x = _one_hot(run, batch)
    try:
        activations = first_layer_activations(run.predictor.model, run.variables, x)
    except IndexError:
        raise PgxError(f"{run.workdir}: the model has no OneHotConv first layer") from None
    positive = _positives(run, labels)
    auroc = (
        rank_filters(activations, positive.astype(np.float32))
        if positive is not None
        else np.full(activations.shape[2], np.nan)
    )
    if positive is not None:
        x, activations = x[positive], activations[positive]
    width = np.shape(x)[1] - activations.shape[1] + 1
    pfms, counts = filter_pfms(x, activations, width, threshold)
    order = np.argsort(-np.nan_to_num(auroc, nan=-1.0), kind="stable")
    motifs = {f: trim_pfm(pfms[f]) for f in order}
    shown = [f for f in order if counts[f] and len(motifs[f])]
    matched = dict(zip(shown, tomtom_matches([motifs[f] for f in shown], top=top), strict=True))
    found = []
    for f in order:
        motif, matches = motifs[f], matched.get(f, [])
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


def _match_cells(match: dict | None) -> list:
    """A match's cells; p- and q-value empty for a match scored by similarity alone."""
    if match is None:
        return [""] * len(MATCH_FIELDS)
    p, q = (f"{match[k]:.3g}" if k in match else "" for k in ("p_value", "q_value"))
    return [
        match["matrix_id"], match["name"], p, q, f"{match['score']:.4f}", match["strand"],
        match["offset"],
    ]  # fmt: skip


def _table_rows(head: list, matches: list[dict]) -> list[str]:
    """One row per match (or one with empty match cells), `head` then rank and match."""
    return [
        "\t".join(str(v) for v in [*head, j + 1 if m else "", *_match_cells(m)])
        for j, m in enumerate(matches or [None])
    ]


def write_motifs(
    found: list, output: str, match_threshold: float = MATCH_Q, threshold: float = 0.5
) -> None:
    """Write motifs.meme, logos/filter_<f>.png, motif_matches.tsv and motifs.json under
    `output`; a filter carries its best match's name only when `is_named` at
    `match_threshold` (a q-value; a similarity score for matches without one)."""
    from pgx_jax.interpret.logos import save_logo
    from pgx_jax.interpret.meme import write_meme

    os.makedirs(os.path.join(output, "logos"), exist_ok=True)
    meme, sites, rows = [], [], ["\t".join(MATCH_COLUMNS)]
    for rank, m in enumerate(found):
        best = m["matches"][0] if is_named(m["matches"], match_threshold) else None
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
        rows.extend(_table_rows(head, m["matches"]))
    write_meme(os.path.join(output, "motifs.meme"), meme, sites=sites)
    write_atomically(os.path.join(output, "motif_matches.tsv"), "\n".join(rows) + "\n")
    ranked = not all(np.isnan(m["auroc"]) for m in found)
    summary = {
        "match_threshold": match_threshold,
        "activation_threshold": threshold,
        "ranked_by": "auroc of the best site" if ranked else "filter order (no labels)",
    }
    write_atomically(os.path.join(output, "motifs.json"), json.dumps(summary, indent=2) + "\n")


def modisco_patterns(run, batch: dict, labels: np.ndarray | None, output: str, settings: dict):
    """TF-MoDISco patterns of the DeepSHAP contributions of the encoded sequences `batch`
    (positives only for a classification run with labels), each with its TomTom matches;
    writes `output/modisco/` (contributions, modisco-lite's results)."""
    from pgx_jax.interpret import deeplift, modisco
    from pgx_jax.interpret.mutagenesis import model_score_fn

    x = _one_hot(run, batch)
    inputs = {name: np.asarray(v) for name, v in batch["inputs"].items()}
    if "mask" in inputs and not inputs["mask"].all():
        raise PgxError(
            f"--method modisco: every sequence must fill the {x.shape[1]} positions the run "
            "reads (shorter ones are padded, and a padded reference would differ)"
        )
    positive = _positives(run, labels)
    if positive is not None:
        x = x[positive]
    if not len(x):
        raise PgxError("--method modisco: no sequences to explain")
    first = {name: v[:1] for name, v in inputs.items()}
    score_fn = model_score_fn(
        run.predictor.model, run.variables, first, settings["output_index"], settings["profile"]
    )
    hypothetical = deeplift.deep_lift_shap(score_fn, x, n_shuffles=settings["shuffles"])
    folder = os.path.join(output, "modisco")
    os.makedirs(folder, exist_ok=True)
    np.savez_compressed(os.path.join(folder, "contributions.npz"), x=x, hypothetical=hypothetical)
    path = modisco.run_modisco(x, hypothetical, folder, settings["max_seqlets"])
    return modisco.match_patterns(modisco.read_patterns(path), top=settings["top"]), len(x)


def write_patterns(patterns: list[dict], output: str, settings: dict) -> None:
    """Write modisco_patterns.tsv, modisco.meme, logos/pattern_<i>.png and modisco.json."""
    from pgx_jax.interpret.logos import save_attribution_logo
    from pgx_jax.interpret.meme import write_meme

    os.makedirs(os.path.join(output, "logos"), exist_ok=True)
    rows, meme = ["\t".join(PATTERN_COLUMNS)], []
    for i, p in enumerate(patterns):
        core = slice(p["start"], p["end"])
        best = p["matches"][0] if is_named(p["matches"], settings["match_q"]) else None
        label = f"{best['matrix_id']}_{best['name']}".replace(" ", "_") if best else ""
        meme.append((p["name"].replace("/", "."), label, p["pfm"][core]))
        named = f"{best['matrix_id']} {best['name']}" if best else "no match"
        title = f"pattern {i}, {p['seqlets']} seqlets: {named}"  # short: the logo is narrow
        logo = os.path.join(output, "logos", f"pattern_{i:03d}.png")
        save_attribution_logo(p["cwm"][core], logo, title)
        head = [p["name"], p["seqlets"], p["start"], p["end"]]
        rows.extend(_table_rows(head, p["matches"]))
    write_meme(os.path.join(output, "modisco.meme"), meme, sites=[p["seqlets"] for p in patterns])
    write_atomically(os.path.join(output, "modisco_patterns.tsv"), "\n".join(rows) + "\n")
    write_atomically(os.path.join(output, "modisco.json"), json.dumps(settings, indent=2) + "\n")


def main(argv: list[str]) -> int:
    """Motifs of a run: first-layer filters or TF-MoDISco patterns, with JASPAR matches."""
    flag_values, _ = parse("motifs", argv, _define, with_config=False)
    if not flag_values.workdir:
        raise PgxError("--workdir is required")
    from pgx_jax.runs import load_run

    output = check_writable(flag_values.output or flag_values.workdir, "--output")
    run = load_run(flag_values.workdir)
    batch, labels = scanned_sequences(run, flag_values.input, flag_values.max_sequences)
    q = flag_values.match_q
    if flag_values.method == "modisco":
        settings = {
            name: flag_values[name].value
            for name in ("output_index", "profile", "shuffles", "max_seqlets", "top", "match_q")
        }
        patterns, explained = modisco_patterns(run, batch, labels, output, settings)
        write_patterns(patterns, output, {**settings, "sequences": explained})
        named = sum(is_named(p["matches"], q) for p in patterns)
        print(
            f"motifs: {len(patterns)} MoDISco patterns of {explained} sequences ({named} "
            f"matching JASPAR with q below {q:g}); wrote {output}/modisco_patterns.tsv, "
            "modisco.meme, logos/",
            file=sys.stderr,
        )
        for p in patterns[:5]:
            print(f"{p['name']}: {p['seqlets']} seqlets, {named_match(p['matches'], q)}")
        return 0
    found = filter_motifs(run, batch, labels, flag_values.threshold, flag_values.top)
    write_motifs(found, output, q, flag_values.threshold)
    matched = sum(bool(m["matches"]) for m in found)
    named = sum(is_named(m["matches"], q) for m in found)
    print(
        f"motifs: {len(found)} filters ({matched} with a motif, {named} matching JASPAR with q "
        f"below {q:g}) from the {run.kind} checkpoint "
        f"(step {run.step}); wrote {output}/motifs.meme, motif_matches.tsv, logos/",
        file=sys.stderr,
    )
    for m in found[:5]:
        if m["matches"]:
            print(f"filter {m['filter']}: auroc {m['auroc']:.3f}, {named_match(m['matches'], q)}")
    return 0
