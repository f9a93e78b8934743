"""A trained run as a file that runs without pgx_jax: a serialized StableHLO artifact
(`jax.export`, callable from JAX) or an ONNX graph (`jax2onnx`, run with onnxruntime), each
the model with its trained variables and the task's link, beside a JSON note of its inputs,
output and the encoder's fixed choices (lengths, alphabet, vocabulary), since encoding is not
in the graph.

The batch dimension is symbolic (any batch size), and so is the length (at least the one the
run trained with) where every sequence input shares one and the model takes any (global
pooling: DeepBind, the text CNN; a model with a dense layer over positions keeps its length,
as the note says); the other dimensions are those of `Run.inputs`. Inputs are what
`Predictor.encode` makes.
"""

import contextlib
import io
import json
import logging
import os
import re
import traceback
from collections.abc import Callable, Iterator

import jax
import numpy as np

from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open, write_atomically
from pgx_jax.train.losses import link

FORMATS = {".stablehlo": "stablehlo", ".onnx": "onnx"}
OUTPUT_NAME = "prediction"
_LENGTH_ERRORS = (ValueError, TypeError, jax.errors.InconclusiveDimensionOperation)


def _scalars(values: dict) -> dict:
    """The JSON-writable fitted values (arrays as lists)."""
    return {
        k: np.asarray(v).tolist() if isinstance(v, np.ndarray) else v for k, v in values.items()
    }


def _specs(inputs: dict, names: list[str], free_length: bool) -> list:
    """The inputs' shapes with a symbolic batch `b` and, with `free_length` where every input
    of two or more dimensions has the same second one, a symbolic length `l` of at least the
    one the run trained with."""
    lengths = {inputs[n].shape[1] for n in names if len(inputs[n].shape) > 1}
    if not free_length or len(lengths) != 1:
        (batch,) = jax.export.symbolic_shape("b")
        return [jax.ShapeDtypeStruct((batch, *inputs[n].shape[1:]), inputs[n].dtype) for n in names]
    batch, length = jax.export.symbolic_shape("b, l", constraints=(f"l >= {lengths.pop()}",))
    return [
        jax.ShapeDtypeStruct(
            (batch, length, *inputs[n].shape[2:]) if len(inputs[n].shape) > 1 else (batch,),
            inputs[n].dtype,
        )
        for n in names
    ]


def _input_names(run) -> list[str]:
    """The model's inputs in the artifact's order (sorted)."""
    if not run.inputs:
        raise PgxError(f"{run.workdir}: the run saved no input shapes (predictor.json)")
    return sorted(run.inputs)


def _prediction_function(run, names: list[str]) -> Callable:
    """`predict(*inputs)`: the model's link-applied output, inputs in the order of `names`."""
    variables, model, task = run.variables, run.predictor.model, run.predictor.task

    def predict(*arrays):
        outputs = model.apply(variables, **dict(zip(names, arrays, strict=True)), train=False)
        return link(task, outputs)

    return predict


def _converted(
    convert: Callable, run, names: list[str], errors: tuple = _LENGTH_ERRORS
) -> tuple[list, object]:
    """`convert(specs)` with a free length where the model allows it (no error of `errors`),
    else the trained one."""
    try:
        specs = _specs(run.inputs, names, free_length=True)
        return specs, convert(specs)
    except errors:
        specs = _specs(run.inputs, names, free_length=False)
        return specs, convert(specs)


def _write_note(run, output: str, specs: list, names: list[str], form: str, shape) -> str:
    """`output.json`: the inputs in order, the output and the encoder's fixed choices."""
    note = {
        "format": form,
        "inputs": [
            {"name": n, "shape": [str(d) for d in s.shape], "dtype": str(s.dtype)}
            for n, s in zip(names, specs, strict=True)
        ],
        "output": {
            "name": OUTPUT_NAME,
            "shape": [str(d) for d in shape],
            "task": run.predictor.task,
        },
        "classes": list(run.predictor.classes),
        "reads": list(run.predictor.reads),
        "fitted": _scalars(dict(run.predictor.fitted)),
        "data": run.config.data.to_dict(),
        "checkpoint": {"kind": run.kind, "step": run.step, "workdir": run.workdir},
    }
    note_path = output + ".json"
    write_atomically(note_path, json.dumps(note, indent=2, sort_keys=True, default=str))
    return note_path


def export_stablehlo(run, output: str) -> tuple[str, str]:
    """Write the run's model as `output` (`jax.export` serialization) and `output.json`;
    returns both paths."""
    names = _input_names(run)
    predict = jax.jit(_prediction_function(run, names))
    specs, exported = _converted(lambda s: jax.export.export(predict)(*s), run, names)
    with atomic_open(output, "wb") as f:
        f.write(exported.serialize())
    form = "jax.export (StableHLO), load with jax.export.deserialize(bytes).call(*inputs)"
    return output, _write_note(run, output, specs, names, form, exported.out_avals[0].shape)


