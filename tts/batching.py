"""One thread owns the model; requests from every job in flight join its next batch.

A job's synthesis submits all its chunks at once and waits for their results. The scheduler's thread takes the
oldest waiting request and the waiting requests that can share a model call with it (the same `key`: steps,
guidance), closest in size first so padding stays small, while the batch's padded cost (items × the largest
item's cost) fits the `budget` derived from free memory. While a batch runs, new requests wait for the next one.

A failing batch is split in halves and each half retried, so only an item that fails alone fails, and only its
job sees the error: out of memory alone is a ModelError the caller can act on, anything else is raised as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from common.errors import ModelError
from common.gpu import free_gpu_cache, is_out_of_memory

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
MAX_BATCH_ITEMS = 64
OUT_OF_MEMORY_ADVICE = "the GPU ran out of memory for this job; retry with a shorter text or a lower tts.nfe_step"


@dataclass(eq=False)
class _Request(Generic[Item, Result]):
    item: Item
    future: Future[Result] = field(default_factory=Future)


class BatchScheduler(Generic[Item, Result]):
    """Runs `run_batch(items) → results` on its own thread, batching requests from any number of threads."""

    def __init__(
        self,
        run_batch: Callable[[list[Item]], list[Result]],
        *,
        cost: Callable[[Item], int],
        key: Callable[[Item], Hashable],
        budget: int,
        max_items: int = MAX_BATCH_ITEMS,
    ) -> None:
        self._run_batch = run_batch
        self._cost = cost
        self._key = key
        self.budget = budget
        self.max_items = max_items
        self._waiting: list[_Request[Item, Result]] = []
        self._held = 0
        self._changed = threading.Condition()
        self.batch_sizes: list[int] = []  # every batch run, for tests and benchmarks
        threading.Thread(target=self._serve, name="batch-scheduler", daemon=True).start()

    def run(self, items: Sequence[Item]) -> list[Result]:
        """Results in the order of `items`, once all are done; the first failure among them is raised."""
        requests: list[_Request[Item, Result]] = [_Request(item) for item in items]
        with self._changed:
            self._waiting += requests
            self._changed.notify()
        return [request.future.result() for request in requests]

    @property
    def waiting(self) -> int:
        """Requests not yet in a batch."""
        with self._changed:
            return len(self._waiting)

    @contextmanager
    def held(self) -> Iterator[None]:
        """No new batch starts inside the block: requests made meanwhile are batched together after it."""
        with self._changed:
            self._held += 1
        try:
            yield
        finally:
            with self._changed:
                self._held -= 1
                self._changed.notify()

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._waiting or self._held:
                    self._changed.wait()
                batch = self._next_batch()
            self._execute(batch)

    def _next_batch(self) -> list[_Request[Item, Result]]:
        """The oldest request, and those that fit beside it, closest in cost first."""
        oldest = self._waiting[0]
        key, cost = self._key(oldest.item), self._cost(oldest.item)
        candidates = [request for request in self._waiting[1:] if self._key(request.item) == key]
        candidates.sort(key=lambda request: abs(self._cost(request.item) - cost))
        batch, largest = [oldest], cost
        for request in candidates:
            padded = max(largest, self._cost(request.item)) * (len(batch) + 1)
            if len(batch) >= self.max_items or padded > self.budget:
                break
            batch.append(request)
            largest = max(largest, self._cost(request.item))
        chosen = set(map(id, batch))
        self._waiting = [request for request in self._waiting if id(request) not in chosen]
        return batch

    def _execute(self, batch: list[_Request[Item, Result]]) -> None:
        try:
            results = self._run_batch([request.item for request in batch])
        except Exception as error:
            out_of_memory = is_out_of_memory(error)
            if out_of_memory:
                free_gpu_cache()
            if len(batch) > 1:
                log.warning("a batch of %d failed (%s): split and retried", len(batch), type(error).__name__)
                middle = len(batch) // 2
                self._execute(batch[:middle])
                self._execute(batch[middle:])
            else:
                batch[0].future.set_exception(ModelError(OUT_OF_MEMORY_ADVICE) if out_of_memory else error)
            return
        self.batch_sizes.append(len(batch))
        for request, result in zip(batch, results, strict=True):
            request.future.set_result(result)
