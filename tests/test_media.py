"""The caller's own recording aligned or transcribed, a finished MP4, and results carried inline: through the
pipeline with real parts (eSpeak NG speech, PocketSphinx, tiny Whisper and wav2vec2, ffmpeg/libass), and through
RunPod's local API with SeaweedFS."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from common import ffmpeg
from common.errors import InvalidInput
from storage.local import LocalStorage
from tests.conftest import audio_packets, media_streams, offline_pipeline_in, s3_env, worker_env
from tests.servers import LocalApi, start_local_api
from tts import SynthesisOptions
from worker.contract import parse_job

pytestmark = pytest.mark.slow

SENTENCES = [
    "the quick brown fox jumps over the lazy dog while seven bright stars watch quietly.",
    "please call stella and ask her to bring these things with her from the store.",
    "we will meet again tomorrow morning at the old train station near the river.",
    "every word of this sentence gets its own time so the captions light up as it is spoken.",
]
MEAN_ERROR_LIMIT_S = 0.025  # the offline profile's bound for PocketSphinx against eSpeak NG's events (test_offline)
GOLD = np.array([255, 215, 0])


def no_progress(progress: dict[str, Any]) -> None:
    pass


@pytest.fixture(scope="module")
def offline_pipeline(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from alignment.pocketsphinx_aligner import PocketsphinxAligner

    return offline_pipeline_in(tmp_path_factory.mktemp("media"), {"pocketsphinx": PocketsphinxAligner()})


@pytest.fixture(scope="module")
def recording(espeak, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, float]]]:
    """Four sentences said by eSpeak NG with pauses between them, as a WAV, and every word's true start."""
    rate = espeak.sample_rate_hz
    pieces, starts, offset = [], [], 0
    for sentence in SENTENCES:
        speech = espeak.synthesize(sentence, None, SynthesisOptions(language="en-us+m3"))
        starts += [(word.text, offset / rate + word.start_s) for word in speech.word_times or ()]
        pause = np.zeros(int(0.8 * rate), np.float32)
        pieces += [speech.samples, pause]
        offset += len(speech.samples) + len(pause)
    path = tmp_path_factory.mktemp("recording") / "recording.wav"
    ffmpeg.encode_exact(np.concatenate(pieces), rate, path)
    return path, starts


def clip_of(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def local(url: str) -> Path:
    return Path(url.removeprefix("file://"))


def test_an_align_job_recovers_the_word_times_of_the_recording(offline_pipeline, recording):
    path, truth = recording
    job = parse_job({"action": "align", "audio": {"base64": clip_of(path)}, "text": " ".join(SENTENCES)})
    result = offline_pipeline.handle(job, "align-1", no_progress)

    assert [word["text"] for word in result["words"]] == " ".join(SENTENCES).split()
    errors = [abs(word["start_s"] - start) for word, (_, start) in zip(result["words"], truth, strict=True)]
    assert float(np.mean(errors)) <= MEAN_ERROR_LIMIT_S, float(np.mean(errors))
    assert result["models"] == {"tts": "none", "aligner": "pocketsphinx", "storage": "local", "asr": None}
    assert result["seed"] is None and result["segments"], result["segments"]
    # The recording is stored back as it was sent, and every subtitle file is written.
    assert local(result["audio"]["url"]).read_bytes() == path.read_bytes() and result["audio"]["format"] == "wav"
    assert set(result["subtitles"]) == {"ass", "srt", "vtt", "json"}


def test_an_align_job_on_a_video_returns_the_audio_stream_alone_as_it_was_recorded(
    offline_pipeline, recording, tmp_path
):
    path, truth = recording
    video = tmp_path / "talk.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "lavfi", "-i", "color=c=navy:size=320x240:rate=25",
         "-c:v", "libx264", "-c:a", "aac", "-shortest", str(video)],
        check=True,
    )  # fmt: skip
    job = parse_job({"action": "align", "audio": {"base64": clip_of(video)}, "text": " ".join(SENTENCES)})
    result = offline_pipeline.handle(job, "align-video", no_progress)

    stored = local(result["audio"]["url"])
    assert result["audio"]["format"] == "m4a" and stored.suffix == ".m4a"
    assert [stream["codec_type"] for stream in media_streams(stored)] == ["audio"]
    assert audio_packets(stored) == audio_packets(video)
    assert len(result["words"]) == len(truth)


