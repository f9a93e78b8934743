"""`pgx report`: report.html for a run directory, every picture it links resolving and decoding."""

import html.parser
import json
import os

import matplotlib.image
import numpy as np
import pytest
from conftest import run_pgx
from PIL import Image

from pgx_jax.errors import PgxError
from pgx_jax.interpret.report import write_report


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def assert_images_render(report: str) -> list[str]:
    """Every <img> of the page resolves to a file that PIL and matplotlib decode."""
    parser = _Images()
    with open(report, encoding="utf-8") as f:
        parser.feed(f.read())
    assert parser.sources, "the report shows no pictures"
    for src in parser.sources:
        path = os.path.join(os.path.dirname(report), src)
        assert os.path.isfile(path), src
        with Image.open(path) as image:
            image.verify()
        assert matplotlib.image.imread(path).ndim == 3
    return parser.sources


def _fake_run(workdir) -> None:
    """A finished binary run: config, metrics, results and saved test predictions."""
    rng = np.random.default_rng(0)
    os.makedirs(workdir)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        json.dump({"experiment": "binding", "model": {"name": "deepbind <&>"}}, f)
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump({"test/auroc": 0.91, "motif/best_match": "MA0139.2 CTCF"}, f)
    with open(os.path.join(workdir, "metrics.jsonl"), "w") as f:
        for step in range(10, 110, 10):
            f.write(json.dumps({"step": step, "train/loss": 1 / step}) + "\n")
            f.write(json.dumps({"step": step, "validation/auroc": 1 - 1 / step}) + "\n")
    labels = rng.integers(0, 2, 100).astype(np.float32)
    np.savez(
        os.path.join(workdir, "test_predictions.npz"),
        task="binary",
        labels=labels,
        predictions=np.clip(labels * 0.6 + rng.random(100) * 0.5, 0, 1),
        weights=np.ones(100, np.float32),
    )


def test_report_links_pictures_that_decode(tmp_path):
    workdir = str(tmp_path / "run")
    _fake_run(workdir)
    report = write_report(workdir)
    sources = assert_images_render(report)
    assert set(sources) == {"training_curves.png", "roc.png", "pr.png", "confusion.png"}
    text = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "MA0139.2 CTCF" in text and "0.9100" in text
    assert "deepbind &lt;&amp;&gt;" in text  # config text is escaped


def test_pgx_report_command(tmp_path):
    workdir = str(tmp_path / "run")
    _fake_run(workdir)
    result = run_pgx(["report", f"--workdir={workdir}"])
    assert result.stdout.strip() == os.path.join(workdir, "report.html")
    assert_images_render(result.stdout.strip())


def test_report_of_a_directory_that_is_no_run(tmp_path):
    with pytest.raises(PgxError, match="not a run directory"):
        write_report(str(tmp_path))
    result = run_pgx(["report", f"--workdir={tmp_path}"], check=False)
    assert result.returncode == 1 and "pgx report: error:" in result.stderr
