"""SIGTERM and SIGINT become `Stopped`, an exception, so the bootstrap stops cleanly and at once.

The bootstrap is the container's first process. Python as PID 1 ignores SIGTERM unless it installs a handler, and
RunPod (like `docker stop`) kills the container 10 s after sending it. As an exception, the signal runs every
`finally` on the way out: the child at work is stopped with its own children (bootstrap/process.py), a build's
temporary folder is removed and its lease released. Only `signal` is imported: this is on the fast path.
"""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived. A BaseException, like KeyboardInterrupt: `except Exception` must not swallow it."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_name = signal.Signals(signal_number).name
        self.exit_code = 128 + signal_number  # what a shell reports for a process ended by this signal


def stop_on_signals() -> None:
    """Raise `Stopped` in the main thread when SIGTERM or SIGINT arrives (an exec resets this)."""
    for number in STOP_SIGNALS:
        signal.signal(number, _raise_stopped)


def _raise_stopped(number: int, frame: FrameType | None) -> None:
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)  # one stop is enough: the clean-up it starts must not be cut short
    raise Stopped(number)
