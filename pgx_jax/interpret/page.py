"""HTML pieces the report pages share: tables, pictures, grouped results and the page itself."""

import datetime
import html
import json
import os

from pgx_jax import provenance
from pgx_jax.files import atomic_open

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 75em; }
table { border-collapse: collapse; margin-bottom: 1em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.summary td { font-weight: bold; background: #f6f6f6; }
img { margin: 4px; border: 1px solid #eee; max-height: 300px; }
img.logo { height: 110px; margin: 0; border: none; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
.note { color: #555; font-size: small; }
.group { display: inline-block; vertical-align: top; margin-right: 2em; }
h3 { margin: 0.5em 0 0.2em; }
"""

GROUP_ORDER = ("test", "final", "validation", "train")
"""Result groups (the name's part before the first "/") shown first, in this order; the others
follow alphabetically, and names without a group last, under "run"."""


def read_json(path: str) -> dict | None:
    """The JSON object in `path`, or None if there is no such file."""
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


class Html(str):
    """Text that is HTML already (a link, a picture): table cells keep it as it is."""


def cell(value) -> str:
    """A table cell: floats to 4 decimals, numbers right-aligned, text escaped unless Html."""
    if isinstance(value, Html):
        return f"<td>{value}</td>"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"<td>{html.escape(str(value))}</td>"
    text = f"{value:.4f}" if isinstance(value, float) else str(value)
    return f'<td class="num">{text}</td>'


def table(header: list[str], rows: list[list]) -> str:
    """An HTML table (no header row when `header` is empty)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def image(workdir: str, path: str, css: str = "") -> Html:
    """A picture linked by its path relative to `workdir` (of CSS class `css`)."""
    src = html.escape(os.path.relpath(path, workdir).replace(os.sep, "/"))
    return Html(f'<img src="{src}" alt="{src}"' + (f' class="{css}">' if css else ">"))


def group_of(name: str) -> str:
    return name.split("/", 1)[0] if "/" in name else "run"


def group_key(name: str) -> tuple:
    """Sort key of a result name: by group (GROUP_ORDER first, "run" last), then by name."""
    group = group_of(name)
    rank = GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)
    return (rank, group == "run", group, name)


def grouped_results(results: dict) -> str:
    """Results as one table per group (test, final, validation, train, others), names sorted."""
    groups: dict[str, list] = {}
    for name in sorted(results, key=group_key):
        group = group_of(name)
        groups.setdefault(group, []).append([name.removeprefix(f"{group}/"), results[name]])
    return "".join(
        f'<div class="group"><h3>{html.escape(group)}</h3>{table(["name", "value"], rows)}</div>'
        for group, rows in groups.items()
    )


def footer() -> str:
    """When and by which version of pgx_jax the page was written."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    commit = provenance.git_state().get("commit", "")
    at = f" (commit {commit[:12]})" if commit else ""
    return (
        f'<p class="note">Written {now} by pgx_jax {provenance.package_version()}{at}, '
        "<code>pgx report</code>.</p>"
    )


def write_page(path: str, title: str, body: list[str]) -> str:
    """Write an HTML page of `body` parts under `title` to `path`; returns the path."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        *body,
        footer(),
        "</body></html>\n",
    ]
    with atomic_open(path, encoding="utf-8") as f:
        f.write("\n".join(parts))
    return path
