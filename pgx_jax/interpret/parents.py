"""The page of a folder of runs: a protocol's parent (`<field>=<value>` runs, such as the folds
of a cross-validation, `pgx_jax/train/protocol.py`) or a sweep's (one folder per point, each a
run or a protocol's parent, `pgx_jax/train/sweep.py`): a table of the children's results with
each metric's mean and sample standard deviation, and links to their own reports; a search's
(`pgx tune`, `pgx_jax/tune.py`) also gets its trial table, best trial and Optuna's plots."""

import csv
import html
import os
import re

import numpy as np

from pgx_jax import provenance
from pgx_jax.interpret import page


def _natural(name: str) -> list:
    """Sort key that puts `data.fold=2` before `data.fold=10`."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _is_run(path: str) -> bool:
    return any(os.path.isfile(os.path.join(path, f)) for f in ("config.json", "results.json"))


def children(workdir: str) -> list[str]:
    """Names of the subfolders of `workdir` that hold a run or runs, in natural order."""
    if not os.path.isdir(workdir):
        return []
    found = []
    for name in os.listdir(workdir):
        path = os.path.join(workdir, name)
        # a link to a run beside it (a search's `best`) is not a run of its own
        target = os.path.dirname(os.path.realpath(path))
        sibling = os.path.islink(path) and target == os.path.realpath(workdir)
        if os.path.isdir(path) and not sibling and (_is_run(path) or children(path)):
            found.append(name)
    return sorted(found, key=_natural)


def final_child(workdir: str, names: list[str]) -> str | None:
    """The child that is a protocol's `final` run (trained on all training data), which the
    protocol leaves out of its mean; None if there is none."""
    for name in names:
        config = page.read_json(os.path.join(workdir, name, "config.json")) or {}
        protocol = config.get("protocol") or {}
        if protocol.get("field") and protocol.get("final") is not None:
            return f"{protocol['field']}={protocol['final']}"
    return None


def summary_rows(results: list[dict], metrics: list[str]) -> tuple[list, list]:
    """The mean and sample standard deviation (ddof 1; "" below two runs) of each metric
    over the runs that have it."""
    means, sds = [], []
    for metric in metrics:
        values = np.array([r[metric] for r in results if metric in r], float)
        means.append(float(np.mean(values)) if len(values) else "")
        sds.append(float(np.std(values, ddof=1)) if len(values) > 1 else "")
    return means, sds


def _kind(workdir: str, own: dict | None) -> str:
    if own and own.get("protocol/field"):
        return f"runs over {own['protocol/field']}"
    if os.path.isfile(os.path.join(workdir, "sweep.csv")):
        return "sweep points"
    if os.path.isfile(os.path.join(workdir, "tune.csv")):
        return "search trials"
    return "runs"


def write_parent_report(workdir: str, reports: dict[str, str]) -> str:
    """Write `workdir/report.html` for the children named in `reports` (name: the path of its
    report); returns its path."""
    names = list(reports)
    final = final_child(workdir, names)
    results = {n: page.read_json(os.path.join(workdir, n, "results.json")) for n in names}
    numeric = {
        k
        for r in results.values()
        for k, v in (r or {}).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    metrics = sorted(numeric, key=page.group_key)
    rows = []
    for name in names:
        found = results[name] or {}
        link = os.path.relpath(reports[name], workdir).replace(os.sep, "/")
        label = name + (" (final, not in the mean)" if name == final else "")
        status = "finished" if results[name] is not None else "not finished"
        run = provenance.read(os.path.join(workdir, name)) or {}
        seconds = round(run["run_seconds"]) if "run_seconds" in run else ""
        anchor = page.Html(f'<a href="{html.escape(link)}">{html.escape(label)}</a>')
        rows.append([anchor, status, seconds, *(found.get(m, "") for m in metrics)])
    counted = [r for n, r in results.items() if r is not None and n != final]
    means, sds = summary_rows(counted, metrics)
    own = page.read_json(os.path.join(workdir, "results.json"))
    name = os.path.basename(os.path.abspath(workdir))
    header = ["run", "status", "run time (s)", *metrics]
    body_rows = "".join("<tr>" + "".join(page.cell(v) for v in row) + "</tr>" for row in rows)
    summary = "".join(
        f'<tr class="summary"><td>{label}</td><td></td><td></td>'
        + "".join(page.cell(v) for v in values)
        + "</tr>"
        for label, values in ((f"mean of {len(counted)}", means), ("sd", sds))
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    parts = [
        f"<h1>{html.escape(name)}: {len(names)} {_kind(workdir, own)}</h1>",
        f"<p>{html.escape(os.path.abspath(workdir))}</p>",
        "<h2>Runs</h2>",
        '<p class="note">Each metric\'s mean and sample standard deviation (ddof 1) over the '
        "finished runs that report it; each run's name links to its own report.</p>",
        f"<table><tr>{head}</tr>{body_rows}{summary}</table>",
    ]
    if own is not None:
        parts += ["<h2>Results of the folder (results.json)</h2>", page.grouped_results(own)]
    parts += tune_section(workdir)
    return page.write_page(os.path.join(workdir, "report.html"), name, parts)


def tune_section(workdir: str) -> list[str]:
    """A search's part of the page: its best trial (the `best` link), `tune.csv` and the plots
    `pgx tune` wrote; nothing for other folders."""
    path = os.path.join(workdir, "tune.csv")
    if not os.path.isfile(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    parts = ["<h2>Search (pgx tune)</h2>"]
    best = os.path.join(workdir, "best")
    if os.path.islink(best):
        name = html.escape(os.path.basename(os.path.realpath(best)))
        parts.append(f'<p>best trial: <a href="{name}/report.html">{name}</a> (linked as best)</p>')
    parts.append(page.table(rows[0], rows[1:]) if rows else "")
    images = sorted(n for n in os.listdir(workdir) if n.startswith("tune_") and n.endswith(".png"))
    return parts + ["<p>", *(page.image(workdir, os.path.join(workdir, n)) for n in images), "</p>"]
