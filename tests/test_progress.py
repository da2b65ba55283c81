"""On an endpoint, the handler reports each stage through RunPod's `progress_update`.

The worker runs in its production mode (`python handler.py`, no local flags) against a stand-in for RunPod's
job queue on 127.0.0.1 that speaks the same HTTP protocol the SDK uses: it hands out one job, then records
every update the SDK posts back for it.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT, worker_env
from tests.invariants import check_result
from tests.servers import stop

pytestmark = pytest.mark.slow

TEXT = "Progress goes out at every stage."


class JobQueue(ThreadingHTTPServer):
    def __init__(self, job: dict) -> None:
        super().__init__(("127.0.0.1", 0), QueueHandler)
        self.job: dict | None = job
        self.posts: list[dict] = []
        self.done = threading.Event()


class QueueHandler(BaseHTTPRequestHandler):
    server: JobQueue

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = urlsplit(self.path).path
        if path.startswith("/job-take/") and self.server.job is not None:
            body = json.dumps(self.server.job).encode()
            self.server.job = None
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path.startswith("/job-stop/"):
            time.sleep(0.5)  # the SDK long-polls this channel
        self.send_response(204)
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        update = json.loads(self.rfile.read(length))
        self.server.posts.append(update)
        if update.get("status") != "IN_PROGRESS":
            self.server.done.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


def test_each_stage_is_reported_to_the_endpoint_before_the_result(tiny_volume, voice_clip, tmp_path):
    job = {
        "id": "job-progress-1",
        "input": {
            "text": TEXT,
            "voice": {"base64": base64.b64encode(voice_clip.read_bytes()).decode(), "text": "A hum."},
            "tts": {"nfe_step": 4},
        },
    }
    queue = JobQueue(job)
    threading.Thread(target=queue.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{queue.server_address[1]}"
    env = worker_env(
        tiny_volume,
        tmp_path,
        RUNPOD_WEBHOOK_GET_JOB=f"{base}/job-take/$RUNPOD_POD_ID?gpu=test",
        RUNPOD_WEBHOOK_POST_OUTPUT=f"{base}/job-done/$RUNPOD_POD_ID/$ID?gpu=test",
        RUNPOD_WEBHOOK_PING=f"{base}/ping/$RUNPOD_POD_ID",
        RUNPOD_POD_ID="test-pod",
        RUNPOD_AI_API_KEY="test-key",
    )
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, str(ROOT / "handler.py")], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        assert queue.done.wait(timeout=240), (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.5)  # progress updates are sent from their own threads
    finally:
        stop(worker)
        queue.shutdown()
        queue.server_close()

    progress = [post["output"]["stage"] for post in queue.posts if post.get("status") == "IN_PROGRESS"]
    assert progress == ["voice", "tts", "alignment", "subtitles", "storage"]
    final = next(post for post in queue.posts if post.get("status") != "IN_PROGRESS")
    check_result(final["output"], TEXT)
