"""One HTML page for a run: where and when it ran, its data, results, pictures, motifs and
config (pictures linked as relative PNGs). A folder of runs (a cross-validation or sweep
parent) gets a page of its children instead (`pgx_jax/interpret/parents.py`)."""

import csv
import html
import json
import os

import numpy as np

from pgx_jax import provenance
from pgx_jax.data.summary import SUMMARY_FILE, label_balance
from pgx_jax.errors import PgxError
from pgx_jax.interpret import page, parents, plots
from pgx_jax.interpret.motifs import MATCH_Q, MATCH_THRESHOLD, named_match
from pgx_jax.train.evaluation import PREDICTIONS_FILE
from pgx_jax.train.writers import read_metrics

REPORT_FILE = "report.html"
TABLE_SUMMARY_FILE = "data_summary.txt"
"""What a run on a user's own table inferred from it (`experiments/table.py`)."""


def make_pictures(workdir: str) -> list[str]:
    """Write the run's pictures into `workdir`: training curves and, if the loop saved test
    predictions, the prediction pictures. Returns the paths written."""
    paths = []
    if os.path.isfile(os.path.join(workdir, "metrics.jsonl")):
        curves = plots.training_curves(
            read_metrics(workdir), os.path.join(workdir, "training_curves.png")
        )
        paths += [curves] if curves else []
    predictions = os.path.join(workdir, PREDICTIONS_FILE)
    if os.path.isfile(predictions):
        paths += plots.prediction_pictures(predictions, workdir)
    return paths


def _duration(seconds: float) -> str:
    minutes, s = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{s:02d}" + (f" ({seconds:.0f} s)" if hours or minutes else "")


def provenance_section(workdir: str) -> str:
    """Package version, commit, dates, run time, host and devices of the run."""
    found = provenance.read(workdir)
    if found is None:
        return "<h2>Provenance</h2><p>not recorded (no provenance.json: an older run)</p>"
    devices = found.get("devices", {})
    commit = found.get("commit", "not a git checkout")
    rows = [
        ["package", f"{found.get('package', 'pgx_jax')} {found.get('version', '?')}"],
        ["commit", commit + (" (with uncommitted changes)" if found.get("dirty") else "")],
        ["started (UTC)", found.get("started", "?")],
        ["finished (UTC)", found.get("finished", "not finished")],
    ]
    if "run_seconds" in found:
        rows.append(["run time", _duration(found["run_seconds"])])
    for resume in found.get("resumes", []):
        rows.append(["resumed", f"{resume['at']} from step {resume['step']} on {resume['host']}"])
    rows += [
        ["host", found.get("host", "?")],
        ["platform", found.get("platform", "?")],
        ["python, jax", f"{found.get('python', '?')}, {found.get('jax', '?')}"],
        ["devices", f"{devices.get('count', '?')} x {devices.get('kind', '?')} "
                    f"({devices.get('platform', '?')})"],
        ["processes", str(found.get("processes", "?"))],
    ]  # fmt: skip
    return "<h2>Provenance</h2>" + page.table([], rows)


def data_section(workdir: str) -> str:
    """Split sizes and label balance (`data_summary.json`; for older runs the test split from
    its saved predictions), the records cut or padded, and a table run's own summary."""
    found = page.read_json(os.path.join(workdir, SUMMARY_FILE))
    parts = ["<h2>Data</h2>"]
    if found is not None:
        rows = [[name, s["records"], s["labels"]] for name, s in found["splits"].items()]
        parts.append(f"<p>task: {html.escape(found['task'])}</p>")
        parts.append(page.table(["split", "records", "labels"], rows))
        parts += ["<ul>", *(f"<li>{html.escape(line)}</li>" for line in found["lengths"]), "</ul>"]
    else:
        predictions = os.path.join(workdir, PREDICTIONS_FILE)
        if os.path.isfile(predictions):
            with np.load(predictions) as saved:
                task, labels, weights = str(saved["task"]), saved["labels"], saved["weights"]
            balance = label_balance(task, labels, weights)
            parts.append(f"<p>task: {html.escape(task)}; other splits not recorded</p>")
            parts.append(
                page.table(["split", "records", "labels"], [["test", len(labels), balance]])
            )
        else:
            parts.append("<p>not recorded</p>")
    table_summary = os.path.join(workdir, TABLE_SUMMARY_FILE)
    if os.path.isfile(table_summary):
        with open(table_summary, encoding="utf-8") as f:
            parts.append(f"<pre>{html.escape(f.read())}</pre>")
    return "".join(parts)


def _best_match(rows: list[dict], by: str) -> list[dict]:
    """The best match of one motif's rows of a matches table, as `named_match` reads it."""
    best = min(rows, key=lambda r: int(r["match_rank"] or 0))
    return [{**best, by: float(best[by])}] if best[by] else []


def _match_note(by: str, threshold: float, flag: str) -> str:
    if by == "q_value":
        return (
            "named after its best JASPAR CORE vertebrate match (TomTom, memelite) only when "
            f"that match's q-value (Benjamini-Hochberg over the collection) is below "
            f"{threshold:g} (<code>pgx motifs --match_q</code>)."
        )
    return (
        "named after its best JASPAR CORE vertebrate match only when the similarity score "
        f"(mean column Pearson r, overhangs counting 0) is at least {threshold:g} "
        f"(<code>pgx motifs {flag}</code>)."
    )


