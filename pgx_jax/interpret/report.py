"""One HTML page for a run: its config, results and pictures (all linked as relative PNGs)."""

import glob
import html
import json
import os

from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open
from pgx_jax.interpret import plots
from pgx_jax.train.evaluation import PREDICTIONS_FILE
from pgx_jax.train.writers import read_metrics

REPORT_FILE = "report.html"

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 70em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
img { margin: 4px; border: 1px solid #eee; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
"""


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


def _read_json(path: str) -> dict | None:
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _image(workdir: str, path: str) -> str:
    src = os.path.relpath(path, workdir).replace(os.sep, "/")
    return f'<img src="{html.escape(src)}" alt="{html.escape(src)}">'


def _motif_section(workdir: str) -> str:
    """The best JASPAR match and logo of each filter, if `pgx motifs` was run."""
    path = os.path.join(workdir, "motif_matches.tsv")
    if not os.path.isfile(path):
        return ""
    with open(path) as f:
        header, *lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    best = [row for row in lines if row[header.index("match_rank")] in ("1", "")]
    logos = sorted(glob.glob(os.path.join(workdir, "logos", "*.png")))
    return (
        "<h2>First-layer filters as motifs</h2>"
        + _table(header, best)
        + "<p>"
        + "".join(_image(workdir, p) for p in logos)
        + "</p>"
    )


def write_report(workdir: str, pictures: bool = True) -> str:
    """Write `workdir/report.html` (making the pictures first if asked); returns its path."""
    config = _read_json(os.path.join(workdir, "config.json"))
    results = _read_json(os.path.join(workdir, "results.json"))
    if config is None and results is None:
        raise PgxError(f"{workdir}: neither config.json nor results.json; not a run directory")
    images = make_pictures(workdir) if pictures else []
    name = os.path.basename(os.path.abspath(workdir))
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>Run {html.escape(name)}</h1>",
        f"<p>{html.escape(os.path.abspath(workdir))}</p>",
    ]
    if results is not None:
        rows = [[k, f"{v:.4f}" if isinstance(v, float) else v] for k, v in sorted(results.items())]
        parts += ["<h2>Results</h2>", _table(["name", "value"], rows)]
    if images:
        parts += ["<h2>Pictures</h2><p>", *(_image(workdir, p) for p in images), "</p>"]
    parts.append(_motif_section(workdir))
    if config is not None:
        text = json.dumps(config, indent=2, sort_keys=True)
        parts += ["<h2>Config</h2>", f"<pre>{html.escape(text)}</pre>"]
    parts.append("</body></html>\n")
    path = os.path.join(workdir, REPORT_FILE)
    with atomic_open(path, encoding="utf-8") as f:
        f.write("\n".join(parts))
    return path
