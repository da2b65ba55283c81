"""The voice library as jobs: save, list, use by name, delete — in a real S3 bucket and on the volume."""

from __future__ import annotations

import base64

import pytest

from common.errors import InvalidInput, VoiceError
from storage.config import S3Config
from storage.local import LocalStorage
from storage.s3 import S3Storage
from tests.invariants import check_result
from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY
from voice.library import VoiceLibrary
from voice.stage import VoiceStage
from worker.contract import parse_job
from worker.pipeline import Pipeline

pytestmark = pytest.mark.slow

TEXT = "Spoken in a saved voice."


@pytest.fixture(params=["s3", "volume"])
def pipeline(request, loaded_models, s3_server, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "s3":
        bucket = request.getfixturevalue("bucket")  # one bucket per test
        store = S3Storage.connect(S3Config(bucket, s3_server.endpoint_url, None, S3_ACCESS_KEY, S3_SECRET_KEY))
    else:
        store = LocalStorage(tmp_path / "volume-app")
    (tmp_path / "scratch").mkdir()
    return Pipeline(
        loaded_models.engines,
        loaded_models.aligners,
        LocalStorage(tmp_path / "output"),
        work_dir=tmp_path / "scratch",
        voices=VoiceStage(library=VoiceLibrary(store)),
    )


def run(pipeline: Pipeline, raw: dict) -> dict:
    return pipeline.handle(parse_job(raw), "job", lambda _: None)


def test_a_saved_voice_round_trips_through_every_action(pipeline, voice_clip):
    clip = base64.b64encode(voice_clip.read_bytes()).decode()
    saved = run(pipeline, {"action": "voice.save", "name": "narrator-1", "voice": {"base64": clip, "text": "A hum."}})
    assert saved["voice"]["name"] == "narrator-1" and saved["voice"]["text"] == "A hum."
    assert [voice["name"] for voice in run(pipeline, {"action": "voice.list"})["voices"]] == ["narrator-1"]

    job = {"text": TEXT, "voice": {"name": "narrator-1"}, "tts": {"nfe_step": 4, "seed": 2}}
    by_name = check_result(run(pipeline, job), TEXT)
    by_clip = check_result(run(pipeline, {**job, "voice": {"base64": clip, "text": "A hum."}}), TEXT)
    assert by_name.audio.sha256 == by_clip.audio.sha256  # the saved clip and transcript are the ones sent

    assert run(pipeline, {"action": "voice.delete", "name": "narrator-1"}) == {"deleted": "narrator-1"}
    assert run(pipeline, {"action": "voice.list"}) == {"voices": []}
    with pytest.raises(VoiceError, match="there is no saved voice named 'narrator-1'"):
        run(pipeline, job)
    with pytest.raises(VoiceError, match="there is no saved voice named 'narrator-1'"):
        run(pipeline, {"action": "voice.delete", "name": "narrator-1"})


def test_a_clip_that_would_not_work_is_not_saved(pipeline):
    bad = base64.b64encode(b"not audio at all").decode()
    with pytest.raises(VoiceError, match="not audio"):
        run(pipeline, {"action": "voice.save", "name": "broken", "voice": {"base64": bad, "text": "x"}})
    assert run(pipeline, {"action": "voice.list"}) == {"voices": []}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"action": "voice.save", "name": "../etc", "voice": {"url": "https://x/a.wav", "text": "x"}}, "name:"),
        ({"action": "voice.save", "name": "ok", "voice": {"name": "other"}}, "voice: give the clip itself"),
        ({"action": "voice.delete"}, "name: is required"),
        ({"action": "voice.dance"}, "action: use one of synthesize, voice.save, voice.list, voice.delete"),
        ({"action": ["voice.list"]}, "action: use one of"),
        ({"text": "hi", "voice": {"s3_key": "a/../b.wav", "text": "x"}}, "s3_key may not contain '..' parts"),
        ({"text": "hi", "voice": {"s3_key": "/abs.wav", "text": "x"}}, "voice.s3_key:"),
        ({"text": "hi", "voice": {"name": "narrator-1", "language": "zh"}}, "voice.language: a saved voice was"),
        (
            {"text": "hi", "voice": {"url": "https://x/a.wav", "language": "Chinese"}},
            "voice.language: use a language code of two or three lowercase letters",
        ),
        (
            {"action": "voice.save", "name": "ok", "voice": {"url": "https://x/a.wav", "language": "zh"}},
            "voice: give the clip's language in the job's language field",
        ),
    ],
)
def test_bad_voice_jobs_are_refused_naming_the_field(raw, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        parse_job(raw)


def test_a_clip_in_the_workers_bucket_is_used_by_its_key(loaded_models, s3_server, bucket, voice_clip, tmp_path):
    store = S3Storage.connect(S3Config(bucket, s3_server.endpoint_url, None, S3_ACCESS_KEY, S3_SECRET_KEY))
    s3_server.client().put_object(Bucket=bucket, Key="clips/me.wav", Body=voice_clip.read_bytes())
    (tmp_path / "scratch").mkdir()
    pipeline = Pipeline(loaded_models.engines, loaded_models.aligners, store, work_dir=tmp_path / "scratch")
    job = {"text": TEXT, "voice": {"s3_key": "clips/me.wav", "text": "A hum."}, "tts": {"nfe_step": 4}}
    check_result(run(pipeline, job), TEXT)
    with pytest.raises(VoiceError, match="'clips/missing.wav' is not in the bucket"):
        run(pipeline, {**job, "voice": {"s3_key": "clips/missing.wav", "text": "A hum."}})
    local = Pipeline(loaded_models.engines, loaded_models.aligners, LocalStorage(tmp_path / "out"))
    with pytest.raises(InvalidInput, match="voice.s3_key: this worker has no S3 bucket configured"):
        run(local, job)
