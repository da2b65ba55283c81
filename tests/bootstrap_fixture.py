"""A small project for bootstrap tests: a lock with one locally built wheel, and a handler that reports.

Wheels are written by hand (a wheel is a zip with a dist-info folder), so building and installing needs no
network. The handler prints where it runs, so a test can tell which environment a worker ended up in.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT

HANDLER = """\
import json, os, sys
from pathlib import Path
import tinydep
import tinydep.later  # not imported by the smoke test: from a local copy, reached through its link
prefix = Path(sys.prefix)
marker = prefix / ".bootstrap-complete"
try:
    import flash_attn
    flash = flash_attn.__version__
except ImportError:
    flash = None
print("HANDLER " + json.dumps({
    "prefix": str(prefix), "argv": sys.argv[1:], "tinydep": tinydep.VERSION, "marker": marker.is_file(),
    "user_file": os.environ.get("WORKER_ENV_USER_FILE"), "hf_offline": os.environ.get("HF_HUB_OFFLINE"),
    "flash_attn": flash, "tinydep_file": tinydep.__file__, "later_file": tinydep.later.__file__,
}), flush=True)
"""


def build_wheel(directory: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """Write `<name>-<version>-py3-none-any.whl` holding `files` (path in the wheel → content)."""
    dist_info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    contents[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record_lines = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record_lines.append(f"{path},sha256={digest},{len(data)}")
    record_lines.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel


def make_project(directory: Path, version: str = "0.1.0", ballast_bytes: int = 0) -> Path:
    """A project whose lock pins `tinydep==<version>` from a local wheel; `ballast_bytes` of random data in it."""
    files = {
        "tinydep/__init__.py": f"VERSION = {version!r}\n".encode(),
        "tinydep/later.py": b"LATER = True\n",
        "tinydep/data/notes.txt": b"read by nobody at start-up\n",
        "tinydep/plugins/found.txt": b"looked for, never opened\n",
        "tinydep/plugins/unseen/other.txt": b"in a folder looked at only from outside\n",
        "tinydep/listed/entry.txt": b"named in a listing, never looked up\n",
    }
    if ballast_bytes:
        files["tinydep/libs/ballast.bin"] = os.urandom(ballast_bytes)
    wheel = build_wheel(directory / "wheels", "tinydep", version, files)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        f"""[project]
name = "bootstrap-fixture"
version = "0.0.0"
requires-python = ">=3.11"
dependencies = ["tinydep=={version}"]

[tool.uv.sources]
tinydep = {{ path = "wheels/{wheel.name}" }}
"""
    )
    (directory / "handler.py").write_text(HANDLER)
    subprocess.run(["uv", "lock", "--offline", "--quiet"], cwd=directory, check=True)
    return directory


def bootstrap_env(project: Path, volume: Path, **extra: str) -> dict[str, str]:
    """The bootstrap's environment for `project` on `volume` (created), offline, weights not fetched."""
    volume.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "UV_", "VIRTUAL_ENV"))}
    env.update(
        WORKER_VOLUME=str(volume),
        WORKER_PROJECT_DIR=str(project),
        WORKER_SMOKE_IMPORTS="import tinydep",
        WORKER_FETCH_WEIGHTS="0",
        WORKER_LOCAL_COPY_DIR="off",  # these tests look at the volume's environment; test_startup_copy turns it on
        UV_OFFLINE="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def bootstrap_command(*handler_args: str) -> list[str]:
    return [sys.executable, "-m", "bootstrap", *handler_args]


def stand_in_uv(directory: Path, on_sync: str) -> Path:
    """A folder holding a `uv` that runs `on_sync` (shell) for `uv sync` and the real uv for everything else.
    Put it first on PATH to make the bootstrap's install step hang or fail on demand."""
    real_uv = shutil.which("uv")
    assert real_uv is not None, "uv is not on PATH"
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "uv"
    script.write_text(f'#!/bin/sh\nif [ "$1" = sync ]; then\n{on_sync}\nfi\nexec {shlex.quote(real_uv)} "$@"\n')
    script.chmod(0o755)
    return directory


# A `uv sync` that never finishes, with a child of its own, as uv's downloads and builds are; it writes both
# process ids to $STAND_IN_PIDS first.
HANGING_SYNC = """\
sleep 600 &
echo "$$ $!" > "$STAND_IN_PIDS"
wait
exit 1"""


def alive(pid: int) -> bool:
    """Whether process `pid` is still running (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def kill_session(session_id: int) -> None:
    """SIGKILL every process of a session, as a container's end does: a worker started with
    `start_new_session=True` heads one, and its child processes each run in a process group of their own."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[3]) == session_id:  # the session id: field 6 of /proc/<pid>/stat, after state, ppid, pgrp
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(stat.parent.name), signal.SIGKILL)
