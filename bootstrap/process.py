"""The bootstrap's child processes (uv, the smoke import, the flash-attn install, the weights fetcher): each runs in a
process group of its own and is stopped together with its own children when its time limit passes or the bootstrap
is stopped itself (bootstrap/stopping.py).

The build steps and the add-on install are bounded by WORKER_BUILD_TIMEOUT_S. The weights fetcher is given no time
limit: several GB from Hugging Face can rightly take long on a slow link, so only a stop (SIGTERM) ends it early."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

STOP_GRACE_S = 3.0  # a child asked to stop gets this long to exit before it is killed, well within RunPod's 10 s


def run(
    command: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    timeout_s: float | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `command` in a process group of its own and wait for it.

    On a timeout (`subprocess.TimeoutExpired`) or anything else raised while waiting (`Stopped` included), the
    whole group, the child's own children too, is stopped before the exception goes on."""
    pipe = subprocess.PIPE if capture else None
    with subprocess.Popen(  # noqa: S603 (argument lists built by the bootstrap, no shell)
        command, env=dict(env), cwd=cwd, stdout=pipe, stderr=pipe, text=True, process_group=0
    ) as child:
        try:
            stdout, stderr = child.communicate(timeout=timeout_s)
        except BaseException:
            stop_group(child)
            raise
    return subprocess.CompletedProcess(command, child.returncode, stdout, stderr)


def stop_group(child: subprocess.Popen[str]) -> None:
    """SIGTERM to the child's process group; after STOP_GRACE_S, SIGKILL to whatever is left of it."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=STOP_GRACE_S)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # grandchildren that outlived the child, or a child that hung on
