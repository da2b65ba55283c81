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
from bootstrap.stopping import Stopped

BOOTSTRAP_SCHEMA = 1
MARKER = ".bootstrap-complete"
BUILD_STAGES = ("resolve", "install", "smoke", "pack", "marker", "rename")
WAIT_POLL_S = 1.0
# When the container is being stopped: how long to spend deleting a build folder. With the child's STOP_GRACE_S
# (bootstrap/process.py) this stays within the 10 s RunPod waits after SIGTERM.
STOP_CLEANUP_S = 4.0
# Fault injection for the crash tests: stop (and wait to be killed) at the start of the named stage.
PAUSE_VARIABLE = "WORKER_BOOTSTRAP_TEST_PAUSE_AT"


class BootstrapError(Exception):
    """A phase failed; the message says what happened and what to do."""


def environment_key(
    lock_bytes: bytes,
    *,
    python: str = sys.executable,
    version: tuple[int | str, ...] = tuple(sys.version_info),
    implementation: str = f"{sys.implementation.name} {sys.implementation.cache_tag}",
    machine: str = os.uname().machine,  # platform.machine(), without importing platform on the fast path
) -> str:
    """sha256 over the lock, the interpreter (implementation and bytecode tag, version numbers, real path), the
    machine and the schema.

    Not `sys.version`: it carries the interpreter's build date, which changes with every rebuild of the base image,
    while the packages built for it stay valid."""
    interpreter = f"{implementation} {'.'.join(map(str, version))}"
    digest = hashlib.sha256()
    for part in (lock_bytes, interpreter.encode(), os.path.realpath(python).encode(), machine.encode()):
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
    # Another worker's build is bounded by the same limit, and its lease goes stale `lease_stale_s` after it.
    waiting_deadline = time.monotonic() + config.build_timeout_s + config.lease_stale_s
    announced = False
    while not is_published(target, key):
        build_deadline = time.monotonic() + config.build_timeout_s
        if not config.lease_enabled or lease.try_acquire(until=build_deadline):
            try:
                if is_published(target, key):  # published while we were taking the lease
                    return target
                log.info(f"building environment {key} (once per lock; minutes)")
                from bootstrap.housekeeping import clean_temporaries

                clean_temporaries(config.envs_dir, config.temp_max_age_s, trash_max_age_s=0.0)  # room for the build
                return _build(config, key, target, build_deadline)
            except BootstrapError:
                if config.lease_enabled:
                    log.warning(f"the build of environment {key} failed: its lease is released for another worker")
                raise
            finally:
                if config.lease_enabled:
                    lease.release()
        if not announced:
            log.info(f"another worker is building environment {key}; waiting for it")
            announced = True
        if time.monotonic() > waiting_deadline:
            raise BootstrapError(
                f"environment {key} was not published within {config.build_timeout_s + config.lease_stale_s:.0f} s; "
                f"remove {lease.path} if no worker is building, or raise WORKER_BUILD_TIMEOUT_S"
            )
        time.sleep(WAIT_POLL_S)
    return target


def _build(config: BootstrapConfig, key: str, target: Path, deadline: float) -> Path:
    """Build in a private folder, publish it, and (without a network volume) prune uv's cache. Every child process
    is stopped at `deadline` (a `time.monotonic()` value)."""
    staging = config.envs_dir / f".tmp-{key}-{os.urandom(4).hex()}"
    stopping = False
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(config.uv_cache_dir),
        "UV_PROJECT_ENVIRONMENT": str(staging),
        # On a network volume, copies: the cache may sit on another file system, and it outlives any environment.
        # On local disk, hard links: the cache and the environment then hold one copy of the packages, not two.
        "UV_LINK_MODE": "hardlink" if config.local_volume else "copy",
        "UV_PYTHON_DOWNLOADS": "never",
        "VIRTUAL_ENV": "",
    }
    try:
        _stage("resolve")
        venv = ["uv", "venv", "--relocatable", "--python", sys.executable, str(staging)]
        _run(venv, env, config, "create the venv", deadline)
        _stage("install")
        sync = ["uv", "sync", "--locked", "--no-dev", "--compile-bytecode"]
        _run(sync, env, config, "install the locked packages", deadline)
        _stage("smoke")
        from bootstrap import startup_copy

        smoke = [str(staging / "bin" / "python"), "-c", startup_copy.recorder_code(config.smoke_imports)]
        recorded, _ = _run(smoke, env, config, "import the new packages", deadline)
        _stage("pack")
        if config.local_volume:
            log.info("no start-up pack: the environment is on local disk already")
        else:
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
    except Stopped:
        stopping = True
        raise
    finally:
        if staging.exists():
            _discard(staging, within_s=STOP_CLEANUP_S if stopping else None)
    if config.local_volume:
        _prune_uv_cache(config, env, deadline)
    return target


def _prune_uv_cache(config: BootstrapConfig, env: Mapping[str, str], deadline: float) -> None:
    """Drop what uv's cache holds that a rebuild could download again (`--ci`): with no network volume, nothing but
    this disk would ever use it. A cache left unpruned only costs disk, so a failure only warns."""
    try:
        _, said = _run(["uv", "cache", "prune", "--ci"], env, config, "prune uv's cache", deadline)
    except BootstrapError as error:
        log.warning(f"uv's cache was not pruned: {error}")
        return
    lines = said.strip().splitlines()  # the last one: "Removed 1234 files (7.7GiB)"
    log.info(f"pruned uv's cache (no network volume): {lines[-1] if lines else 'done'}")


def _discard(folder: Path, within_s: float | None = None) -> None:
    """Rename `folder` to a `.trash-` name at once, then delete it, giving up after `within_s` (None: no limit).

    Deleting a whole environment takes seconds on local disk and much longer on a network volume, more than the
    10 s a stopped container has in all; what is left is trash, which the next start's housekeeping removes."""
    trash = folder.with_name(f".trash-{folder.name.removeprefix('.tmp-')}")
    try:
        folder.rename(trash)
    except OSError:
        trash = folder
    if within_s is None:
        shutil.rmtree(trash, ignore_errors=True)
        return
    import threading

    remover = threading.Thread(target=shutil.rmtree, args=(trash,), kwargs={"ignore_errors": True}, daemon=True)
    remover.start()
    remover.join(within_s)


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


def _run(
    command: list[str], env: Mapping[str, str], config: BootstrapConfig, what: str, deadline: float
) -> tuple[str, str]:
    """Run a build step until `deadline`, stopping it and its children if it is still running then; its standard
    output and error, or BootstrapError with the (redacted) tail of what it said."""
    import subprocess

    from bootstrap import process

    try:
        completed = process.run(command, env=env, cwd=config.project_dir, timeout_s=deadline - time.monotonic())
    except subprocess.TimeoutExpired:
        step = " ".join(command[:2]) if command[0] == "uv" else "the smoke import"
        log.warning(f"{step} was still running at the build's time limit: stopped it")
        raise BootstrapError(
            f"could not {what}: {step} was still running at the build's time limit of {config.build_timeout_s:g} s "
            "and was stopped; raise WORKER_BUILD_TIMEOUT_S if the network is only slow"
        ) from None
    if completed.returncode != 0:
        said = (completed.stderr or completed.stdout).strip().splitlines()
        tail = log.redact("\n".join(said[-12:]))
        hint = ""
        if "No space left on device" in tail:
            hint = f"\nThe volume is full: free space under {config.app_dir} or grow the volume."
        raise BootstrapError(f"could not {what} (exit {completed.returncode}):\n{tail}{hint}")
    return completed.stdout, completed.stderr
