"""A trained run as a serialized StableHLO artifact (`jax.export`): the model with its trained
variables and the task's link, callable from JAX without pgx_jax, beside a JSON note of its
inputs, outputs and the encoder's fixed choices (lengths, alphabet, vocabulary), since
encoding is not in the graph.

The batch dimension is symbolic (any batch size); the other dimensions are those the run
trained with (`Run.inputs`): sequences are one-hot or tokens padded to that length, as
`Predictor.encode` makes them.
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


def export_stablehlo(run, output: str) -> tuple[str, str]:
    """Write the run's model as `output` (`jax.export` serialization) and `output.json`;
    returns both paths."""
    names = sorted(run.inputs)
    if not names:
        raise PgxError(f"{run.workdir}: the run saved no input shapes (predictor.json)")
    batch = jax.export.symbolic_shape("b")[0]
    specs = [
        jax.ShapeDtypeStruct((batch, *run.inputs[n].shape[1:]), run.inputs[n].dtype) for n in names
    ]
    variables, model, task = run.variables, run.predictor.model, run.predictor.task

    def predict(*arrays):
        outputs = model.apply(variables, **dict(zip(names, arrays, strict=True)), train=False)
        return link(task, outputs)

    exported = jax.export.export(jax.jit(predict))(*specs)
    with atomic_open(output, "wb") as f:
        f.write(exported.serialize())
    note = {
        "format": "jax.export (StableHLO), load with jax.export.deserialize(bytes).call(*inputs)",
        "inputs": [
            {"name": n, "shape": ["batch", *run.inputs[n].shape[1:]], "dtype": str(s.dtype)}
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
