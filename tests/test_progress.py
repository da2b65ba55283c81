"""On an endpoint, the handler reports each stage through RunPod's `progress_update`.

The worker runs in its production mode (`python handler.py`, no local flags) against a stand-in for RunPod's
job queue on 127.0.0.1 that speaks the same HTTP protocol the SDK uses.
"""

from __future__ import annotations

import base64

import pytest

from tests.conftest import worker_env
from tests.invariants import check_result
from tests.servers import run_worker_on_queue

pytestmark = pytest.mark.slow

TEXT = "Progress goes out at every stage."


def test_each_stage_is_reported_to_the_endpoint_before_the_result(tiny_volume, voice_clip, tmp_path):
    job = {
        "id": "job-progress-1",
        "input": {
            "text": TEXT,
            "voice": {"base64": base64.b64encode(voice_clip.read_bytes()).decode(), "text": "A hum."},
            "tts": {"nfe_step": 4},
        },
    }
    queue = run_worker_on_queue(job, worker_env(tiny_volume, tmp_path), tmp_path / "worker.log")

    # The SDK posts each update from a thread of its own, so they may arrive out of order: each says its step.
    progress = [post["output"] for post in queue.posts if post.get("status") == "IN_PROGRESS"]
    by_step = sorted(progress, key=lambda update: update["step"])
    assert [update["stage"] for update in by_step] == ["voice", "tts", "alignment", "subtitles", "audio", "storage"]
    assert [(update["step"], update["steps"]) for update in by_step] == [(step, 6) for step in range(1, 7)]
    final = next(post for post in queue.posts if post.get("status") != "IN_PROGRESS")
    check_result(final["output"], TEXT)
