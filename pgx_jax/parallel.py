"""Devices, meshes and shardings: a mesh with named axes `data` and `model`.

The batch is split along `data`; parameters and optimiser state are replicated, except those
the config's partitioning rules shard along `model` (wide dense layers, ensemble members).
Under several processes (`jax.distributed`), each process reads its own rows of every global
batch and `make_array_from_process_local_data` stitches them into one global array.
"""

import os
import re
from collections.abc import Sequence
from typing import Any

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from pgx_jax.errors import PgxError

DATA_AXIS = "data"
MODEL_AXIS = "model"


def initialize_distributed() -> None:
    """Start `jax.distributed` when the environment names several processes.

    Reads `PGX_COORDINATOR` (host:port), `PGX_NUM_PROCESSES` and `PGX_PROCESS_ID`; on managed
    clusters (SLURM, TPU pods) `jax.distributed.initialize()` discovers them by itself when
    `PGX_DISTRIBUTED=auto`.
    """
    if os.environ.get("PGX_DISTRIBUTED") == "auto":
        jax.distributed.initialize()
        return
    num_processes = int(os.environ.get("PGX_NUM_PROCESSES", "1"))
    if num_processes <= 1:
        return
    coordinator = os.environ.get("PGX_COORDINATOR")
    if not coordinator:
        raise PgxError("PGX_NUM_PROCESSES > 1 needs PGX_COORDINATOR=host:port")
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=int(os.environ["PGX_PROCESS_ID"]),
    )


def make_mesh(mesh_config: ml_collections.ConfigDict | None = None) -> Mesh:
    """A mesh over every device with axes `data` and `model` (`mesh_config.data`, `.model`).

    `data` -1 takes the devices `model` leaves (default: all devices on `data`). The `model`
    axis shards the parameters that `mesh_config.rules` names (see `state_shardings`).
    """
    devices = jax.devices()
    model = int(mesh_config.get("model", 1)) if mesh_config is not None else 1
    data = int(mesh_config.get("data", -1)) if mesh_config is not None else -1
    if data == -1:
        data = len(devices) // max(model, 1)
    if data * model != len(devices):
        raise PgxError(
            f"config.mesh: data={data} x model={model} does not cover the {len(devices)} devices"
        )
    return jax.make_mesh(
        (data, model),
        (DATA_AXIS, MODEL_AXIS),
        devices=devices,
        axis_types=(jax.sharding.AxisType.Auto,) * 2,
    )


def _path(path) -> str:
    return "/".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path)


def state_shardings(abstract_state: Any, mesh: Mesh, rules: Sequence[tuple[str, tuple]] = ()):
    """Per-leaf shardings of a train state: the first rule whose regex matches a leaf's path
    (`params/hidden/kernel`, `opt_state/0/mu/hidden/kernel`, ...) gives its PartitionSpec;
    other leaves, and leaves whose dimensions do not divide over the named axes, replicate.

    Rules look like `("hidden/kernel$", (None, "model"))`.
    """
    compiled = [(re.compile(pattern), tuple(spec)) for pattern, spec in rules]

    def sharding(path, leaf) -> NamedSharding:
        name = _path(path)
        for pattern, spec in compiled:
            if pattern.search(name) and len(spec) == len(leaf.shape):
                fits = all(
                    axis is None or dim % mesh.shape[axis] == 0
                    for axis, dim in zip(spec, leaf.shape, strict=True)
                )
                return NamedSharding(mesh, P(*spec) if fits else P())
        return NamedSharding(mesh, P())

    return jax.tree_util.tree_map_with_path(sharding, abstract_state)


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh, members: bool = False) -> NamedSharding:
    """Batch axis split over `data`, the rest whole (replicated over `model`).

    The batch axis is the leading one, or the second with `members` (a leading member axis of
    runs trained together, see `stacked`).
    """
    return NamedSharding(mesh, P(None, DATA_AXIS) if members else P(DATA_AXIS))


def stacked(shardings: Any) -> Any:
    """The shardings of states stacked on a new leading member axis (kept whole) from the
    shardings of one member's state."""
    return jax.tree.map(lambda s: NamedSharding(s.mesh, P(None, *s.spec)), shardings)


def local_batch_size(global_batch_size: int, mesh: Mesh) -> int:
    """This process's share of a global batch; it must divide evenly over the data axis."""
    if global_batch_size % mesh.shape[DATA_AXIS]:
        raise PgxError(
            f"batch size {global_batch_size} does not divide over {mesh.shape[DATA_AXIS]} devices"
        )
    return global_batch_size // jax.process_count()


def to_global(local_batch: Any, mesh: Mesh, members: bool = False) -> Any:
    """Assemble this process's rows into global arrays sharded along the batch axis (the
    second axis with `members`)."""
    sharding = data_sharded(mesh, members)
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), local_batch
    )


def to_host(x: Any) -> Any:
    """Gather (possibly multi-process) global arrays into numpy on every process."""
    if jax.process_count() == 1:
        return jax.tree.map(np.asarray, jax.device_get(x))
    return multihost_utils.process_allgather(x, tiled=True)
