"""`pgx report`: report.html for a run directory, every picture it links resolving and decoding."""

import html.parser
import json
import os
import re

import matplotlib.image
import numpy as np
import pytest
from conftest import run_pgx
from PIL import Image

from pgx_jax import provenance
from pgx_jax.commands.motifs import write_motifs
from pgx_jax.data.sources import InMemorySource
from pgx_jax.data.summary import SUMMARY_FILE, label_balance, split_summary
from pgx_jax.errors import PgxError
from pgx_jax.interpret.logos import save_logo
from pgx_jax.interpret.meme import read_meme
from pgx_jax.interpret.motifs import MATCH_THRESHOLD
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


def _write(path, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _text(path) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_report_shows_provenance_and_resumes(tmp_path):
    workdir = str(tmp_path / "run")
    _fake_run(workdir)
    provenance.record_start(workdir)
    provenance.record_start(workdir, step=40)  # a resumed run keeps its first start
    found = provenance.record_finish(workdir)
    assert found["version"] == provenance.package_version() and found["run_seconds"] >= 0
    assert [r["step"] for r in found["resumes"]] == [40]
    text = _text(write_report(workdir, pictures=False))
    for field in (found["version"], found["started"], found["finished"], found["host"]):
        assert field in text
    assert "from step 40" in text and "run time" in text
    assert f"{found['devices']['count']} x {found['devices']['kind']}" in text
    if "commit" in found:  # a git checkout
        assert found["commit"] in text


def test_report_without_provenance_or_summary_says_so(tmp_path):
    workdir = str(tmp_path / "run")
    _fake_run(workdir)
    os.remove(os.path.join(workdir, "test_predictions.npz"))
    text = _text(write_report(workdir, pictures=False))
    assert "not recorded (no provenance.json" in text
    assert "<h2>Data</h2><p>not recorded</p>" in text


def test_report_shows_the_data_summary(tmp_path):
    workdir = str(tmp_path / "run")
    _fake_run(workdir)
    text = _text(write_report(workdir, pictures=False))  # older run: the saved test labels
    saved = np.load(os.path.join(workdir, "test_predictions.npz"))
    positives = int(saved["labels"].sum())
    assert f"positives {positives} ({positives:.1f}%), negatives {100 - positives}" in text
    splits = {
        "train": InMemorySource({"label": np.array([1, 1, 1, 0, 0], np.float32)}),
        "test": InMemorySource({"label": np.array([0, 1], np.float32)}),
    }
    data = split_summary("binary", splits, lengths=["train: sequence is read at 101 positions"])
    _write(os.path.join(workdir, SUMMARY_FILE), json.dumps(data))
    text = _text(write_report(workdir, pictures=False))
    assert '<td>train</td><td class="num">5</td><td>positives 3 (60.0%), negatives 2</td>' in text
    assert "positives 1 (50.0%), negatives 1" in text and "read at 101 positions" in text


def test_label_balance_of_each_task():
    assert label_balance("multiclass", np.array([2, 0, 2, 2]), classes=("a", "b", "c")) == (
        "c 3 (75.0%), a 1 (25.0%), b 0 (0.0%)"
    )
    assert label_balance("regression", np.array([1.0, 3.0])) == "mean 2, sd 1.414"
    labels, weights = np.array([[1, 0], [1, 1], [0, 1]]), np.array([[1, 1], [1, 0], [1, 1]])
    assert label_balance("multilabel", labels, weights) == (
        "2 tasks; positives per task: mean 58.3%, min 50.0%, max 66.7%"
    )


def test_results_are_grouped_and_sorted(tmp_path):
    workdir = str(tmp_path / "run")
    _fake_run(workdir)
    results = {"train/steps": 9, "zeta": 1, "test/mcc": 0.5, "validation/auroc": 0.8,
               "test/auroc": 0.9, "motif/planted": "CTCF", "best_step": 3}  # fmt: skip
    _write(os.path.join(workdir, "results.json"), json.dumps(results))
    text = _text(write_report(workdir, pictures=False))
    section = text[text.index("<h2>Results</h2>") :]
    found = re.findall(r"<h3>(\w+)</h3>|<tr><td>(\w+)</td>", section[: section.index("<h2>", 5)])
    assert [a or b for a, b in found] == [
        "test", "auroc", "mcc", "validation", "auroc", "train", "steps",
        "motif", "planted", "run", "best_step", "zeta",
    ]  # fmt: skip


def _fake_motifs(workdir: str, threshold: float | None = None) -> None:
    """Filters 0, 1, 2 ranked 2, 3, 1: filter 2 matches CTCF at 0.9, filter 0 only weakly."""
    rows = [
        ["filter", "filter_rank", "auroc", "sites", "width", "match_rank", "matrix_id", "name",
         "score", "strand", "offset"],
        ["2", "1", "0.95", "100", "12", "1", "MA0139.2", "CTCF", "0.9000", "+", "0"],
        ["2", "1", "0.95", "100", "12", "2", "MA1930.2", "CTCF", "0.6000", "+", "0"],
        ["0", "2", "0.70", "80", "10", "1", "MA1643.2", "NFIB", "0.6500", "-", "-3"],
        ["1", "3", "0.60", "0", "0", "", "", "", "", "", ""],
    ]  # fmt: skip
    _write(os.path.join(workdir, "motif_matches.tsv"), "".join("\t".join(r) + "\n" for r in rows))
    if threshold is not None:
        _write(os.path.join(workdir, "motifs.json"), json.dumps({"match_threshold": threshold}))
    pfm = np.full((6, 4), 0.1) + np.eye(4)[[0, 1, 2, 3, 0, 1]]
    for f in (0, 2):
        save_logo(pfm, os.path.join(workdir, "logos", f"filter_{f:03d}.png"), f"filter {f}")


def _motif_rows(text: str) -> list[tuple[str, str, str, str]]:
    """(rank, filter, best match, logo) of each row of the report's motif table."""
    section = text[text.index("First-layer filters") :]
    return re.findall(
        r'<tr><td class="num">(\d+)</td><td class="num">(\d+)</td>.*?<td>([^<]*)</td>'
        r'<td>(?:<img src="([^"]*)")?',
        section,
    )


def test_logos_in_rank_order_named_from_the_threshold(tmp_path):
    workdir = str(tmp_path / "run")
    _fake_run(workdir)
    os.makedirs(os.path.join(workdir, "logos"))
    _fake_motifs(workdir)
    text = _text(write_report(workdir, pictures=False))
    assert [s for s in _sources(text) if s.startswith("logos/")] == [
        "logos/filter_002.png",  # rank 1
        "logos/filter_000.png",  # rank 2
    ]
    below = f"no match above {MATCH_THRESHOLD:g}"
    assert _motif_rows(text) == [
        ("1", "2", "MA0139.2 CTCF (0.900)", "logos/filter_002.png"),
        ("2", "0", below, "logos/filter_000.png"),
        ("3", "1", below, ""),
    ]
    assert "NFIB" not in text  # a weak filter carries no JASPAR name
    assert f"at least {MATCH_THRESHOLD:g} " in text
    _fake_motifs(workdir, threshold=0.6)  # the threshold `pgx motifs` used
    text = _text(write_report(workdir, pictures=False))
    assert _motif_rows(text)[1][2] == "MA1643.2 NFIB (0.650)" and "at least 0.6 " in text


def test_write_motifs_names_filters_from_the_threshold(tmp_path):
    pfm = np.full((8, 4), 0.05) + np.eye(4)[[0, 1, 2, 3, 3, 2, 1, 0]]
    match = {"matrix_id": "MA0139.2", "name": "CTCF", "strand": "+", "offset": 0}
    found = [
        {"filter": f, "auroc": auroc, "sites": 10, "pfm": pfm, "motif": pfm,
         "matches": [{**match, "score": score}]}
        for f, auroc, score in ((1, 0.9, 0.85), (0, 0.8, 0.4))
    ]  # fmt: skip
    write_motifs(found, str(tmp_path), match_threshold=0.7)
    assert [name for _, name, _ in read_meme(str(tmp_path / "motifs.meme"))] == [
        "MA0139.2_CTCF",
        "",
    ]
    settings = json.loads((tmp_path / "motifs.json").read_text())
    assert settings["match_threshold"] == 0.7 and settings["ranked_by"].startswith("auroc")
    assert sorted(os.listdir(tmp_path / "logos")) == ["filter_000.png", "filter_001.png"]


def _sources(text: str) -> list[str]:
    parser = _Images()
    parser.feed(text)
    return parser.sources


def _fake_child(workdir: str, auroc: float, config: dict | None = None) -> None:
    _write(os.path.join(workdir, "config.json"), json.dumps(config or {"experiment": "binding"}))
    _write(
        os.path.join(workdir, "results.json"), json.dumps({"test/auroc": auroc, "train/steps": 7})
    )


def test_report_of_a_cross_validation_parent(tmp_path):
    parent = str(tmp_path / "cv")
    protocol = {"protocol": {"field": "data.fold", "choices": [0, 1], "final": -1}}
    for fold, auroc in ((0, 0.8), (1, 0.9), (-1, 0.5)):
        _fake_child(os.path.join(parent, f"data.fold={fold}"), auroc, protocol)
    _write(os.path.join(parent, "data.fold=10", "config.json"), "{}")  # not finished
    summary = {"test/auroc": 0.85, "test/auroc_std": 0.0707, "protocol/field": "data.fold"}
    _write(os.path.join(parent, "results.json"), json.dumps(summary))
    text = _text(write_report(parent, pictures=False))
    for fold in (0, 1, -1, 10):
        assert os.path.isfile(os.path.join(parent, f"data.fold={fold}", "report.html"))
    links = re.findall(r'<a href="([^"]+)">', text)
    assert links == [f"data.fold={f}/report.html" for f in (0, 1, 10, -1)]
    assert "runs over data.fold" in text and "(final, not in the mean)" in text
    mean = re.search(r"mean of 2</td>(.*?)</tr>", text).group(1)
    sd = re.search(r"<td>sd</td>(.*?)</tr>", text).group(1)
    assert re.findall(r"[\d.]+", mean) == ["0.8500", "7.0000"]  # test/auroc, train/steps
    assert re.findall(r"[\d.]+", sd) == ["0.0707", "0.0000"]
    assert "not finished" in text


def test_report_of_a_sweep_of_protocol_parents(tmp_path):
    sweep = tmp_path / "sweep"
    _write(str(sweep / "sweep.csv"), "model.filter_width,test/auroc\n")
    for width, aurocs in ((12, (0.7, 0.8)), (24, (0.9, 0.95))):
        for seed, auroc in enumerate(aurocs):
            _fake_child(str(sweep / f"model.filter_width={width}" / f"seed={seed}"), auroc)
    result = run_pgx(["report", f"--workdir={sweep}"])
    text = _text(result.stdout.strip())
    assert "2 sweep points" in text
    assert re.findall(r'<a href="([^"]+)">', text) == [
        "model.filter_width=12/report.html",
        "model.filter_width=24/report.html",
    ]
    point = _text(str(sweep / "model.filter_width=24" / "report.html"))
    assert "0.9250" in point and "0.0354" in point  # mean and sd of 0.9 and 0.95
