"""Stage timings and progress: each stage is timed, and the caller is told which one is running."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

ProgressReporter = Callable[[dict[str, Any]], None]


class StageClock:
    """Times the stages of one job (`timings_s`, plus `total`) and reports each as it starts."""

    def __init__(self, report: ProgressReporter, stages: Sequence[str]) -> None:
        self.report = report
        self.stages = tuple(stages)
        self.timings_s: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.report({"stage": name, "step": self.stages.index(name) + 1, "steps": len(self.stages)})
        with self._timed(name):
            yield

    @contextmanager
    def total(self) -> Iterator[None]:
        with self._timed("total"):
            yield

    @contextmanager
    def _timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings_s[name] = round(time.perf_counter() - started, 3)
