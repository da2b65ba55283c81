"""Clips sent without a transcript: transcribed once by faster-whisper (a tiny model that always hears
"hello"), cached by the clip's hash, stored with a saved voice; a worker without the model asks for the text."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from common.errors import InvalidInput
from storage.local import LocalStorage
from tests.invariants import check_result
from voice.library import VoiceLibrary
from voice.stage import VoiceStage
from voice.transcriber import WhisperTranscriber
from worker.contract import parse_job
from worker.pipeline import Pipeline

pytestmark = pytest.mark.slow

TEXT = "Cloned from a clip nobody transcribed."


class CountingTranscriber(WhisperTranscriber):
    """The real transcriber, counting how often it is asked."""

    def __init__(self, real: WhisperTranscriber) -> None:
        super().__init__(real._model, real.name)
        self.calls = 0
        self.asked_languages: list[str | None] = []

    def transcribe(self, samples, rate_hz, language=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.asked_languages.append(language)
        return super().transcribe(samples, rate_hz, language)


@pytest.fixture
def pipeline(loaded_models, tmp_path: Path) -> Pipeline:
    assert loaded_models.transcriber is not None  # start-up loaded it from the tiny volume
    (tmp_path / "scratch").mkdir()
    return Pipeline(
        loaded_models.engines,
        loaded_models.aligners,
        LocalStorage(tmp_path / "output"),
        work_dir=tmp_path / "scratch",
        voices=VoiceStage(
            library=VoiceLibrary(LocalStorage(tmp_path / "app")),
            transcriber=CountingTranscriber(loaded_models.transcriber),
            transcript_cache_dir=tmp_path / "transcripts",
        ),
    )


def clip_of(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def run(pipeline: Pipeline, raw: dict) -> dict:
    return pipeline.handle(parse_job(raw), "job", lambda _: None)


def test_a_clip_without_transcript_is_transcribed_once_and_cached(pipeline, voice_clip, tmp_path):
    job = {"text": TEXT, "voice": {"base64": clip_of(voice_clip)}, "tts": {"nfe_step": 4, "seed": 1}}
    first = check_result(run(pipeline, job), TEXT)
    assert pipeline.voices.transcriber.calls == 1
    cached = list((tmp_path / "transcripts").glob("*.txt"))
    assert [path.read_text() for path in cached] == ["hello"]
    second = check_result(run(pipeline, job), TEXT)
    assert pipeline.voices.transcriber.calls == 1  # the cache answered
    assert first.audio.sha256 == second.audio.sha256
    # The transcript is what F5 conditions on: the same clip sent with it gives the same audio.
    given = check_result(run(pipeline, {**job, "voice": {"base64": clip_of(voice_clip), "text": "hello"}}), TEXT)
    assert given.audio.sha256 == first.audio.sha256
    # What was heard is said, and by which model: a misheard transcript is the first thing to check.
    heard = "voice.text was not given; speech recognition heard 'hello' in the clip (if that is not what it says, "
    assert [warning for warning in first.warnings if warning.startswith(heard)] and first.models.asr
    assert not [warning for warning in given.warnings if "voice.text" in warning] and given.models.asr is None


def test_a_clip_in_another_language_than_the_text_is_transcribed_in_its_own(pipeline, voice_clip):
    job = {"text": TEXT, "voice": {"base64": clip_of(voice_clip), "language": "de"}, "tts": {"nfe_step": 4}}
    check_result(run(pipeline, job), TEXT)
    check_result(run(pipeline, {**job, "voice": {"base64": clip_of(voice_clip)}}), TEXT)
    assert pipeline.voices.transcriber.asked_languages == ["de", "en"]  # cached per language: asked again for English


def test_a_language_speech_recognition_does_not_know_is_refused_naming_the_field(pipeline, voice_clip):
    clip = clip_of(voice_clip)
    job = {"text": TEXT, "voice": {"base64": clip, "language": "jp"}, "tts": {"nfe_step": 4}}
    with pytest.raises(InvalidInput, match="voice.language: the speech recognition model does not know 'jp'"):
        run(pipeline, job)
    with pytest.raises(InvalidInput, match="language: the speech recognition model does not know 'jp'"):
        run(pipeline, {"action": "voice.save", "name": "jp", "language": "jp", "voice": {"base64": clip}})
    assert pipeline.voices.transcriber.calls == 0
    check_result(run(pipeline, {**job, "voice": {"base64": clip, "language": "jp", "text": "hello"}}), TEXT)


def test_a_voice_saved_without_transcript_stores_the_transcript_with_it(pipeline, voice_clip):
    saved = run(pipeline, {"action": "voice.save", "name": "found", "voice": {"base64": clip_of(voice_clip)}})
    assert saved["voice"]["text"] == "hello" and saved["voice"]["transcribed"] is True
    calls = pipeline.voices.transcriber.calls
    check_result(run(pipeline, {"text": TEXT, "voice": {"name": "found"}, "tts": {"nfe_step": 4}}), TEXT)
    assert pipeline.voices.transcriber.calls == calls  # the saved voice brought its transcript


def test_without_a_speech_recognition_model_the_transcript_is_asked_for(loaded_models, voice_clip, tmp_path):
    pipeline = Pipeline(loaded_models.engines, loaded_models.aligners, LocalStorage(tmp_path / "out"))
    with pytest.raises(InvalidInput, match="voice.text: is required on this worker"):
        run(pipeline, {"text": TEXT, "voice": {"base64": clip_of(voice_clip)}, "tts": {"nfe_step": 4}})


def test_an_unusable_transcript_cache_folder_costs_only_a_warning(loaded_models, voice_clip, tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    pipeline = Pipeline(
        loaded_models.engines,
        loaded_models.aligners,
        LocalStorage(tmp_path / "out"),
        voices=VoiceStage(transcriber=loaded_models.transcriber, transcript_cache_dir=blocked / "transcripts"),
    )
    job = {"text": TEXT, "voice": {"base64": clip_of(voice_clip)}, "tts": {"nfe_step": 4}}
    check_result(run(pipeline, job), TEXT)
    assert "could not cache a transcript" in caplog.text
