"""Training the binding experiments through `pgx train` on the shared data sets."""

import math
import os

import pytest
from conftest import read_json, run_pgx
from test_binding_data import _needs

from configs.binding import dbp, deepbind, rbp
from experiments import dbp as dbp_experiment
from pgx_jax.data.builders import chipseq, rbp24
from pgx_jax.data.builders import dbp as dbp_data
from pgx_jax.data.homology import HOMOLOGY_THRESHOLD


def test_rc_ablation_is_a_config_switch():
    off, on = deepbind.get_config("tf=GABPA"), deepbind.get_config("tf=GABPA,rc")
    assert (off.model.reverse_complement, on.model.reverse_complement) == (False, True)
    assert off.data.name == "chipseq" and off.data.experiment == "GABPA"
    assert deepbind.get_config("tf=GABPA,rcaug,rcavg").data.rc_augment
    assert rbp.get_config("rbp=ALKBH5,branches=local").model.branches == ("local",)
    assert dbp.get_config("seeds=3").protocol.choices == (0, 1, 2)


@pytest.mark.slow
def test_deepbind_learns_chipseq_gabpa(tmp_path):
    """DeepBind (RC-shared filters) on GABPA's peaks vs shuffles beats 0.9 test AUROC after 8
    epochs (0.963-0.968 over seeds 0-2; after 5 epochs seeds 0-4 spread from 0.877 to 0.956)."""
    _needs(chipseq.FOLDER)
    workdir = str(tmp_path / "gabpa")
    run_pgx(
        [
            "train",
            "--config=configs/binding/deepbind.py:tf=GABPA,rc",
            "--config.train.num_epochs=8",
            f"--workdir={workdir}",
        ]
    )
    results = read_json(os.path.join(workdir, "results.json"))
    assert results["test/auroc"] >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "folder"),
    [
        ("configs/binding/rbp.py:rbp=ALKBH5", rbp24.FOLDER),
        ("configs/binding/rbp.py:rbp=ALKBH5,case=viewpoint,branches=local", rbp24.FOLDER),
        ("configs/binding/dbp.py:exclude=1.0", dbp_data.FOLDER),
    ],
)
def test_few_steps_run_end_to_end(tmp_path, config, folder):
    _needs(folder)
    workdir = str(tmp_path / "run")
    run_pgx(["train", f"--config={config}", "--config.train.num_steps=3", f"--workdir={workdir}"])
    results = read_json(os.path.join(workdir, "results.json"))
    assert results["train/steps"] == 3 and math.isfinite(results["test/auroc"])


@pytest.mark.slow
def test_dbp_reports_test_chains_seen_in_training_apart(tmp_path):
    """75 of PDB186's chains occur verbatim in PDB1075 and 90 have a homolog there
    (docs/results.md); the accuracies of each pair of parts, weighted by their counts, give the
    overall test accuracy, and homology transfer calls the homologous chains right."""
    _needs(dbp_data.FOLDER)
    results = {}
    for arg in ("", ":exclude=1.0"):
        workdir = str(tmp_path / f"run{arg}")
        config = f"--config=configs/binding/dbp.py{arg}"
        run_pgx(["train", config, "--config.train.num_steps=3", f"--workdir={workdir}"])
        results[arg] = read_json(os.path.join(workdir, "results.json"))
    leaky, clean = results[""], results[":exclude=1.0"]
    assert leaky["test/seen_chains"] == 75 and clean["test/seen_chains"] == 0
    assert "test/seen_accuracy" not in clean
    weighted = (75 * leaky["test/seen_accuracy"] + 111 * leaky["test/unseen_accuracy"]) / 186
    assert math.isclose(weighted, leaky["test/accuracy"], rel_tol=1e-9)
    assert leaky["test/homologous_chains"] == 90
    assert clean["test/homologous_chains"] < 90
    for run in (leaky, clean):
        part = run["test/homologous_chains"]
        weighted = (
            part * run["test/homologous_accuracy"] + (186 - part) * run["test/novel_accuracy"]
        ) / 186
        assert math.isclose(weighted, run["test/accuracy"], rel_tol=1e-9)
    assert leaky["test/transfer_sensitivity"] > 0.9
    assert round(186 * leaky["test/homology_only_accuracy"]) == 178  # no model involved
    assert os.path.getsize(tmp_path / "run" / "homology.png") > 10_000


def test_dbp_runs_made_before_the_homology_threshold_existed_still_build():
    """`pgx predict` and resumption rebuild an experiment from the run's config.json."""
    _needs(dbp_data.FOLDER)
    config = dbp.get_config()
    with config.unlocked():
        del config.eval["homology_threshold"]
    experiment = dbp_experiment.build(config)
    assert experiment.after_fit.keywords == {"homology_threshold": HOMOLOGY_THRESHOLD}
