"""`python -m bootstrap [handler arguments...]`: see the package docstring."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

BOOTSTRAP_SCHEMA = 1
APP_DIR_NAME = "f5tts-worker"
MARKER = ".bootstrap-complete"
PROJECT_DIR = Path(__file__).resolve().parent.parent
# What a built environment must import before it is published: the handler's own heavy imports.
SMOKE_IMPORTS = "import runpod, torch, torchaudio, whisperx.alignment, f5_tts.model, boto3, ass, pydantic"

log = logging.getLogger("bootstrap")


class BootstrapError(Exception):
    """A phase failed; the message says what to do."""


def volume_dir(env: Mapping[str, str]) -> Path:
    if env.get("WORKER_VOLUME"):
        return Path(env["WORKER_VOLUME"])
    runpod_volume = Path("/runpod-volume")
    if runpod_volume.is_dir() and os.access(runpod_volume, os.W_OK):
        return runpod_volume
    log.warning("no writable /runpod-volume: using ./.volume (environments and models are not shared)")
    return Path(".volume")


def environment_key(lock_bytes: bytes, python: str = sys.executable, version: str = sys.version) -> str:
    digest = hashlib.sha256()
    for part in (lock_bytes, version.encode(), os.path.realpath(python).encode(), platform.machine().encode()):
        digest.update(hashlib.sha256(part).digest())
    digest.update(str(BOOTSTRAP_SCHEMA).encode())
    return digest.hexdigest()[:16]


def is_published(env_dir: Path, key: str) -> bool:
    try:
        marker = json.loads((env_dir / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("key") == key and (env_dir / "bin" / "python").exists()


def build(envs_dir: Path, key: str, cache_dir: Path) -> Path:
    """Build the environment privately and publish it; returns the published folder (ours or a winner's)."""
    target = envs_dir / key
    staging = envs_dir / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(cache_dir),
        "UV_PROJECT_ENVIRONMENT": str(staging),
        "UV_LINK_MODE": "copy",  # the cache and the environment may sit on different file systems
        "UV_PYTHON_DOWNLOADS": "never",
    }
    try:
        _run(["uv", "venv", "--relocatable", "--python", sys.executable, str(staging)], env, "create the venv")
        _run(["uv", "sync", "--locked", "--no-dev", "--compile-bytecode"], env, "install the locked packages")
        _run([str(staging / "bin" / "python"), "-c", SMOKE_IMPORTS], env, "import the installed packages")
        marker = staging / MARKER
        with marker.open("w") as handle:
            json.dump({"key": key, "built_at": time.time(), "python": sys.version.split()[0]}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            staging.rename(target)  # atomic: readers see nothing or a complete environment
        except OSError:
            if not is_published(target, key):
                raise
            log.info("another worker published this environment first; using theirs")
        return target
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _run(command: list[str], env: Mapping[str, str], what: str) -> None:
    completed = subprocess.run(command, env=dict(env), cwd=PROJECT_DIR, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
        raise BootstrapError(f"could not {what} (exit {completed.returncode}):\n{tail}")


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s bootstrap: %(message)s")
    started = time.perf_counter()
    app_dir = volume_dir(os.environ) / APP_DIR_NAME
    key = environment_key((PROJECT_DIR / "uv.lock").read_bytes())
    envs_dir = app_dir / "envs"
    env_dir = envs_dir / key
    try:
        if is_published(env_dir, key):
            log.info("environment %s ready (%.0f ms)", key, (time.perf_counter() - started) * 1000)
        else:
            log.info("building environment %s in %s (once per lock; minutes)", key, envs_dir)
            envs_dir.mkdir(parents=True, exist_ok=True)
            env_dir = build(envs_dir, key, app_dir / "cache" / "uv")
            log.info("environment %s built in %.1f s", key, time.perf_counter() - started)
    except (BootstrapError, OSError) as error:
        print(f"bootstrap failed: {error}", file=sys.stderr)
        return 3
    python = str(env_dir / "bin" / "python")
    os.execv(python, [python, str(PROJECT_DIR / "handler.py"), *argv])  # noqa: S606 (the hand-over)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