def test_an_align_job_whose_text_has_sentences_the_audio_lacks_succeeds_and_says_which(tmp_path):
    """A wav2vec2 aligner that hears the recording (an oracle model of a synthetic one: `tests.oracle`) behind the
    whole job: the sentences missing from the audio come back flagged and named, the job does not fail."""
    from alignment.wav2vec2 import Wav2Vec2Aligner
    from tests.oracle import BOTH, TEXT_ONLY, VOCABULARY, OracleModel, random_sentences, synthetic_recording
    from voice.recording import decode_recording

    sentences = random_sentences(16, seed=11)
    where = [TEXT_ONLY if index in (3, 12) else BOTH for index in range(len(sentences))]
    audio, emission, words, truth = synthetic_recording(sentences, where, seed=11)
    path = tmp_path / "recording.wav"
    ffmpeg.encode_exact(audio, 16_000, path)
    heard = decode_recording(path, 16_000).samples  # what the worker will decode, sample for sample
    aligner = Wav2Vec2Aligner({"en": (OracleModel(heard, emission), VOCABULARY)}, "cpu")
    pipeline = offline_pipeline_in(tmp_path, {"wav2vec2": aligner})
    job = {"action": "align", "audio": {"base64": clip_of(path)}, "text": " ".join(words), "normalize_text": False}
    result = pipeline.handle(parse_job(job), "align-mismatch", no_progress)

    flagged = [index for index, word in enumerate(result["words"]) if word["interpolated"]]
    assert flagged == [index for index, true_s in enumerate(truth) if true_s is None]
    for sentence in (3, 12):
        first = sum(len(words) for words in sentences[:sentence])
        named = f"words {first + 1}–{first + len(sentences[sentence])} ('{' '.join(sentences[sentence][:4])}…')"
        assert any(warning.startswith(named) for warning in result["warnings"]), result["warnings"]
    assert len(result["warnings"]) == 2, result["warnings"]  # each stretch once, not again as a count of words
    errors = [abs(word["start_s"] - true_s) for word, true_s in zip(result["words"], truth, strict=True) if true_s]
    assert max(errors) <= 0.021 and result["models"]["aligner"] == "wav2vec2-ctc"


def test_a_hostile_audio_url_is_refused_as_a_voice_url_would_be(offline_pipeline):
    for url, problem in [("http://127.0.0.1:9/a.wav", "loopback"), ("file:///etc/passwd", "http")]:
        job = parse_job({"action": "align", "audio": {"url": url}, "text": "hello"})
        with pytest.raises(InvalidInput) as raised:
            offline_pipeline.handle(job, "hostile", no_progress)
        assert raised.value.field == "audio.url" and problem in str(raised.value)


def test_a_transcribe_job_on_a_worker_without_whisper_says_why_and_what_to_send(offline_pipeline, recording):
    job = parse_job({"action": "transcribe", "audio": {"base64": clip_of(recording[0])}})
    with pytest.raises(InvalidInput) as raised:
        offline_pipeline.handle(job, "no-whisper", no_progress)
    assert raised.value.field == "action"
    assert "WORKER_PROFILE=offline" in str(raised.value) and "send the text with action align" in str(raised.value)


def test_a_transcribe_job_runs_whisper_then_the_aligner(loaded_models, tmp_path, recording):
    from voice.stage import VoiceStage
    from worker.pipeline import Pipeline

    storage = LocalStorage(tmp_path / "out")
    pipeline = Pipeline(
        loaded_models.engines, loaded_models.aligners, storage,
        voices=VoiceStage(bucket=storage, transcriber=loaded_models.transcriber), work_dir=tmp_path,
    )  # fmt: skip
    job = parse_job({"action": "transcribe", "audio": {"base64": clip_of(recording[0])}, "language": "en"})
    result = pipeline.handle(job, "transcribe-1", no_progress)
    # The tiny Whisper hears "hello" in anything (recognition quality aside); each word it heard is timed.
    assert result["words"] and {word["text"] for word in result["words"]} == {"hello"}
    assert result["text"] == " ".join(word["text"] for word in result["words"])
    assert result["models"]["asr"] and result["models"]["aligner"] == "wav2vec2-ctc"


def frame_at(path: Path, time_s: float, size: tuple[int, int]) -> np.ndarray:
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{time_s:.3f}", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(completed.stdout, np.uint8).reshape(size[1], size[0], 3)


