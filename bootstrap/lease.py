"""A build lease: one file whose mtime is a heartbeat. It only saves duplicate work.

Cross-host file locks on a network volume are not to be trusted, so the lease is advisory: the holder touches the
file every `heartbeat_s`; a lease untouched for `stale_s` is taken over. Two builders at once are still correct,
because publishing is an atomic rename that only one of them can win.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path


class Lease:
    def __init__(self, path: Path, heartbeat_s: float, stale_s: float) -> None:
        self.path = path
        self.heartbeat_s = heartbeat_s
        self.stale_s = stale_s
        self.owner = f"{os.uname().nodename}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_acquire(self) -> bool:
        """Take the lease if it is free or stale. Returns False while someone else's is fresh."""
        if self.path.exists() and not self.is_stale():
            return False
        if self.is_stale():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "w") as handle:
            handle.write(self.owner + "\n")
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
        self._thread.start()
        return True

    def is_stale(self) -> bool:
        try:
            return time.time() - self.path.stat().st_mtime > self.stale_s
        except FileNotFoundError:
            return False

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.heartbeat_s + 1)
        with contextlib.suppress(OSError):
            if self.path.read_text().strip() == self.owner:
                self.path.unlink()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with contextlib.suppress(OSError):
                os.utime(self.path)
