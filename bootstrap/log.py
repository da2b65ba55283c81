"""One-line log records on stderr. `logging` alone costs ~8 ms to import, a sixth of the fast path's budget."""

from __future__ import annotations

import sys
import time


def info(message: str) -> None:
    _emit("INFO", message)


def warning(message: str) -> None:
    _emit("WARNING", message)


def _emit(level: str, message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} {level} bootstrap: {message}", file=sys.stderr, flush=True)
