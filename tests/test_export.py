"""`pgx export`: a run's model as a StableHLO artifact or an ONNX graph gives `pgx predict`'s
predictions, for any batch size, in a process that imports JAX alone (StableHLO) or
onnxruntime alone (ONNX); a model jax2onnx cannot convert stops with one line naming it."""

import dataclasses
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from conftest import run_pgx

from pgx_jax import cli
from pgx_jax.commands.predict import predict_file
from pgx_jax.errors import PgxError
from pgx_jax.runs import load_run


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("export")
    workdir = str(folder / "run")
    args = ["train", "--config.data.num_examples=300", "--config.data.batch_size=32"]
    assert cli.main([*args, "--config.train.num_steps=4", f"--workdir={workdir}"]) == 0
    stem = str(folder / "model")
    run_pgx(["export", f"--workdir={workdir}", f"--output={stem}.stablehlo"])
    run_pgx(["export", f"--workdir={workdir}", f"--output={stem}.bin", "--format=onnx"])
    return workdir, stem


# Each reads the note's inputs and the arrays of argv[2], writes the predictions to argv[3].
ALONE = {
    "stablehlo": (
        "import jax\n"
        "f = jax.export.deserialize(bytearray(open(sys.argv[1], 'rb').read()))\n"
        "found = np.asarray(f.call(*[a[n] for n in names]))\n"
    ),
    "onnx": (
        "import onnxruntime\n"
        "session = onnxruntime.InferenceSession(sys.argv[1])\n"
        "found = session.run([note['output']['name']], {n: a[n] for n in names})[0]\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('jax', 'flax')]\n"
    ),
}


@pytest.mark.parametrize(("form", "suffix"), [("stablehlo", ".stablehlo"), ("onnx", ".bin")])
def test_the_artifact_predicts_as_pgx_predict_without_pgx_jax(exported, tmp_path, form, suffix):
    workdir, stem = exported
    artifact = stem + suffix
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
    assert [spec["name"] for spec in note["inputs"]] == ["mask", "x"]
    assert note["inputs"][1]["shape"] == ["b", "l", "4"] and note["data"]["alphabet"] == "dna"
    np.savez(tmp_path / "inputs.npz", **encoded)
    alone = (
        "import json, sys\nimport numpy as np\n"
        "note = json.load(open(sys.argv[1] + '.json'))\n"
        "names = [spec['name'] for spec in note['inputs']]\n"
        "a = np.load(sys.argv[2])\n"
        f"{ALONE[form]}"
        "np.save(sys.argv[3], found)\n"
        "assert not [m for m in sys.modules if m.startswith('pgx_jax')]\n"
    )
    out = tmp_path / "out.npy"
    subprocess.run(
        [sys.executable, "-c", alone, artifact, str(tmp_path / "inputs.npz"), str(out)],
        check=True,
        cwd=str(tmp_path),
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    np.testing.assert_allclose(np.load(out), found.predictions, rtol=1e-5, atol=1e-6)


def _onnx_call(path: str, names: list[str], inputs: list) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, inputs, strict=True)))[0]


def export_round_trip(workdir: str, records: dict, stem: str) -> None:
    """Both exported models of `workdir` (`stem`.stablehlo and `stem`.onnx) give the run's
    predictions of `records`."""
    from pgx_jax.export import export, load_stablehlo

    run = load_run(workdir)
    encoded = run.predictor.encode(records)["inputs"]
    batches = [run.predictor.encode(records)]
    expected = run.predict(batches, run.batch_size(len(records["id"]))).predictions
    for suffix in (".stablehlo", ".onnx"):
        output, note = export(run, stem + suffix)
        with open(note) as f:
            names = [spec["name"] for spec in json.load(f)["inputs"]]
        inputs = [np.asarray(encoded[n]) for n in names]
        if suffix == ".onnx":
            found = _onnx_call(output, names, inputs)
        else:
            found = np.asarray(load_stablehlo(output).call(*inputs))
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-5, err_msg=suffix)


def test_a_longer_input_runs_where_the_model_pools_globally(exported):
    from pgx_jax.export import load_stablehlo

    x = np.eye(4, dtype=np.float32)[np.random.default_rng(1).integers(0, 4, (3, 150))]
    mask = np.ones((3, 150), bool)
    found = np.asarray(load_stablehlo(exported[1] + ".stablehlo").call(mask, x))
    assert found.shape == (3,) and np.all((found > 0) & (found < 1))
    onnx = _onnx_call(exported[1] + ".bin", ["mask", "x"], [mask, x])
    np.testing.assert_allclose(onnx, found, rtol=1e-5, atol=1e-6)


def test_the_format_comes_from_the_suffix_or_the_flag(exported, tmp_path):
    from pgx_jax.export import export

    with pytest.raises(PgxError, match=r"--output .*model\.bin: give --format onnx\|stablehlo"):
        export(load_run(exported[0]), str(tmp_path / "model.bin"))
    assert not os.path.exists(tmp_path / "model.bin")


def test_a_model_jax2onnx_cannot_convert_names_the_model_and_the_op(exported, tmp_path):
    """An ensemble's members are a vmapped Linen Conv, which jax2onnx 0.13 cannot batch."""
    from pgx_jax.export import export_onnx
    from pgx_jax.models import create_model

    run = load_run(exported[0])
    member = {"name": "deepbind", "num_filters": 2, "filter_width": 5, "hidden": 0}
    model = create_model("ensemble", member=member, num_members=2)
    example = {n: np.ones(s.shape, s.dtype) for n, s in run.inputs.items()}
    config = run.config.copy_and_resolve_references()
    config.model.name = "ensemble"
    ensemble = dataclasses.replace(
        run,
        config=config,
        predictor=dataclasses.replace(run.predictor, model=model),
        state=run.state.replace(params=model.init(jax.random.key(0), **example)["params"]),
    )
    with pytest.raises(PgxError) as raised:
        export_onnx(ensemble, str(tmp_path / "ensemble.onnx"))
    message = str(raised.value)
    assert "\n" not in message and "model ensemble does not convert to ONNX" in message
    assert "op linen.conv" in message and not os.path.exists(tmp_path / "ensemble.onnx")
