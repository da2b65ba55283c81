"""The offline profile: eSpeak NG speaks and times its words, PocketSphinx aligns English; no GPU, weights or net."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import numpy as np
import pytest
import requests

from alignment import TextSpan
from tests.conftest import worker_env
from tests.invariants import check_result
from tests.servers import LocalApi, start_local_api
from tts import SynthesisOptions

pytestmark = pytest.mark.slow

SENTENCES = [
    "the quick brown fox jumps over the lazy dog while seven bright stars watch quietly",
    "please call stella and ask her to bring these things with her from the store",
    "we will meet again tomorrow morning at the old train station near the river",
    "every word of this sentence gets its own time so the captions light up as it is spoken",
]
# Another voice than the one being measured against: the aligner never hears the reference's own voice.
OTHER_VOICES = ["en-us+f3", "en+m3", "en-us+m7"]
MEAN_ERROR_LIMIT_S = 0.025
MAX_ERROR_LIMIT_S = 0.12


@pytest.mark.parametrize("language", ["en", "en-us", "de", "fr", "es", "it", "pt", "nl", "pl", "ru"])
def test_espeak_word_times_are_monotonic_inside_the_audio_and_cover_every_word(espeak, language):
    text = "One two three, four five. Six seven eight nine ten!"
    speech = espeak.synthesize(text, None, SynthesisOptions(language=language))
    assert speech.word_times is not None and speech.duration_s > 1.0
    assert [word.text for word in speech.word_times] == text.split()
    previous_end = 0.0
    for word in speech.word_times:
        assert previous_end - 1e-9 <= word.start_s <= word.end_s <= speech.duration_s + 1e-9, word
        previous_end = word.end_s
    assert sum(not word.interpolated for word in speech.word_times) >= len(text.split()) - 2


def test_espeak_speed_changes_the_length_and_unknown_languages_are_refused(espeak):
    slow = espeak.synthesize(SENTENCES[0], None, SynthesisOptions(speed=0.7))
    fast = espeak.synthesize(SENTENCES[0], None, SynthesisOptions(speed=1.5))
    assert slow.duration_s > fast.duration_s * 1.5
    assert not espeak.speaks("xx-nonexistent")


def pocketsphinx_errors(espeak, pocketsphinx) -> list[float]:  # type: ignore[no-untyped-def]
    """Word-start errors of PocketSphinx against eSpeak's own event times, over every sentence and voice."""
    errors = []
    for voice in OTHER_VOICES:
        for sentence in SENTENCES:
            speech = espeak.synthesize(sentence, None, SynthesisOptions(language=voice))
            span = TextSpan(sentence, 0.0, speech.duration_s)
            aligned = pocketsphinx.align(speech.samples, speech.sample_rate_hz, [span], "en")
            assert [word.text for word in aligned] == sentence.split()
            for guess, truth in zip(aligned, speech.word_times, strict=True):
                if not truth.interpolated:
                    assert not guess.interpolated, (voice, guess)
                    errors.append(abs(guess.start_s - truth.start_s))
    return errors


def test_pocketsphinx_lands_within_the_stated_error_of_the_true_word_starts(espeak, pocketsphinx):
    errors = pocketsphinx_errors(espeak, pocketsphinx)
    assert len(errors) > 100
    assert statistics.mean(errors) <= MEAN_ERROR_LIMIT_S, statistics.mean(errors)
    assert max(errors) <= MAX_ERROR_LIMIT_S, max(errors)


def test_pocketsphinx_flags_words_it_cannot_place(espeak, pocketsphinx):
    speech = espeak.synthesize("the year 1990 was xyzzyq fun", None, SynthesisOptions())
    aligned = pocketsphinx.align(
        speech.samples, speech.sample_rate_hz, [TextSpan(speech.chunks[0].text, 0, speech.duration_s)], "en"
    )
    flagged = {word.text for word in aligned if word.interpolated}
    assert {"1990", "xyzzyq"} <= flagged


@pytest.fixture(scope="module")
def offline_api(tmp_path_factory) -> Iterator[LocalApi]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("offline")
    empty_volume = tmp / "volume"  # no models at all
    env = worker_env(empty_volume, tmp, WORKER_PROFILE="offline")
    server = start_local_api(env, tmp / "api.log")
    yield server
    server.stop()


def test_a_whole_offline_job_runs_through_the_local_api(offline_api):
    text = "Offline, this worker still speaks and every caption lands on its word."
    body = requests.post(f"{offline_api.url}/runsync", json={"input": {"text": text}}, timeout=120).json()
    assert body["status"] == "COMPLETED", body
    parsed = check_result(body["output"], text)
    assert (parsed.models.tts, parsed.models.aligner) == ("espeak-ng", "engine")
    assert parsed.audio.duration_s > 2.0


def test_per_job_choices_are_honoured_and_missing_engines_are_clear_errors(offline_api):
    text = "Pocketsphinx times these words instead."
    job = {"input": {"text": text, "alignment": {"aligner": "pocketsphinx"}, "tts": {"speed": 1.2}}}
    body = requests.post(f"{offline_api.url}/runsync", json=job, timeout=120).json()
    assert body["status"] == "COMPLETED", body
    assert check_result(body["output"], text).models.aligner == "pocketsphinx"

    f5 = {"input": {"text": text, "tts": {"engine": "f5"}, "voice": {"url": "https://example.com/a.wav", "text": "x"}}}
    failed = requests.post(f"{offline_api.url}/runsync", json=f5, timeout=60).json()
    assert failed["status"] == "FAILED"
    assert failed["error"].startswith("invalid_input: tts.engine: 'f5' is not loaded on this worker")

    german = {"input": {"text": "Guten Morgen", "language": "de", "alignment": {"aligner": "pocketsphinx"}}}
    refused = requests.post(f"{offline_api.url}/runsync", json=german, timeout=60).json()
    assert refused["error"] == "invalid_input: alignment.aligner: pocketsphinx has no model for 'de'"

    auto_german = requests.post(
        f"{offline_api.url}/runsync", json={"input": {"text": "Guten Morgen", "language": "de"}}, timeout=60
    ).json()
    assert auto_german["status"] == "COMPLETED", auto_german  # eSpeak times its own words in any language
    assert np.isclose(auto_german["output"]["segments"][0]["start_s"], 0.0)


def test_without_a_wav2vec2_model_on_the_volume_pocketsphinx_times_f5s_speech(tiny_volume, tmp_path, voice_clip):
    import base64
    import shutil

    from storage.local import LocalStorage
    from worker.contract import parse_job
    from worker.pipeline import Pipeline
    from worker.settings import Settings
    from worker.startup import load_models

    volume = tmp_path / "volume"
    shutil.copytree(tiny_volume, volume)
    shutil.rmtree(volume / "f5tts-worker" / "models" / "align")
    models = load_models(Settings.from_env({"WORKER_VOLUME": str(volume), "WORKER_DEVICE": "cpu"}))
    assert set(models.aligners) == {"pocketsphinx"} and "f5" in models.engines
    pipeline = Pipeline(models.engines, models.aligners, LocalStorage(tmp_path / "out"), work_dir=tmp_path)
    text = "Timed without a wav2vec2 model."
    voice = {"base64": base64.b64encode(voice_clip.read_bytes()).decode(), "text": "A hum."}
    job = parse_job({"text": text, "voice": voice, "tts": {"nfe_step": 4}})
    parsed = check_result(pipeline.run(job, "no-wav2vec2", lambda _: None), text)
    assert (parsed.models.tts, parsed.models.aligner) == ("F5-TTS/F5TTS_v1_Base", "pocketsphinx")
