"""Predictions per second of an exported run under onnxruntime against `pgx predict`'s jitted
function (`inference.eval_function`, what `Run.predict` calls per batch) and the StableHLO
artifact called from JAX, timed in turn on the same batch of random one-hot sequences.

    pgx train --workdir runs/default                  # the default DeepBind config
    python benchmarks/export_speed.py --workdir runs/default [--batch 256 --repeats 7]

The graphs are exported into a temporary folder first; the three must agree on the batch
(float tolerance) before anything is timed. onnxruntime runs with its default intra-op
threads (0) and with each `--ort_threads` count.
"""

import argparse
import os
import sys
import tempfile

import jax
import numpy as np
import onnxruntime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from in_turn import median_ms_in_turn  # noqa: E402

from pgx_jax import inference, parallel  # noqa: E402
from pgx_jax.export import export_onnx, export_stablehlo, load_stablehlo  # noqa: E402
from pgx_jax.runs import load_run  # noqa: E402


def _batch(run, size: int) -> dict:
    """`size` random one-hot sequences of the run's length, every position real."""
    length = run.inputs["x"].shape[1]
    letters = np.random.default_rng(0).integers(0, 4, (size, length))
    return {"x": np.eye(4, dtype=np.float32)[letters], "mask": np.ones((size, length), bool)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="a trained sequence run (DeepBind)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument(
        "--ort_threads", type=int, nargs="+", default=[0, 1], help="0: onnxruntime's default"
    )
    args = parser.parse_args()
    run = load_run(args.workdir)
    folder = tempfile.mkdtemp()
    onnx_path, _ = export_onnx(run, os.path.join(folder, "model.onnx"))
    stablehlo_path, _ = export_stablehlo(run, os.path.join(folder, "model.stablehlo"))
    inputs = _batch(run, args.batch)
    mesh = parallel.make_mesh()
    eval_fn = inference.eval_function(run.predictor.task, mesh)
    batch = parallel.to_global({"inputs": inputs, "label": np.zeros(args.batch, np.float32)}, mesh)
    exported = jax.jit(load_stablehlo(stablehlo_path).call)
    runners = {
        "pgx predict (jitted eval_function)": (
            lambda b: eval_fn(run.state, b)["prediction"],
            (batch,),
        ),
        "StableHLO artifact (jax.export)": (exported, (inputs["mask"], inputs["x"])),
    }
    for threads in args.ort_threads:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(onnx_path, options, ["CPUExecutionProvider"])
        name = f"ONNX graph (onnxruntime, {threads or 'default'} threads)"
        runners[name] = (lambda feeds, s=session: s.run(None, feeds)[0], (inputs,))
    found = {name: np.asarray(fn(*a)) for name, (fn, a) in runners.items()}
    for name, value in found.items():
        np.testing.assert_allclose(
            value, next(iter(found.values())), rtol=1e-4, atol=1e-5, err_msg=name
        )
    ms = median_ms_in_turn(runners, args.repeats, args.steps)
    print(
        f"{jax.devices()[0].device_kind}, jax {jax.__version__}, onnxruntime "
        f"{onnxruntime.__version__}, batch {args.batch}, length {inputs['x'].shape[1]}"
    )
    base = args.batch / ms["pgx predict (jitted eval_function)"] * 1e3
    for name, value in ms.items():
        rate = args.batch / value * 1e3
        print(f"{name:40s} {value:8.2f} ms/batch {rate:10.0f} predictions/s  x{rate / base:.2f}")


if __name__ == "__main__":
    main()
