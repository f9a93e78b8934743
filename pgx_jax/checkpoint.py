"""Orbax checkpoints of a run: the latest state (for resuming) and the best by validation.

Each save is atomic (orbax writes `<step>.orbax-checkpoint-tmp` and renames it when complete),
so a run killed mid-save resumes from the previous complete checkpoint; the temporary directory
it leaves is removed when the managers open. `meta` carries the loop's own state
(early-stopping counters), restored with the train state for an exact resume.
"""

import os
import sys
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from pgx_jax.errors import PgxError

KINDS = ("latest", "best")


LATEST_KEPT = 2
"""Steps kept in `latest/`: when the newest is damaged, a resumed run starts from the one
before it and replays the steps in between (batches are a function of the step)."""
DAMAGED_SUFFIX = ".damaged"


class Checkpoints:
    """Two orbax managers under `directory`: `latest/` (the last `LATEST_KEPT` steps) and
    `best/` (one)."""

    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)
        self._managers = {
            kind: ocp.CheckpointManager(
                os.path.join(self.directory, kind),
                options=ocp.CheckpointManagerOptions(
                    max_to_keep=LATEST_KEPT if kind == "latest" else 1,
                    create=True,
                    enable_async_checkpointing=False,
                    cleanup_tmp_directories=True,
                ),
                item_handlers=_handlers(),
            )
            for kind in KINDS
        }

    def save(self, kind: str, step: int, state: Any, meta: dict) -> None:
        manager = self._managers[kind]
        if manager.latest_step() == step:
            return
        manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
            ),
        )
        manager.wait_until_finished()

    def latest_step(self, kind: str = "latest") -> int | None:
        return self._managers[kind].latest_step()

    def restore(
        self, kind: str, target: Any, fall_back: bool = False
    ) -> tuple[int, Any, dict] | None:
        """Restore into the structure, shapes and shardings of `target`; None if no checkpoint.

        Raises PgxError when the checkpoint holds other arrays than `target` (a changed model
        or optimizer config resuming an old workdir), and for a damaged checkpoint (a file
        truncated, zeroed or missing): in one line naming it, or, with `fall_back`, after a
        warning the damaged step is set aside as `<step>.damaged` and the step before it is
        restored.
        """
        manager = self._managers[kind]
        found = None
        for step in sorted(manager.all_steps(), reverse=True):
            try:
                found = self._restore_step(manager, step, target)
                break
            except PgxError:
                raise
            except Exception as err:  # tensorstore, orbax, json: each damage fails its own way
                path = manager.directory / str(step)
                problem = " ".join(str(err).split())[:300]
                if not fall_back:
                    raise PgxError(
                        f"checkpoint {path} is damaged ({type(err).__name__}: {problem}); "
                        f"`pgx train` on its workdir resumes from the newest intact step"
                    ) from None
                os.replace(path, f"{path}{DAMAGED_SUFFIX}")
                manager.reload()
                print(
                    f"warning: checkpoint {path} is damaged ({type(err).__name__}: {problem}); "
                    f"moved to {path}{DAMAGED_SUFFIX}, trying the step before it",
                    file=sys.stderr,
                )
        if found is None and any(
            name.endswith(DAMAGED_SUFFIX) for name in os.listdir(manager.directory)
        ):
            raise PgxError(f"no intact {kind} checkpoint left in {manager.directory}")
        return found

    def _restore_step(self, manager, step: int, target: Any) -> tuple[int, Any, dict]:
        saved = _leaf_shapes(manager.item_metadata(step)["state"])
        difference = _first_difference(saved, _leaf_shapes(target))
        if difference:
            raise PgxError(
                f"checkpoint {manager.directory / str(step)} was written by a different model "
                f"or optimizer config ({difference}); resume with the workdir's config.json "
                "or start a new --workdir"
            )
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
        restored = manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()
            ),
        )
        return step, restored["state"], dict(restored["meta"])

    def close(self) -> None:
        for manager in self._managers.values():
            manager.close()


def _handlers() -> dict[str, ocp.CheckpointHandler]:
    return {"state": ocp.StandardCheckpointHandler(), "meta": ocp.JsonCheckpointHandler()}


def _leaf_shapes(tree: Any) -> dict[str, tuple[int, ...]]:
    """Each array leaf's path ('params/conv/kernel') and shape."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {
        "/".join(map(_key_name, path)): tuple(getattr(leaf, "shape", ())) for path, leaf in flat
    }


def _key_name(key: Any) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def _first_difference(saved: dict[str, tuple], wanted: dict[str, tuple]) -> str | None:
    """The first array that is missing or shaped differently, in words; None if all match."""
    for path in sorted(saved.keys() | wanted.keys(), key=lambda p: (not p.startswith("params"), p)):
        if path not in wanted:
            return f"{path} is in the checkpoint but not in this config's state"
        if path not in saved:
            return f"{path} of this config's state is not in the checkpoint"
        if saved[path] != wanted[path]:
            return f"{path} has shape {saved[path]} there, {wanted[path]} here"
    return None


def checkpoint_kind(workdir: str) -> str:
    """'best' if the run saved a best checkpoint, else 'latest': the one rule for which
    checkpoint a finished run is used with."""
    best = os.path.join(workdir, "checkpoints", "best")
    steps = os.listdir(best) if os.path.isdir(best) else []
    return "best" if any(name.isdigit() for name in steps) else "latest"


def saved_eval_params(tree: dict) -> dict:
    """The parameters a saved state (`load_state_tree`) is evaluated with: its moving average
    where the run kept one (`config.train.ema_decay`), else its parameters."""
    return tree.get("ema_params") or tree["params"]


def load_state_tree(workdir: str, kind: str = "latest") -> tuple[int, dict]:
    """A run's saved train state as nested dicts of numpy arrays, with no model needed.

    Works whatever the device count of the run that wrote it: arrays land on one local device.
    """
    directory = os.path.join(os.path.abspath(workdir), "checkpoints", kind)
    with ocp.CheckpointManager(directory, item_handlers=_handlers()) as manager:
        step = manager.latest_step()
        if step is None:
            raise PgxError(f"no {kind} checkpoint in {directory}")
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        abstract = jax.tree.map(
            lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
            manager.item_metadata(step)["state"],
        )
        restored = manager.restore(
            step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))
        )
    return step, jax.tree.map(np.asarray, restored["state"])
