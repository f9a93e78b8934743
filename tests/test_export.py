"""`pgx export`: a run's model as a StableHLO artifact gives `pgx predict`'s predictions, for
any batch size, in a process that imports JAX alone."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import run_pgx

from pgx_jax import cli
from pgx_jax.commands.predict import predict_file
from pgx_jax.runs import load_run


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("export")
    workdir = str(folder / "run")
    args = ["train", "--config.data.num_examples=300", "--config.data.batch_size=32"]
    assert cli.main([*args, "--config.train.num_steps=4", f"--workdir={workdir}"]) == 0
    artifact = str(folder / "model.stablehlo")
    run_pgx(["export", f"--workdir={workdir}", f"--output={artifact}"])
    return workdir, artifact


def test_the_artifact_predicts_as_pgx_predict_without_pgx_jax(exported, tmp_path):
    workdir, artifact = exported
    run = load_run(workdir)
    rng = np.random.default_rng(0)
    fasta = tmp_path / "new.fa"
    fasta.write_text(
        "".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), 101))}\n" for i in range(7))
    )
    records, found = predict_file(run, str(fasta))
    encoded = run.predictor.encode(records)["inputs"]
    with open(artifact + ".json") as f:
        note = json.load(f)
    names = [spec["name"] for spec in note["inputs"]]
    assert names == ["mask", "x"] and note["inputs"][1]["shape"] == ["b", "l", "4"]
    np.savez(tmp_path / "inputs.npz", **{n: encoded[n] for n in names})
    alone = (
        "import sys, jax, numpy as np\n"
        "f = jax.export.deserialize(bytearray(open(sys.argv[1], 'rb').read()))\n"
        "a = np.load(sys.argv[2])\n"
        "np.save(sys.argv[3], np.asarray(f.call(*[a[n] for n in sys.argv[4:]])))\n"
        "assert not [m for m in sys.modules if m.startswith('pgx_jax')]\n"
    )
    out = tmp_path / "out.npy"
    subprocess.run(
        [sys.executable, "-c", alone, artifact, str(tmp_path / "inputs.npz"), str(out), *names],
        check=True,
        cwd=str(tmp_path),
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    np.testing.assert_allclose(np.load(out), found.predictions, rtol=1e-5, atol=1e-6)


def export_round_trip(workdir: str, records: dict, output: str) -> None:
    """The exported model of `workdir` gives the run's predictions of `records`."""
    from pgx_jax.export import export_stablehlo, load_stablehlo

    run = load_run(workdir)
    export_stablehlo(run, output)
    encoded = run.predictor.encode(records)["inputs"]
    with open(output + ".json") as f:
        names = [spec["name"] for spec in json.load(f)["inputs"]]
    found = np.asarray(load_stablehlo(output).call(*[np.asarray(encoded[n]) for n in names]))
    batches = [run.predictor.encode(records)]
    expected = run.predict(batches, run.batch_size(len(records["id"]))).predictions
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6)


def test_a_longer_input_runs_where_the_model_pools_globally(exported):
    from pgx_jax.export import load_stablehlo

    x = np.eye(4, dtype=np.float32)[np.random.default_rng(1).integers(0, 4, (3, 150))]
    found = np.asarray(load_stablehlo(exported[1]).call(np.ones((3, 150), bool), x))
    assert found.shape == (3,) and np.all((found > 0) & (found < 1))
