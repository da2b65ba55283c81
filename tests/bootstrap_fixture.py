"""A small project for bootstrap tests: a lock with one locally built wheel, and a handler that reports.

Wheels are written by hand (a wheel is a zip with a dist-info folder), so building and installing needs no
network. The handler prints where it runs, so a test can tell which environment a worker ended up in.
"""

from __future__ import annotations

import base64
import hashlib
import os
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
