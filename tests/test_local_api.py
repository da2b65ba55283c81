"""RunPod's local API (`--rp_serve_api`) in front of the worker, with results in a real S3 server."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import s3_env, worker_env
from tests.invariants import check_result
from tests.servers import LocalApi, start_local_api

pytestmark = pytest.mark.slow

TEXT = "The bucket holds every file, and the links work."


@pytest.fixture(scope="module")
def bucket(s3_server) -> str:
    s3_server.client().create_bucket(Bucket="local-api")
    return "local-api"


@pytest.fixture(scope="module")
def api(tiny_volume, s3_server, bucket, tmp_path_factory) -> Iterator[LocalApi]:
    """One API server for the module: loading models once is the worker's own contract."""
    tmp = tmp_path_factory.mktemp("local-api")
    server = start_local_api(worker_env(tiny_volume, tmp, **s3_env(s3_server, bucket)), tmp / "api.log")
    yield server
    server.stop()


def good_job(voice_clip) -> dict:
    voice = {"base64": base64.b64encode(voice_clip.read_bytes()).decode(), "text": "A voice that hums."}
    return {"input": {"text": TEXT, "voice": voice, "tts": {"nfe_step": 8, "seed": 5}, "output": {"prefix": "tests"}}}


def test_runsync_uploads_every_file_and_the_links_download_the_same_bytes(api, voice_clip, s3_server, bucket):
    response = requests.post(f"{api.url}/runsync", json=good_job(voice_clip), timeout=300)
    body = response.json()
    assert body["status"] == "COMPLETED", body
    parsed = check_result(body["output"], TEXT)

    client = s3_server.client()
    audio_bytes = client.get_object(Bucket=bucket, Key=parsed.audio.key)["Body"].read()
    assert hashlib.sha256(audio_bytes).hexdigest() == parsed.audio.sha256
    assert len(audio_bytes) == parsed.audio.bytes
    head = client.head_object(Bucket=bucket, Key=parsed.audio.key)
    assert head["Metadata"]["sha256"] == parsed.audio.sha256
    assert head["ContentType"] == "audio/wav"
    # The presigned URL is fetched with plain HTTP, no credentials: the bytes must be the bucket's.
    assert requests.get(parsed.audio.url, timeout=30).content == audio_bytes
    for kind, stored in parsed.subtitles.items():
        assert stored.key.startswith("tests/")
        via_link = requests.get(stored.url, timeout=30)
        assert via_link.status_code == 200, kind
        assert via_link.content == client.get_object(Bucket=bucket, Key=stored.key)["Body"].read()


def test_run_then_status_completes_the_job(api, voice_clip):
    queued = requests.post(f"{api.url}/run", json=good_job(voice_clip), timeout=30).json()
    assert queued["status"] == "IN_PROGRESS"
    # Locally /run only queues: the job runs when its status is asked for (POST, as RunPod's API does).
    status = requests.post(f"{api.url}/status/{queued['id']}", timeout=300).json()
    assert status["status"] == "COMPLETED", status
    check_result(status["output"], TEXT)


def test_a_malformed_job_fails_with_a_clear_error_and_the_server_serves_the_next_job(api, voice_clip):
    bad = {"input": {"text": TEXT, "voice": {"base64": "not base64!!", "text": "x"}}}
    failed = requests.post(f"{api.url}/runsync", json=bad, timeout=120).json()
    assert failed["status"] == "FAILED"
    assert failed["error"] == "invalid_input: voice.base64: is not valid base64"

    missing = requests.post(f"{api.url}/runsync", json={"input": {"voice": {}}}, timeout=120).json()
    assert missing["status"] == "FAILED"
    assert missing["error"].startswith("invalid_input: text:")

    after = requests.post(f"{api.url}/runsync", json=good_job(voice_clip), timeout=300).json()
    assert after["status"] == "COMPLETED", after


def test_a_transcribe_job_runs_through_the_local_api_into_the_bucket(api, voice_clip, s3_server, bucket):
    recording = {"base64": base64.b64encode(voice_clip.read_bytes()).decode()}
    job = {"input": {"action": "transcribe", "audio": recording, "language": "en", "output": {"prefix": "heard"}}}
    body = requests.post(f"{api.url}/runsync", json=job, timeout=300).json()
    assert body["status"] == "COMPLETED", body
    output = body["output"]
    # The tiny random Whisper hears what it hears (recognition quality aside); each word it heard is timed.
    assert output["words"] and output["text"] == " ".join(word["text"] for word in output["words"])
    assert output["models"]["asr"] and output["models"]["aligner"] == "wav2vec2-ctc"
    client = s3_server.client()
    for stored in (output["audio"], *output["subtitles"].values()):
        assert stored["key"].startswith("heard/")
        in_bucket = client.get_object(Bucket=bucket, Key=stored["key"])["Body"].read()
        assert requests.get(stored["url"], timeout=30).content == in_bucket
    assert client.get_object(Bucket=bucket, Key=output["audio"]["key"])["Body"].read() == voice_clip.read_bytes()
