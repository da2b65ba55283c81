"""A build lease: one file whose mtime is a heartbeat. It only saves duplicate work.

Cross-host file locks on a network volume are not to be trusted, so the lease is advisory: the holder touches the
file every `heartbeat_s`; a lease untouched for `stale_s` is taken over. Two builders at once are still correct,
because publishing is an atomic rename that only one of them can win.

The heartbeat proves the holder is alive, not that its build moves on, so it has an end: past the build's time
limit the holder is stuck (in a hung file system call, say) and stops refreshing, and the lease goes stale.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from bootstrap import log


class Lease:
    def __init__(self, path: Path, heartbeat_s: float, stale_s: float) -> None:
        self.path = path
        self.heartbeat_s = heartbeat_s
        self.stale_s = stale_s
        self.owner = f"{os.uname().nodename}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_acquire(self, until: float | None = None) -> bool:
        """Take the lease if it is free or stale. Returns False while someone else's is fresh.

        The heartbeat stops at `until` (a `time.monotonic()` value), if given, even if the lease is not released."""
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
        self._thread = threading.Thread(target=self._beat, args=(until,), name="lease-heartbeat", daemon=True)
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

    def _beat(self, until: float | None) -> None:
        while not self._stop.wait(self.heartbeat_s):
            if until is not None and time.monotonic() >= until:
                log.warning(
                    f"the build ran past its time limit: lease {self.path.name} is no longer refreshed, "
                    f"so another worker may take over in {self.stale_s:g} s"
                )
                return
            with contextlib.suppress(OSError):
                os.utime(self.path)
