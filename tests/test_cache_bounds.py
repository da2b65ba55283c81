"""Folders the worker fills for itself stay within WORKER_CACHE_MAX_MB: local results and the transcript cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

import storage as storage_module
from storage.local import LocalStorage
from voice.transcriber import TranscriptCache


def file_of(path: Path, size_bytes: int) -> Path:
    path.write_bytes(os.urandom(size_bytes))
    return path


def age(path: Path, seconds: float) -> None:
    """Make a file look written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def stored_jobs(root: Path) -> list[str]:
    return sorted(path.name for path in root.iterdir())


def test_local_results_past_the_bound_lose_their_oldest_jobs_first(tmp_path):
    result = file_of(tmp_path / "speech.wav", 300)
    storage = LocalStorage(tmp_path / "out", max_bytes=1000)
    for job, seconds_ago in (("job-1", 900), ("job-2", 1000), ("job-3", 800)):
        storage.put_file(result, f"{job}/speech.wav", "audio/wav", 600)
        age(tmp_path / "out" / job / "speech.wav", seconds_ago)
    assert stored_jobs(tmp_path / "out") == ["job-1", "job-2", "job-3"]  # 900 bytes: within the bound

    storage.put_file(result, "job-4/speech.wav", "audio/wav", 600)  # 1200 bytes: the oldest job goes
    assert stored_jobs(tmp_path / "out") == ["job-1", "job-3", "job-4"]  # its emptied folder with it


def test_the_result_just_written_and_the_rest_of_its_job_are_never_evicted(tmp_path):
    result = file_of(tmp_path / "speech.wav", 400)
    storage = LocalStorage(tmp_path / "out", max_bytes=500)
    storage.put_file(result, "job-1/speech.wav", "audio/wav", 600)
    age(tmp_path / "out" / "job-1" / "speech.wav", 3600)
    storage.put_file(result, "job-1/subtitles.ass", "text/plain", 600)  # over the bound, but all one job's
    assert sorted(path.name for path in (tmp_path / "out" / "job-1").iterdir()) == ["speech.wav", "subtitles.ass"]

    age(tmp_path / "out" / "job-1" / "subtitles.ass", 3600)
    storage.put_file(result, "job-2/speech.wav", "audio/wav", 600)
    assert stored_jobs(tmp_path / "out") == ["job-2"]

    storage.put_file(file_of(tmp_path / "big.wav", 2000), "job-3/speech.wav", "audio/wav", 600)  # alone over it
    assert (tmp_path / "out" / "job-3" / "speech.wav").stat().st_size == 2000


def test_results_written_in_the_last_minute_are_kept_for_jobs_still_storing_theirs(tmp_path):
    result = file_of(tmp_path / "speech.wav", 400)
    storage = LocalStorage(tmp_path / "out", max_bytes=500)
    storage.put_file(result, "job-1/speech.wav", "audio/wav", 600)  # just now: its job may still be storing
    storage.put_file(result, "job-2/speech.wav", "audio/wav", 600)
    assert stored_jobs(tmp_path / "out") == ["job-1", "job-2"]


def test_a_folder_that_cannot_shrink_yet_is_not_rescanned_on_every_write(tmp_path, monkeypatch):
    scans: list[Path] = []
    scan = storage_module._files_oldest_first
    monkeypatch.setattr(storage_module, "_files_oldest_first", lambda folder: scans.append(folder) or scan(folder))
    storage = LocalStorage(tmp_path / "out", max_bytes=1000)
    result = file_of(tmp_path / "speech.wav", 30)
    for job in range(100):  # 3,000 bytes, all too young to evict: past the bound from the 34th write on
        storage.put_file(result, f"job-{job}/speech.wav", "audio/wav", 600)
    assert len(stored_jobs(tmp_path / "out")) == 100
    # The first write, then one scan per 100 bytes (the bound's last tenth) written: every fourth write, not all 67.
    assert len(scans) <= 1 + 67 // 4 + 1


def test_without_a_bound_local_storage_evicts_nothing(tmp_path):
    result = file_of(tmp_path / "speech.wav", 400)
    storage = LocalStorage(tmp_path / "out")
    for job in range(3):
        storage.put_file(result, f"job-{job}/speech.wav", "audio/wav", 600)
        age(tmp_path / "out" / f"job-{job}" / "speech.wav", 3600)
    assert len(stored_jobs(tmp_path / "out")) == 3


def test_the_transcript_cache_past_its_bound_forgets_the_oldest_transcripts(tmp_path):
    cache = TranscriptCache(tmp_path / "transcripts", "whisper", max_bytes=250)
    keys = [cache.key(np.full(160, index, dtype=np.float32), 16_000, "en") for index in range(3)]
    for key, seconds_ago in ((keys[0], 600), (keys[1], 700)):
        cache.put(key, "w" * 100)
        age(tmp_path / "transcripts" / f"{key}.txt", seconds_ago)
    assert cache.get(keys[0]) is not None and cache.get(keys[1]) is not None

    cache.put(keys[2], "w" * 100)  # 300 bytes: the oldest goes
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) == "w" * 100 and cache.get(keys[2]) == "w" * 100

    again = TranscriptCache(tmp_path / "transcripts", "whisper", max_bytes=50)  # the next job's cache
    age(tmp_path / "transcripts" / f"{keys[2]}.txt", 300)
    newest = cache.key(np.zeros(16, dtype=np.float32), 16_000, "en")
    again.put(newest, "w" * 100)  # the transcript just written stays, even alone over the bound
    assert [path.stem for path in (tmp_path / "transcripts").glob("*.txt")] == [newest]
