"""A trained run as a serialized StableHLO artifact (`jax.export`): the model with its trained
variables and the task's link, callable from JAX without pgx_jax, beside a JSON note of its
inputs, outputs and the encoder's fixed choices (lengths, alphabet, vocabulary), since
encoding is not in the graph.

The batch dimension is symbolic (any batch size), and so is the length (at least the one the
run trained with) where every sequence input shares one and the model takes any (global
pooling: DeepBind, the text CNN; a model with a dense layer over positions keeps its length,
as the note says); the other dimensions are those of `Run.inputs`. Inputs are what
`Predictor.encode` makes.
"""

import json
import os

import jax
import numpy as np

from pgx_jax.errors import PgxError
from pgx_jax.files import atomic_open, write_atomically
from pgx_jax.train.losses import link


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


def export_stablehlo(run, output: str) -> tuple[str, str]:
    """Write the run's model as `output` (`jax.export` serialization) and `output.json`;
    returns both paths."""
    names = sorted(run.inputs)
    if not names:
        raise PgxError(f"{run.workdir}: the run saved no input shapes (predictor.json)")
    variables, model, task = run.variables, run.predictor.model, run.predictor.task

    def predict(*arrays):
        outputs = model.apply(variables, **dict(zip(names, arrays, strict=True)), train=False)
        return link(task, outputs)

    try:  # any length too, where every sequence input shares it and the model allows it
        specs = _specs(run.inputs, names, free_length=True)
        exported = jax.export.export(jax.jit(predict))(*specs)
    except (ValueError, TypeError, jax.errors.InconclusiveDimensionOperation):
        specs = _specs(run.inputs, names, free_length=False)
        exported = jax.export.export(jax.jit(predict))(*specs)
    with atomic_open(output, "wb") as f:
        f.write(exported.serialize())
    note = {
        "format": "jax.export (StableHLO), load with jax.export.deserialize(bytes).call(*inputs)",
        "inputs": [
            {"name": n, "shape": [str(d) for d in s.shape], "dtype": str(s.dtype)}
            for n, s in zip(names, specs, strict=True)
        ],
        "output": {"shape": [str(d) for d in exported.out_avals[0].shape], "task": task},
        "classes": list(run.predictor.classes),
        "reads": list(run.predictor.reads),
        "fitted": _scalars(dict(run.predictor.fitted)),
        "data": run.config.data.to_dict(),
        "checkpoint": {"kind": run.kind, "step": run.step, "workdir": run.workdir},
    }
    note_path = output + ".json"
    write_atomically(note_path, json.dumps(note, indent=2, sort_keys=True, default=str))
    return output, note_path


def load_stablehlo(path: str):
    """The exported function of `path` (`jax.export.Exported`); `.call(*inputs)` in the
    order of the note's inputs."""
    if not os.path.isfile(path):
        raise PgxError(f"file not found: {path}")
    with open(path, "rb") as f:
        return jax.export.deserialize(bytearray(f.read()))