def motif_section(workdir: str) -> str:
    """Filters in rank order with their best JASPAR match (named below the stated q-value, or
    from the stated score in older outputs) and their logos, if `pgx motifs` ran."""
    path = os.path.join(workdir, "motif_matches.tsv")
    if not os.path.isfile(path):
        return ""
    settings = page.read_json(os.path.join(workdir, "motifs.json")) or {}
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    by = "q_value" if rows and "q_value" in rows[0] else "score"
    threshold = settings.get("match_threshold", MATCH_Q if by == "q_value" else MATCH_THRESHOLD)
    filters: dict[str, list[dict]] = {}
    for row in rows:
        filters.setdefault(row["filter"], []).append(row)
    ranked = sorted(filters.values(), key=lambda found: int(found[0]["filter_rank"]))
    table_rows = []
    for found in ranked:
        first = found[0]
        match = named_match(_best_match(found, by), threshold, by)
        numbers = [int(first[k]) for k in ("filter_rank", "filter", "sites", "width")]
        logo = os.path.join(workdir, "logos", f"filter_{numbers[1]:03d}.png")
        picture = page.image(workdir, logo, "logo") if os.path.isfile(logo) else ""
        table_rows.append([*numbers[:2], float(first["auroc"]), *numbers[2:], match, picture])
    ranked_by = settings.get("ranked_by", "auroc of the best site")
    note = f"Ranked by {ranked_by}. A filter is " + _match_note(by, threshold, "--match_threshold")
    return (
        "<h2>First-layer filters as motifs</h2>"
        + f'<p class="note">{note}</p>'
        + page.table(
            ["rank", "filter", "auroc", "sites", "width", "best match", "logo"], table_rows
        )
    )


def modisco_section(workdir: str) -> str:
    """TF-MoDISco patterns with seqlet counts, best JASPAR match and logo, if `pgx motifs
    --method modisco` ran."""
    path = os.path.join(workdir, "modisco_patterns.tsv")
    if not os.path.isfile(path):
        return ""
    settings = page.read_json(os.path.join(workdir, "modisco.json")) or {}
    threshold = settings.get("match_q", MATCH_Q)
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    patterns: dict[str, list[dict]] = {}
    for row in rows:
        patterns.setdefault(row["pattern"], []).append(row)
    table_rows = []
    for i, (name, found) in enumerate(patterns.items()):
        first = found[0]
        match = named_match(_best_match(found, "q_value"), threshold, "q_value")
        logo = os.path.join(workdir, "logos", f"pattern_{i:03d}.png")
        picture = page.image(workdir, logo, "logo") if os.path.isfile(logo) else ""
        core = f"{first['start']}-{first['end']}"
        table_rows.append([name, int(first["seqlets"]), core, match, picture])
    note = (
        f"DeepLIFT/DeepSHAP contributions of {settings.get('sequences', '?')} sequences against "
        f"{settings.get('shuffles', '?')} dinucleotide shuffles each, TF-MoDISco (modisco-lite) "
        "patterns, each trimmed to its core; a pattern is " + _match_note("q_value", threshold, "")
    )
    return (
        "<h2>TF-MoDISco patterns</h2>"
        + f'<p class="note">{note}</p>'
        + page.table(["pattern", "seqlets", "core", "best match", "logo"], table_rows)
    )


def write_report(workdir: str, pictures: bool = True) -> str:
    """Write `workdir/report.html` (making the pictures first if asked); returns its path.
    A folder of runs (no config.json of its own) gets a page of its children, each child's
    own report written first."""
    config = page.read_json(os.path.join(workdir, "config.json"))
    found = parents.children(workdir) if config is None else []
    if found:
        reports = {name: write_report(os.path.join(workdir, name), pictures) for name in found}
        return parents.write_parent_report(workdir, reports)
    results = page.read_json(os.path.join(workdir, "results.json"))
    if config is None and results is None:
        raise PgxError(
            f"{workdir}: neither config.json nor results.json nor run folders; not a run directory"
        )
    images = make_pictures(workdir) if pictures else []
    name = os.path.basename(os.path.abspath(workdir))
    parts = [
        f"<h1>Run {html.escape(name)}</h1>",
        f"<p>{html.escape(os.path.abspath(workdir))}</p>",
        f'<div class="group">{provenance_section(workdir)}</div>',
        f'<div class="group">{data_section(workdir)}</div>',
    ]
    if results is not None:
        parts += ["<h2>Results</h2>", page.grouped_results(results)]
    if images:
        parts += ["<h2>Pictures</h2><p>", *(page.image(workdir, p) for p in images), "</p>"]
    parts += [motif_section(workdir), modisco_section(workdir)]
    if config is not None:
        text = json.dumps(config, indent=2, sort_keys=True)
        parts += ["<h2>Config</h2>", f"<pre>{html.escape(text)}</pre>"]
    return page.write_page(os.path.join(workdir, REPORT_FILE), name, parts)