def test_a_video_job_writes_an_mp4_whose_frames_show_the_karaoke_on_the_spoken_word(offline_pipeline):
    text = "Captions burned into the video light up word by word."
    job = {"text": text, "output": {"video": {"resolution": [480, 272], "fps": 25}}, "audio": {"format": "mp3"}}
    result = offline_pipeline.handle(parse_job(job), "video-1", no_progress)

    video = local(result["video"]["url"])
    streams = media_streams(video)
    assert sorted(stream["codec_type"] for stream in streams) == ["audio", "video"]
    by_type = {stream["codec_type"]: stream for stream in streams}
    assert by_type["video"]["codec_name"] == "h264" and by_type["audio"]["codec_name"] == "aac"
    assert (by_type["video"]["width"], by_type["video"]["height"]) == (480, 272)
    for stream in streams:
        assert abs(float(stream["duration"]) - result["audio"]["duration_s"]) <= 0.1, stream
    assert result["video"]["encoder"] == "libx264" and local(result["poster"]["url"]).read_bytes()[:4] == b"\x89PNG"
    # The subtitle files are laid out for the video too, so they fit it wherever they are used with it.
    ass_text = local(result["subtitles"]["ass"]["url"]).read_text(encoding="utf-8-sig")
    assert "PlayResX: 480" in ass_text and "PlayResY: 272" in ass_text

    word = result["words"][4]  # "video": lit at its midpoint, not before it starts
    gold = lambda frame: int(np.all(np.abs(frame.astype(int) - GOLD) < 40, axis=-1).sum())  # noqa: E731
    before = frame_at(video, max(0.0, result["words"][0]["start_s"] + 0.02), (480, 272))
    during = frame_at(video, (word["start_s"] + word["end_s"]) / 2, (480, 272))
    assert gold(during) > gold(before) + 50


def test_inline_results_decode_to_the_same_bytes_as_the_files(offline_pipeline):
    job = {"text": "Inline results need no bucket.", "output": {"inline": True}, "audio": {"format": "mp3"}}
    result = offline_pipeline.handle(parse_job(job), "inline-1", no_progress)
    assert base64.b64decode(result["audio"]["base64"]) == local(result["audio"]["url"]).read_bytes()
    assert hashlib.sha256(base64.b64decode(result["audio"]["base64"])).hexdigest() == result["audio"]["sha256"]
    for kind, stored in result["subtitles"].items():
        assert stored["text"] == local(stored["url"]).read_text(encoding="utf-8-sig"), kind


def test_inline_results_leave_out_what_does_not_fit_the_payload_limit_and_say_so(offline_pipeline, monkeypatch):
    from worker import media

    monkeypatch.setattr(media, "INLINE_MAX_BYTES", 4000)  # a limit the audio cannot fit, the subtitles can
    job = {"text": "This audio is too large for the limit.", "output": {"inline": True}}
    result = offline_pipeline.handle(parse_job(job), "inline-2", no_progress)
    assert "base64" not in result["audio"] or result["audio"]["base64"] is None
    assert result["subtitles"]["srt"]["text"]
    assert any("output.inline: the audio" in warning and "S3_BUCKET" in warning for warning in result["warnings"])


# --- Through RunPod's local API, results in SeaweedFS ---


@pytest.fixture(scope="module")
def media_api(s3_server, tmp_path_factory) -> Iterator[LocalApi]:  # type: ignore[no-untyped-def]
    s3_server.client().create_bucket(Bucket="media")
    tmp = tmp_path_factory.mktemp("media-api")
    env = worker_env(tmp / "volume", tmp, WORKER_PROFILE="offline", **s3_env(s3_server, "media"))
    server = start_local_api(env, tmp / "api.log")
    yield server
    server.stop()


def test_an_align_job_with_a_video_runs_through_the_local_api_into_the_bucket(media_api, s3_server, recording):
    path, _ = recording
    job = {"action": "align", "audio": {"base64": clip_of(path)}, "text": " ".join(SENTENCES),
           "output": {"video": {"resolution": [320, 180]}, "inline": True}}  # fmt: skip
    body = requests.post(f"{media_api.url}/runsync", json={"input": job}, timeout=300).json()
    assert body["status"] == "COMPLETED", body
    output = body["output"]
    client = s3_server.client()
    for stored in (output["audio"], output["video"], output["poster"], *output["subtitles"].values()):
        assert (
            requests.get(stored["url"], timeout=30).content
            == client.get_object(Bucket="media", Key=stored["key"])["Body"].read()
        )
    assert base64.b64decode(output["audio"]["base64"]) == path.read_bytes()
    assert "PlayResX: 320\nPlayResY: 180" in output["subtitles"]["ass"]["text"]  # laid out for the video too
