"""The voice library as jobs: save, list, use by name, delete — in a real S3 bucket and on the volume."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from common import ffmpeg
from common.errors import InvalidInput, VoiceError
from storage import Storage
from storage.config import S3Config
from storage.local import LocalStorage
from storage.s3 import S3Storage
from tests.invariants import check_result
from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY
from voice import ReferenceVoice
from voice.library import STORED_RATE_HZ, VoiceLibrary
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
        (
            {"action": "voice.dance"},
            "action: use one of synthesize, align, transcribe, voice.save, voice.list, voice.delete",
        ),
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


@pytest.fixture(params=["s3", "volume"])
def store(request, tmp_path) -> Storage:  # type: ignore[no-untyped-def]
    if request.param == "s3":
        server, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("bucket")
        return S3Storage.connect(S3Config(bucket, server.endpoint_url, None, S3_ACCESS_KEY, S3_SECRET_KEY))
    return LocalStorage(tmp_path / "volume-app")


def prepared_voice(speaker: int) -> ReferenceVoice:
    """A prepared clip of its own for each speaker, whose transcript names the speaker."""
    noise = np.random.default_rng(speaker).standard_normal(STORED_RATE_HZ // 4)
    return ReferenceVoice((0.1 * noise).astype(np.float32), STORED_RATE_HZ, f"speaker {speaker}")


def stored_sha256(voice: ReferenceVoice, scratch: Path) -> str:
    ffmpeg.encode_exact(voice.samples, voice.sample_rate_hz, scratch)
    return hashlib.sha256(scratch.read_bytes()).hexdigest()


def test_saves_of_one_name_at_once_leave_one_voice_whose_clip_and_transcript_belong_together(store, tmp_path):
    library = VoiceLibrary(store)
    speakers, rounds = 4, 5
    voices = [prepared_voice(speaker) for speaker in range(speakers)]
    clip_sha256 = {voice.transcript: stored_sha256(voice, tmp_path / "expected.wav") for voice in voices}
    together = threading.Barrier(speakers, timeout=60)
    errors: list[BaseException] = []

    def save_again_and_again(voice: ReferenceVoice) -> None:
        try:
            for _ in range(rounds):
                together.wait()
                library.save("narrator", voice, transcribed=False)
        except BaseException as error:  # reported below
            errors.append(error)

    mismatches: list[str] = []
    loads = 0
    saving_done = threading.Event()
    library.save("narrator", voices[0], transcribed=False)  # from here on the voice always exists

    def load_throughout() -> None:
        nonlocal loads
        while not saving_done.is_set():
            try:
                saved = library.load("narrator", tmp_path / "loaded.wav")
            except VoiceError as error:  # a saved voice that could not be loaded while it was being saved again
                errors.append(error)
                continue
            loads += 1
            if hashlib.sha256(saved.clip_path.read_bytes()).hexdigest() != clip_sha256[saved.transcript]:
                mismatches.append(saved.transcript)

    savers = [threading.Thread(target=save_again_and_again, args=(voice,)) for voice in voices]
    reader = threading.Thread(target=load_throughout)
    for thread in (*savers, reader):
        thread.start()
    for saver in savers:
        saver.join(timeout=300)
    saving_done.set()
    reader.join(timeout=60)

    assert errors == []
    assert loads > 0 and mismatches == []
    [listed] = library.list()
    assert listed["name"] == "narrator" and listed["sha256"] == clip_sha256[listed["text"]]
    final = library.load("narrator", tmp_path / "final.wav")
    assert final.transcript == listed["text"]
    assert hashlib.sha256(final.clip_path.read_bytes()).hexdigest() == listed["sha256"]
    if isinstance(store, LocalStorage):  # the folder was replaced whole: one clip, one record, nothing left over
        assert sorted(path.name for path in (tmp_path / "volume-app" / "voices").iterdir()) == ["narrator"]
        assert len(store.list_keys("voices/narrator/")) == 2


def test_a_damaged_record_leaves_only_its_voice_out_of_the_list_with_a_warning(store, tmp_path, caplog):
    library = VoiceLibrary(store)
    library.save("good", prepared_voice(1), transcribed=False)
    store.put_bytes("voices/broken/voice.json", b'{"name": "broken", "te', "application/json")
    store.put_bytes("voices/odd/voice.json", b"[1, 2]", "application/json")
    with caplog.at_level(logging.WARNING, logger="voice.library"):
        assert [voice["name"] for voice in library.list()] == ["good"]
    assert "'broken' is damaged" in caplog.text and "'odd' is damaged" in caplog.text
    with pytest.raises(VoiceError, match="the saved voice 'broken' is damaged"):
        library.load("broken", tmp_path / "clip.wav")


def test_a_clip_without_its_record_is_not_a_voice(store, tmp_path):
    store.put_bytes("voices/half/clip-1-abc", b"RIFF", "application/octet-stream")  # a save cut short
    library = VoiceLibrary(store)
    assert library.list() == []
    with pytest.raises(VoiceError, match="there is no saved voice named 'half'"):
        library.load("half", tmp_path / "clip.wav")


def test_in_a_bucket_the_clip_is_written_before_the_record_that_names_it(s3_server, bucket):
    written: list[str] = []

    class RecordingS3Storage(S3Storage):
        def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
            written.append(key.rsplit("/", 1)[-1])
            super().put_bytes(key, data, content_type)

    store = RecordingS3Storage.connect(S3Config(bucket, s3_server.endpoint_url, None, S3_ACCESS_KEY, S3_SECRET_KEY))
    record = VoiceLibrary(store).save("ordered", prepared_voice(2), transcribed=False)
    assert len(written) == 2 and written[0].startswith("clip-") and written[1] == "voice.json"
    assert set(record) == {"name", "text", "transcribed", "duration_s", "bytes", "sha256", "saved_at"}


def test_a_bucket_drops_clips_of_earlier_saves_but_not_one_a_save_under_way_may_need(s3_server, bucket, tmp_path):
    store = S3Storage.connect(S3Config(bucket, s3_server.endpoint_url, None, S3_ACCESS_KEY, S3_SECRET_KEY))
    store.put_bytes("voices/narrator/clip", b"RIFF", "application/octet-stream")  # saved before clips had names
    store.put_bytes("voices/narrator/clip-1000-0123456789abcdef", b"RIFF", "application/octet-stream")
    library = VoiceLibrary(store)
    library.save("narrator", prepared_voice(3), transcribed=False)
    young = store.list_keys("voices/narrator/")
    library.save("narrator", prepared_voice(4), transcribed=False)
    keys = store.list_keys("voices/narrator/")
    assert "voices/narrator/clip" not in keys and "voices/narrator/clip-1000-0123456789abcdef" not in keys
    assert set(young) <= set(keys)  # the first save's clip is seconds old: it might be a save under way
    assert library.load("narrator", tmp_path / "clip.wav").transcript == "speaker 4"