def load_stablehlo(path: str):
    """The exported function of `path` (`jax.export.Exported`); `.call(*inputs)` in the
    order of the note's inputs."""
    if not os.path.isfile(path):
        raise PgxError(f"file not found: {path}")
    with open(path, "rb") as f:
        return jax.export.deserialize(bytearray(f.read()))


def _failed_op(error: Exception, message: str) -> str:
    """The op a jax2onnx failure names (a primitive without a plugin or batching rule), else
    the last jax2onnx plugin it passed through (`jax/numpy/split`); "" if neither."""
    found = re.search(r"(?:primitive|for) '([^']+)'|(\w+)Plugin\._make_patch", message)
    if found:
        return found.group(1) or found.group(2)
    marker = f"jax2onnx{os.sep}plugins{os.sep}"
    paths = [f.filename for f in traceback.extract_tb(error.__traceback__) if marker in f.filename]
    return paths[-1].split(marker)[1].removesuffix(".py") if paths else ""


def _unconvertible(run, error: Exception) -> PgxError:
    """One line naming the model and the op jax2onnx could not convert (and what went wrong)."""
    lines = str(error).strip().splitlines() or [""]
    op = _failed_op(error, lines[0])
    what = f"{'op ' + op + ' ' if op else ''}({type(error).__name__}: {lines[0]})"
    return PgxError(
        f"{run.workdir}: model {run.config.model.name} does not convert to ONNX (jax2onnx): {what}"
    )


def _example_batch(run, names: list[str], rows: int = 3) -> dict:
    """A random batch of the trained shapes: uniform floats, tokens 0 or 1, masks all true."""
    rng = np.random.default_rng(0)
    batch = {}
    for name in names:
        shape, dtype = (rows, *run.inputs[name].shape[1:]), np.dtype(run.inputs[name].dtype)
        if dtype == np.bool_:
            batch[name] = np.ones(shape, bool)
        elif np.issubdtype(dtype, np.integer):
            batch[name] = rng.integers(0, 2, shape).astype(dtype)
        else:
            batch[name] = rng.random(shape).astype(dtype)
    return batch


def _check_onnx(graph: bytes, run, names: list[str], predict: Callable) -> None:
    """ValueError unless onnxruntime gives the graph's predictions of a random batch of the
    trained shapes as JAX does (float tolerance)."""
    import onnxruntime

    batch = _example_batch(run, names)
    try:
        session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
        found = session.run([OUTPUT_NAME], batch)[0]
    except Exception as error:  # noqa: BLE001 - onnxruntime's own error types
        raise ValueError(f"onnxruntime cannot run the graph: {error}") from error
    expected = np.asarray(jax.jit(predict)(*[batch[n] for n in names]))
    if found.shape != expected.shape or not np.allclose(found, expected, rtol=1e-4, atol=1e-5):
        raise ValueError(f"onnxruntime's predictions differ from JAX's ({found.shape})")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """jax2onnx 0.13 prints on every Linen Conv and logs each plugin it skips (dm_pix's, under
    this JAX), onnx_ir each shape constant it leaves untyped: none of it is the user's."""
    loggers = [logging.getLogger(name) for name in ("jax2onnx", "onnx_ir")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def export_onnx(run, output: str) -> tuple[str, str]:
    """Write the run's model as the ONNX graph `output` (`jax2onnx`), checked with
    onnxruntime, and `output.json`; returns both paths."""
    with _quiet():
        from jax2onnx import to_onnx

    names = _input_names(run)
    predict = _prediction_function(run, names)

    def convert(specs):
        with _quiet():
            graph = to_onnx(predict, specs, input_names=names, output_names=[OUTPUT_NAME])
        _check_onnx(graph.SerializeToString(), run, names, predict)
        return graph

    try:
        # any failure with a free length (jax2onnx cannot copy some models' bounded length,
        # onnxruntime may disagree) tries the trained length
        specs, graph = _converted(convert, run, names, errors=(Exception,))
    except Exception as error:  # noqa: BLE001 - any failure of the converter is the model's
        raise _unconvertible(run, error) from error
    with atomic_open(output, "wb") as f:
        f.write(graph.SerializeToString())
    dims = graph.graph.output[0].type.tensor_type.shape.dim
    shape = [d.dim_param or d.dim_value for d in dims]
    opset = next(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx"))
    form = f"ONNX (opset {opset}), run with onnxruntime.InferenceSession(path).run(None, inputs)"
    return output, _write_note(run, output, specs, names, form, shape)


def export(run, output: str, form: str = "") -> tuple[str, str]:
    """`export_onnx` or `export_stablehlo` as `form` says (default: by `output`'s suffix)."""
    form = form or FORMATS.get(os.path.splitext(output)[1], "")
    if form not in FORMATS.values():
        raise PgxError(
            f"--output {output}: give --format onnx|stablehlo or a .onnx/.stablehlo name"
        )
    return (export_onnx if form == "onnx" else export_stablehlo)(run, output)
