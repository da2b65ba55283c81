"""The keyed Python environment on the volume: find it, or build it privately and publish it atomically."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bootstrap import log
from bootstrap.config import BootstrapConfig

BOOTSTRAP_SCHEMA = 1
MARKER = ".bootstrap-complete"
BUILD_STAGES = ("resolve", "install", "smoke", "pack", "marker", "rename")
WAIT_POLL_S = 1.0
# Fault injection for the crash tests: stop (and wait to be killed) at the start of the named stage.
PAUSE_VARIABLE = "WORKER_BOOTSTRAP_TEST_PAUSE_AT"


class BootstrapError(Exception):
    """A phase failed; the message says what happened and what to do."""


def environment_key(lock_bytes: bytes, python: str = sys.executable, version: str = sys.version) -> str:
    """sha256 over the lock, the interpreter's version and real path, the machine and the schema."""
    digest = hashlib.sha256()
    for part in (lock_bytes, version.encode(), os.path.realpath(python).encode(), os.uname().machine.encode()):
        digest.update(hashlib.sha256(part).digest())
    digest.update(str(BOOTSTRAP_SCHEMA).encode())
    return digest.hexdigest()[:16]


def is_published(env_dir: Path, key: str) -> bool:
    try:
        marker = json.loads((env_dir / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("key") == key and (env_dir / "bin" / "python").exists()


def ensure_environment(config: BootstrapConfig) -> Path:
    """The published environment for this lock and interpreter, built first if needed."""
    key = environment_key((config.project_dir / "uv.lock").read_bytes())
    target = config.envs_dir / key
    if is_published(target, key):
        return target
    from bootstrap.lease import Lease  # the slow path's imports stay off the fast path

    config.envs_dir.mkdir(parents=True, exist_ok=True)
    lease = Lease(config.envs_dir / f"{key}.lease", config.lease_heartbeat_s, config.lease_stale_s)
    deadline = time.monotonic() + config.build_timeout_s
    announced = False
    while not is_published(target, key):
        if not config.lease_enabled or lease.try_acquire():
            try:
                if is_published(target, key):  # published while we were taking the lease
                    return target
                log.info(f"building environment {key} (once per lock; minutes)")
                return _build(config, key, target)
            finally:
                if config.lease_enabled:
                    lease.release()
        if not announced:
            log.info(f"another worker is building environment {key}; waiting for it")
            announced = True
        if time.monotonic() > deadline:
            raise BootstrapError(
                f"environment {key} was not published within {config.build_timeout_s:.0f} s; "
                f"remove {lease.path} if no worker is building, or raise WORKER_BUILD_TIMEOUT_S"
            )
        time.sleep(WAIT_POLL_S)
    return target


def _build(config: BootstrapConfig, key: str, target: Path) -> Path:
    staging = config.envs_dir / f".tmp-{key}-{os.urandom(4).hex()}"
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(config.uv_cache_dir),
        "UV_PROJECT_ENVIRONMENT": str(staging),
        "UV_LINK_MODE": "copy",  # the cache and the environment may sit on different file systems
        "UV_PYTHON_DOWNLOADS": "never",
        "VIRTUAL_ENV": "",
    }
    try:
        _stage("resolve")
        _run(["uv", "venv", "--relocatable", "--python", sys.executable, str(staging)], env, config, "create the venv")
        _stage("install")
        _run(["uv", "sync", "--locked", "--no-dev", "--compile-bytecode"], env, config, "install the locked packages")
        _stage("smoke")
        from bootstrap import startup_copy

        recorded = _run(
            [str(staging / "bin" / "python"), "-c", startup_copy.recorder_code(config.smoke_imports)],
            env,
            config,
            "import the new packages",
        )
        _stage("pack")
        touched = startup_copy.touched_paths(recorded, staging)
        count, size = startup_copy.write_pack(staging, touched, staging / startup_copy.PACK_NAME)
        log.info(f"start-up pack: {count} files, {size / 2**20:.0f} MiB copied locally at start")
        _stage("marker")
        with (staging / MARKER).open("w") as handle:
            json.dump({"key": key, "built_at": time.time(), "python": sys.version.split()[0]}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        _stage("rename")
        _publish(staging, target, key)
        return target
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, target: Path, key: str) -> None:
    if target.exists() and not is_published(target, key):
        # A folder without a valid marker was never a published environment: move it out of the way first.
        trash = target.with_name(f".trash-{target.name}-{os.urandom(4).hex()}")
        with contextlib.suppress(OSError):
            target.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
    try:
        staging.rename(target)  # atomic: a reader sees nothing or a complete environment
    except OSError:
        if not is_published(target, key):
            raise
        log.info(f"another worker published environment {key} first; using theirs")


def _stage(name: str) -> None:
    if os.environ.get(PAUSE_VARIABLE) == name:
        print(f"bootstrap paused at {name}", file=sys.stderr, flush=True)
        while True:
            time.sleep(60)


def _run(command: list[str], env: Mapping[str, str], config: BootstrapConfig, what: str) -> str:
    """Run a build step; its standard output, or BootstrapError with the tail of what it said."""
    import subprocess

    completed = subprocess.run(  # noqa: S603 (fixed argument lists, no shell)
        command, env=dict(env), cwd=config.project_dir, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip().splitlines()
        tail = "\n".join(output[-12:])
        hint = ""
        if "No space left on device" in tail:
            hint = f"\nThe volume is full: free space under {config.app_dir} or grow the volume."
        raise BootstrapError(f"could not {what} (exit {completed.returncode}):\n{tail}{hint}")
    return completed.stdout
