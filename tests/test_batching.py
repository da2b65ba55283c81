"""Batched synthesis: the scheduler's rules on a plain function, then the real F5 path with tiny weights.

A chunk's audio must not depend on its company: the same job alone or batched with others, and a long job with
its chunks batched or one by one, give the same samples.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from common.errors import ModelError
from tts.batching import MAX_BATCH_ITEMS, BatchScheduler


def scheduler(run_batch, budget: int = 100, **options) -> BatchScheduler:
    return BatchScheduler(run_batch, cost=lambda item: item[1] ** 2, key=lambda item: item[0], budget=budget, **options)


def wait_until_waiting(batches: BatchScheduler, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while batches.waiting < count:
        assert time.monotonic() < deadline, f"only {batches.waiting} of {count} requests arrived"
        time.sleep(0.01)


def submit_held(batches: BatchScheduler, groups: list[list[tuple]]) -> list:
    """Submit each group from its own thread while the scheduler is held, then release it: one batching decision."""
    with ThreadPoolExecutor(len(groups)) as threads, batches.held():
        futures = [threads.submit(batches.run, group) for group in groups]
        wait_until_waiting(batches, sum(map(len, groups)))
    return [future.exception() or future.result() for future in futures]


def test_results_come_back_in_order_and_batches_share_a_key_and_fit_the_budget():
    seen: list[list[tuple]] = []

    def run_batch(items):
        seen.append(items)
        return [f"{key}:{size}" for key, size in items]

    batches = scheduler(run_batch, budget=4 * 5**2)
    results = submit_held(batches, [[("a", 5), ("a", 4)], [("b", 5)], [("a", 5), ("a", 1), ("a", 5), ("a", 5)]])
    assert results == [["a:5", "a:4"], ["b:5"], ["a:5", "a:1", "a:5", "a:5"]]
    for batch in seen:
        assert len({key for key, _ in batch}) == 1
        assert max(size for _, size in batch) ** 2 * len(batch) <= 4 * 5**2
    assert max(map(len, seen)) == 4  # requests of several callers did share a batch


def test_a_failing_item_fails_alone_and_its_batch_mates_complete():
    def run_batch(items):
        if any(size == 13 for _, size in items):
            raise ValueError("item 13 cannot be generated")
        return [size for _, size in items]

    batches = scheduler(run_batch, budget=10**6)
    results = submit_held(batches, [[("a", 1)], [("a", 13)], [("a", 2), ("a", 3)]])
    assert results[0] == [1] and results[2] == [2, 3]
    assert isinstance(results[1], ValueError)


def test_out_of_memory_splits_the_batch_and_only_what_cannot_run_alone_is_a_model_error():
    def run_batch(items):
        if sum(size for _, size in items) > 6:  # this "GPU" holds at most six units at once
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [size for _, size in items]

    batches = scheduler(run_batch, budget=10**6)
    results = submit_held(batches, [[("a", 2), ("a", 3)], [("a", 4)], [("a", 7)], [("a", 1)]])
    assert results[0] == [2, 3] and results[1] == [4] and results[3] == [1]
    assert isinstance(results[2], ModelError) and "ran out of memory for this job" in str(results[2])
    assert max(batches.batch_sizes) > 1  # splitting stopped where the batch fit


def test_a_long_job_does_not_hold_back_a_short_one_that_arrives_later():
    seen: list[list[tuple]] = []

    def run_batch(items):
        seen.append(items)
        return [size for _, size in items]

    batches = scheduler(run_batch, budget=10**6, max_items=2)
    with ThreadPoolExecutor(2) as threads, batches.held():
        long_job = threads.submit(batches.run, [("a", 5)] * 6)
        wait_until_waiting(batches, 6)  # the long job is first in line
        short_job = threads.submit(batches.run, [("a", 3)])
        wait_until_waiting(batches, 7)
    assert long_job.result() == [5] * 6 and short_job.result() == [3]
    assert ("a", 3) in seen[0]  # its turn comes in the first batch, not after the long job's six chunks


def test_the_scheduler_outlives_a_batch_that_breaks_its_contract_and_serves_the_next_job():
    def run_batch(items):
        if any(size == 0 for _, size in items):
            raise KeyboardInterrupt  # not an Exception: it would end a thread that caught only those
        if any(size == 1 for _, size in items):
            return []  # too few results
        return [size for _, size in items]

    batches = scheduler(run_batch, budget=10**6)
    results = submit_held(batches, [[("a", 0)], [("a", 1)]])
    assert isinstance(results[0], KeyboardInterrupt)
    assert isinstance(results[1], RuntimeError) and "gave 0 results" in str(results[1])
    assert batches.run([("a", 2)]) == [2]


def test_a_closed_scheduler_refuses_new_work_with_a_model_error():
    batches = scheduler(lambda items: [size for _, size in items])
    assert batches.run([("a", 2)]) == [2]
    batches.close()
    with pytest.raises(ModelError, match="shut down"):
        batches.run([("a", 2)])


@pytest.fixture(scope="module")
def f5(tiny_volume):
    from tts.f5 import F5Synthesizer
    from tts.runtime import Runtime
    from worker.layout import VolumeLayout

    layout = VolumeLayout.on(tiny_volume)
    synthesizer = F5Synthesizer.load(
        layout.f5_dir("F5TTS_v1_Base"), layout.vocos_dir, Runtime("cpu", "float32", "torch")
    )
    assert synthesizer.scheduler.max_items == 1  # no batching on the CPU, where it only costs
    synthesizer.scheduler.max_items = MAX_BATCH_ITEMS  # what a GPU gets: the code under test is the same
    return synthesizer


def voice(seed: int):
    from voice import ReferenceVoice

    samples = np.random.default_rng(seed).standard_normal(2 * 24000).astype(np.float32) * 0.1
    return ReferenceVoice(samples, 24000, f"Reference clip number {seed}.")


JOBS = [
    ("A job that is compared alone and in company.", 0, 11),
    ("Another voice says something rather longer, so the batch holds items of several lengths.", 1, 12),
    ("Short.", 2, 13),
    ("The fourth job of the batch speaks a medium sentence.", 3, 14),
]


@pytest.mark.slow
def test_a_job_gives_the_same_samples_alone_and_batched_with_three_others(f5):
    from tts import SynthesisOptions

    def synthesize(job):
        text, voice_seed, seed = job
        return f5.synthesize(text, voice(voice_seed), SynthesisOptions(nfe_step=6, seed=seed))

    alone = synthesize(JOBS[0])
    runs_before = len(f5.scheduler.batch_sizes)
    with ThreadPoolExecutor(len(JOBS)) as threads, f5.scheduler.held():
        futures = [threads.submit(synthesize, job) for job in JOBS]
        wait_until_waiting(f5.scheduler, len(JOBS))
    together = [future.result() for future in futures]
    assert list(f5.scheduler.batch_sizes)[runs_before:] == [len(JOBS)]  # one model call for the four jobs
    np.testing.assert_allclose(together[0].samples, alone.samples, atol=1e-5, rtol=0)
    assert [chunk.text for chunk in together[0].chunks] == [chunk.text for chunk in alone.chunks]


@pytest.mark.slow
def test_a_long_jobs_chunks_give_the_same_samples_batched_or_one_by_one(f5):
    from tts import SynthesisOptions

    text = " ".join(f"Sentence number {n} of a long text, read by a voice that was never there." for n in range(12))
    options = SynthesisOptions(nfe_step=4, seed=5)
    runs_before = len(f5.scheduler.batch_sizes)
    batched = f5.synthesize(text, voice(7), options)
    batch_sizes = list(f5.scheduler.batch_sizes)[runs_before:]
    f5.scheduler.max_items = 1
    try:
        one_by_one = f5.synthesize(text, voice(7), options)
    finally:
        f5.scheduler.max_items = MAX_BATCH_ITEMS
    assert len(batched.chunks) > 3 and max(batch_sizes) > 1
    np.testing.assert_allclose(batched.samples, one_by_one.samples, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_a_batch_that_runs_out_of_memory_is_split_and_every_job_completes(f5, monkeypatch):
    import tts.f5
    from tts import SynthesisOptions

    real = tts.f5.sample_batch
    tried: list[int] = []
    lock = threading.Lock()

    def at_most_two(model, requests):
        """Stands in for a GPU with room for two chunks at a time; the splitting around it is what is tested."""
        with lock:
            tried.append(len(requests))
        if len(requests) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(model, requests)

    expected = [f5.synthesize(text, voice(v), SynthesisOptions(nfe_step=4, seed=s)).samples for text, v, s in JOBS]
    monkeypatch.setattr(tts.f5, "sample_batch", at_most_two)
    with ThreadPoolExecutor(len(JOBS)) as threads, f5.scheduler.held():
        futures = [
            threads.submit(f5.synthesize, text, voice(v), SynthesisOptions(nfe_step=4, seed=s)) for text, v, s in JOBS
        ]
        wait_until_waiting(f5.scheduler, len(JOBS))
    for future, samples in zip(futures, expected, strict=True):
        np.testing.assert_allclose(future.result().samples, samples, atol=1e-5, rtol=0)
    assert tried[0] == len(JOBS) and max(tried[1:]) <= 2
