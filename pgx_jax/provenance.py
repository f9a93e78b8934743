"""Where and when a run ran: `provenance.json` in its workdir, written when the run starts (the
package version, its git commit if imported from a checkout, date, host, JAX and its devices)
and completed when it finishes (the end time and the run time). A resumed run keeps the first
start and lists its resumes."""

import datetime
import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys

from pgx_jax.files import write_atomically

PROVENANCE_FILE = "provenance.json"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _seconds(start: str, end: str) -> float:
    delta = datetime.datetime.fromisoformat(end) - datetime.datetime.fromisoformat(start)
    return delta.total_seconds()


def package_version() -> str:
    """The installed version of pgx_jax ("unknown" when it is not installed)."""
    try:
        return importlib.metadata.version("pgx_jax")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def git_state(directory: str | None = None) -> dict:
    """{"commit", "dirty"} of the git checkout the package is imported from (or `directory`);
    {} when that is not a git checkout or git is missing. Dirty: tracked files changed."""
    root = directory or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.exists(os.path.join(root, ".git")):
        return {}
    try:
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        status = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if commit.returncode or status.returncode:
        return {}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def environment() -> dict:
    """The package, host, Python, JAX and device facts of this process."""
    import jax

    devices = jax.devices()
    return {
        "package": "pgx_jax",
        "version": package_version(),
        **git_state(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "devices": {
            "platform": devices[0].platform,
            "kind": devices[0].device_kind,
            "count": len(devices),
        },
        "processes": jax.process_count(),
    }


def read(workdir: str) -> dict | None:
    """The run's provenance, or None if it was not recorded."""
    path = os.path.join(workdir, PROVENANCE_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def record_start(workdir: str, step: int = 0) -> dict:
    """Write `provenance.json` as a run starts; a rerun (resumed from `step`) keeps the first
    start, adds itself to `resumes` and drops the previous finish."""
    now = _now()
    found = read(workdir)
    if found is None:
        record = {**environment(), "started": now}
    else:
        record = {k: v for k, v in found.items() if k not in ("finished", "run_seconds")}
        resume = {"at": now, "step": step, "host": socket.gethostname()}
        record["resumes"] = [*found.get("resumes", []), resume]
    _write(workdir, record)
    return record


def record_finish(workdir: str) -> dict:
    """Add the end time, the run time since the first start (`run_seconds`) and since the last
    (re)start (`session_seconds`) to `provenance.json`."""
    record = read(workdir) or {**environment(), "started": _now()}
    now = _now()
    last = record["resumes"][-1]["at"] if record.get("resumes") else record["started"]
    record.update(
        finished=now,
        run_seconds=_seconds(record["started"], now),
        session_seconds=_seconds(last, now),
    )
    _write(workdir, record)
    return record


def _write(workdir: str, record: dict) -> None:
    write_atomically(os.path.join(workdir, PROVENANCE_FILE), json.dumps(record, indent=2) + "\n")
