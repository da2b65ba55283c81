"""One thread owns the model; requests from every job in flight join its next batch.

A job's synthesis submits all its chunks at once and waits for their results. The scheduler's thread takes the
oldest waiting request, then the waiting requests that can share a model call with it (the same `key`: steps,
guidance): first one from each other job, in turn, so a long job does not hold back short ones, and among equals
the closest in size, so padding stays small; each is added while the batch's padded cost (items × the largest
item's cost) fits the `budget` derived from free memory. While a batch runs, new requests wait for the next one.

A failing batch is split in halves and each half retried, so only an item that fails alone fails, and only its
job sees the error: out of memory alone is a ModelError the caller can act on, anything else is raised as it is.
When one of a job's chunks fails, its other chunks are withdrawn.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from common.errors import ModelError
from common.gpu import OUT_OF_MEMORY_ADVICE, free_gpu_cache, is_out_of_memory, is_sticky_device_error

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
MAX_BATCH_ITEMS = 64
_callers = itertools.count()


@dataclass(eq=False)
class _Request(Generic[Item, Result]):
    item: Item
    caller: int  # one `run` call: a job's chunks
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
        self._closed = False
        self._changed = threading.Condition()
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # the latest batches' sizes, for tests and benchmarks
        self._thread = threading.Thread(target=self._serve, name="batch-scheduler", daemon=True)
        self._thread.start()

    def run(self, items: Sequence[Item]) -> list[Result]:
        """Results in the order of `items`, once all are done; the first failure among them is raised and the
        rest of them are withdrawn."""
        caller = next(_callers)
        requests: list[_Request[Item, Result]] = [_Request(item, caller) for item in items]
        with self._changed:
            if self._closed:
                raise ModelError("the speech model was shut down; the worker is restarting")
            self._waiting += requests
            self._changed.notify()
        try:
            return [request.future.result() for request in requests]
        except BaseException:
            for request in requests:
                request.future.cancel()  # those not yet taken into a batch are dropped
            raise

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

    def close(self) -> None:
        """Stop the thread (it holds the model) once the running batch ends; waiting requests fail."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join()

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._closed and (self._held or not self._waiting):
                    self._changed.wait()
                if self._closed:
                    waiting, self._waiting = self._waiting, []
                    break
                batch = self._next_batch()
            if batch:
                self._execute(batch)
        for request in waiting:
            if request.future.set_running_or_notify_cancel():
                request.future.set_exception(ModelError("the speech model was shut down; the worker is restarting"))

    def _next_batch(self) -> list[_Request[Item, Result]]:
        """The oldest request, then those that fit beside it: a turn for each job, closest in cost first."""
        self._waiting = [request for request in self._waiting if not request.future.cancelled()]
        if not self._waiting:
            return []
        oldest = self._waiting[0]
        key, cost = self._key(oldest.item), self._cost(oldest.item)
        candidates = [request for request in self._waiting[1:] if self._key(request.item) == key]
        turns: dict[int, int] = {oldest.caller: 1}
        ranked = []
        for request in candidates:  # in arrival order: a caller's n-th candidate gets rank n
            turns[request.caller] = turns.get(request.caller, 0) + 1
            ranked.append((turns[request.caller], abs(self._cost(request.item) - cost), request))
        ranked.sort(key=lambda entry: entry[:2])
        batch, largest = [oldest], cost
        for _, _, request in ranked:
            if len(batch) >= self.max_items:
                break
            padded = max(largest, self._cost(request.item)) * (len(batch) + 1)
            if padded <= self.budget:
                batch.append(request)
                largest = max(largest, self._cost(request.item))
        chosen = set(map(id, batch))
        self._waiting = [request for request in self._waiting if id(request) not in chosen]
        # Taken: from here a caller can no longer withdraw them (and none is withdrawn half-way).
        return [request for request in batch if request.future.set_running_or_notify_cancel()]

    def _execute(self, batch: list[_Request[Item, Result]]) -> None:
        try:
            results = self._run_batch([request.item for request in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} gave {len(results)} results")
        except BaseException as error:  # the thread must outlive any failure, or every job would wait forever
            self._failed(batch, error)
            return
        self.batch_sizes.append(len(batch))
        for request, result in zip(batch, results, strict=True):
            request.future.set_result(result)

    def _failed(self, batch: list[_Request[Item, Result]], error: BaseException) -> None:
        if is_sticky_device_error(error):  # nothing will run on this device again: no item is retried
            for request in batch:
                request.future.set_exception(error)
            return
        out_of_memory = is_out_of_memory(error)
        if out_of_memory:
            free_gpu_cache()
        if len(batch) > 1:
            log.warning("a batch of %d failed (%s): split and retried", len(batch), type(error).__name__)
            middle = len(batch) // 2
            self._execute(batch[:middle])
            self._execute(batch[middle:])
            return
        batch[0].future.set_exception(ModelError(OUT_OF_MEMORY_ADVICE) if out_of_memory else error)
