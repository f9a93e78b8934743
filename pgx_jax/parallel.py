"""Devices, meshes and shardings: data parallelism over a mesh with a named `data` axis.

The batch is split along `data`; parameters and optimiser state are replicated. Under several
processes (`jax.distributed`), each process reads its own rows of every global batch and
`make_array_from_process_local_data` stitches them into one global array.
"""

import os
from typing import Any

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from pgx_jax.errors import PgxError

DATA_AXIS = "data"


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
    """A mesh over every device; `mesh_config.data` is the data-axis size (-1: all devices)."""
    devices = jax.devices()
    size = len(devices) if mesh_config is None else int(mesh_config.get("data", -1))
    if size == -1:
        size = len(devices)
    if size != len(devices):
        raise PgxError(f"config.mesh.data={size} but {len(devices)} devices are visible")
    return jax.make_mesh(
        (size,), (DATA_AXIS,), devices=devices, axis_types=(jax.sharding.AxisType.Auto,)
    )


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over `data`, the rest whole."""
    return NamedSharding(mesh, P(DATA_AXIS))


def local_batch_size(global_batch_size: int, mesh: Mesh) -> int:
    """This process's share of a global batch; it must divide evenly over the data axis."""
    if global_batch_size % mesh.shape[DATA_AXIS]:
        raise PgxError(
            f"batch size {global_batch_size} does not divide over {mesh.shape[DATA_AXIS]} devices"
        )
    return global_batch_size // jax.process_count()


def to_global(local_batch: Any, mesh: Mesh) -> Any:
    """Assemble this process's rows into global arrays sharded along the batch axis."""
    sharding = data_sharded(mesh)
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), local_batch
    )


def to_host(x: Any) -> Any:
    """Gather (possibly multi-process) global arrays into numpy on every process."""
    if jax.process_count() == 1:
        return jax.tree.map(np.asarray, jax.device_get(x))
    return multihost_utils.process_allgather(x, tiled=True)
