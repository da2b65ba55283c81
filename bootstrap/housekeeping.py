"""Tidy the envs folder: abandoned build folders, and (when asked) environments of older locks nobody uses.

A running worker keeps a file under `<env>/.users/` fresh (the handler touches it); an environment with a fresh
user file is never pruned.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

from bootstrap.environment import MARKER

USERS_DIR = ".users"
USER_STALE_S = 15 * 60  # the handler refreshes its user file every minute

log = logging.getLogger("bootstrap")


def clean_temporaries(envs_dir: Path, max_age_s: float, now: float | None = None) -> list[Path]:
    """Remove `.tmp-*` build folders and `.trash-*` leftovers older than `max_age_s`."""
    now = time.time() if now is None else now
    removed = []
    for path in envs_dir.glob(".t*-*"):
        if not path.name.startswith((".tmp-", ".trash-")):
            continue
        with contextlib.suppress(FileNotFoundError):
            if now - path.stat().st_mtime > max_age_s:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    if removed:
        log.info("removed %d abandoned build folder(s)", len(removed))
    return removed


def register_user(env_dir: Path) -> Path:
    """Mark this worker as a user of `env_dir`; the handler keeps the file fresh while it runs."""
    users = env_dir / USERS_DIR
    users.mkdir(exist_ok=True)
    path = users / f"{socket.gethostname()}-{os.getpid()}"
    path.touch()
    return path


def in_use(env_dir: Path, now: float) -> bool:
    users = env_dir / USERS_DIR
    if not users.is_dir():
        return False
    return any(now - user.stat().st_mtime < USER_STALE_S for user in users.iterdir())


def prune_environments(envs_dir: Path, current_key: str, now: float | None = None) -> list[Path]:
    """Remove published environments of other keys that no running worker uses."""
    now = time.time() if now is None else now
    pruned = []
    for env_dir in envs_dir.iterdir():
        if env_dir.name == current_key or env_dir.name.startswith(".") or not (env_dir / MARKER).exists():
            continue
        if in_use(env_dir, now):
            log.info("keeping environment %s: a worker is using it", env_dir.name)
            continue
        trash = envs_dir / f".trash-{env_dir.name}-{uuid.uuid4().hex[:8]}"
        with contextlib.suppress(OSError):
            env_dir.rename(trash)  # out of sight atomically, then deleted
            shutil.rmtree(trash, ignore_errors=True)
            pruned.append(env_dir)
    if pruned:
        log.info("pruned %d old environment(s)", len(pruned))
    return pruned
