"""Tidy the envs folder: abandoned build folders, and (when asked) environments of older locks nobody uses.

A running worker keeps a file under `<env>/.users/` fresh (the handler touches it); an environment with a fresh
user file is never pruned.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from bootstrap import log
from bootstrap.environment import MARKER

USERS_DIR = ".users"
USER_STALE_S = 15 * 60  # the handler refreshes its user file every minute


def clean_temporaries(
    folder: Path, max_age_s: float, now: float | None = None, *, trash_max_age_s: float | None = None
) -> list[Path]:
    """Remove `.tmp-*` build folders older than `max_age_s` and `.trash-*` leftovers older than `trash_max_age_s`
    (by default, `max_age_s` too).

    In the envs folder trash is never used again, so it may go at any age (a stopped worker may leave some); the
    weight fetcher may still move a trash folder of its own back into place for a moment."""
    now = time.time() if now is None else now
    trash_max_age_s = max_age_s if trash_max_age_s is None else trash_max_age_s
    removed = []
    for path in folder.glob(".t*-*"):
        if path.name.startswith(".tmp-"):
            max_age = max_age_s
        elif path.name.startswith(".trash-"):
            max_age = trash_max_age_s
        else:
            continue
        with contextlib.suppress(FileNotFoundError):
            if now - path.stat().st_mtime > max_age:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    if removed:
        log.info(f"removed {len(removed)} abandoned build folder(s)")
    return removed


def register_user(env_dir: Path, now: float | None = None) -> Path:
    """Mark this worker as a user of `env_dir`; the handler keeps the file fresh while it runs. Files of
    workers long gone are removed."""
    now = time.time() if now is None else now
    users = env_dir / USERS_DIR
    users.mkdir(exist_ok=True)
    for user in users.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if now - user.stat().st_mtime > 4 * USER_STALE_S:
                user.unlink()
    path = users / f"{os.uname().nodename}-{os.getpid()}"
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
            log.info(f"keeping environment {env_dir.name}: a worker is using it")
            continue
        trash = envs_dir / f".trash-{env_dir.name}-{os.urandom(4).hex()}"
        with contextlib.suppress(OSError):
            env_dir.rename(trash)  # out of sight atomically, then deleted
            shutil.rmtree(trash, ignore_errors=True)
            pruned.append(env_dir)
    if pruned:
        log.info(f"pruned {len(pruned)} old environment(s)")
    return pruned
