"""Several jobs at once in one worker, through RunPod's own job-taking loop (`python handler.py` against the
stand-in queue): each completes with its own result and its own progress, and a bad one fails alone."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import worker_env
from tests.invariants import check_result
from tests.servers import run_worker_on_queue

pytestmark = pytest.mark.slow

TEXTS = {
    "job-a": "The first of four jobs in one worker.",
    "job-b": "A second job, with words of its own to say.",
    "job-c": "Third.",
}
STAGES = ["voice", "tts", "alignment", "subtitles", "audio", "storage"]


def test_concurrent_jobs_complete_independently_and_a_bad_one_fails_alone(tiny_volume, voice_clip, tmp_path):
    clip = base64.b64encode(voice_clip.read_bytes()).decode()
    jobs = [
        {"id": job_id, "input": {"text": text, "voice": {"base64": clip, "text": "A hum."}, "tts": {"nfe_step": 4}}}
        for job_id, text in TEXTS.items()
    ]
    not_audio = base64.b64encode(b"these bytes are no audio at all" * 40).decode()
    jobs.insert(1, {"id": "job-bad", "input": {"text": "Never spoken.", "voice": {"base64": not_audio, "text": "x"}}})
    env = worker_env(tiny_volume, tmp_path, WORKER_CONCURRENCY="4", WORKER_DEVICE="cpu")

    queue = run_worker_on_queue(jobs, env, tmp_path / "worker.log", timeout_s=400)

    assert max(queue.taken_per_request) > 1, "the SDK never took more than one job at a time"
    finals = {post["job_id"]: post for post in queue.posts if post.get("status") != "IN_PROGRESS"}
    assert set(finals) == {*TEXTS, "job-bad"}
    assert finals["job-bad"]["error"].startswith("voice_error: the voice clip is not audio")
    keys = set()
    for job_id, text in TEXTS.items():
        parsed = check_result(finals[job_id]["output"], text)
        assert job_id in parsed.audio.key
        keys.add(parsed.audio.key)
        # Each update is posted from a thread of its own and may overtake another: each says its step.
        progress = [
            post["output"] for post in queue.posts if post.get("status") == "IN_PROGRESS" and post["job_id"] == job_id
        ]
        assert [update["stage"] for update in sorted(progress, key=lambda update: update["step"])] == STAGES
    assert len(keys) == len(TEXTS)
    assert "up to 4 jobs at once (WORKER_CONCURRENCY)" in (tmp_path / "worker.log").read_text()
