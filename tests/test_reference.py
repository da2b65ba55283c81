"""Reference clip preparation and the signal tools under it: silence, pauses, loudness, cutting with the text."""

from __future__ import annotations

import numpy as np
import pytest

from alignment import TextSpan
from alignment.pocketsphinx_aligner import PocketsphinxAligner
from common.dsp import TARGET_RMS, set_rms, silent_runs, speech_bounds
from common.errors import InvalidInput, VoiceError
from tts import SynthesisOptions
from tts.dsp import shorten_pauses
from tts.espeak import EspeakSynthesizer
from tts.f5 import reference_text
from voice import ReferenceVoice
from voice.prepare import REFERENCE_MAX_S, ClipTools, cut_at_pause, prepare_reference

RATE = 16_000


def bursts(layout: list[tuple[str, float]], rate: int = RATE, seed: int = 0) -> np.ndarray:
    """('tone'|'gap', seconds) pieces: 220 Hz tone with a little noise, or digital silence."""
    rng = np.random.default_rng(seed)
    pieces = []
    for kind, seconds in layout:
        count = int(seconds * rate)
        if kind == "tone":
            t = np.arange(count) / rate
            pieces.append(0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(count))
        else:
            pieces.append(np.zeros(count))
    return np.concatenate(pieces).astype(np.float32)


def test_silent_runs_find_the_gaps_to_the_frame():
    audio = bursts([("gap", 0.5), ("tone", 1.0), ("gap", 0.25), ("tone", 0.5), ("gap", 0.05), ("tone", 0.5)])
    runs = [(start / RATE, end / RATE) for start, end in silent_runs(audio, RATE, min_silence_s=0.1)]
    assert len(runs) == 2  # the 50 ms gap is too short
    assert runs[0] == pytest.approx((0.0, 0.5), abs=0.011)
    assert runs[1] == pytest.approx((1.5, 1.75), abs=0.011)


def test_speech_bounds_trim_both_ends_and_keep_a_pad():
    audio = bursts([("gap", 0.7), ("tone", 1.0), ("gap", 0.9)])
    start, end = speech_bounds(audio, RATE, pad_s=0.05)
    assert start / RATE == pytest.approx(0.65, abs=0.011) and end / RATE == pytest.approx(1.75, abs=0.011)


def test_set_rms_levels_the_sounding_part_and_never_clips():
    quiet = bursts([("tone", 1.0), ("gap", 1.0)]) * 0.05
    levelled = set_rms(quiet, RATE)
    assert np.sqrt(np.mean(levelled[:RATE] ** 2)) == pytest.approx(TARGET_RMS, rel=0.02)  # pause not counted
    spiky = quiet.copy()
    spiky[100] = 0.9
    assert np.abs(set_rms(spiky, RATE)).max() <= 0.95 + 1e-6


def test_shorten_pauses_keeps_every_sound_sample_and_maps_times_exactly():
    audio = bursts(
        [("gap", 0.4), ("tone", 0.5), ("gap", 1.2), ("tone", 0.5), ("gap", 0.2), ("tone", 0.3), ("gap", 1.0)]
    )
    short, where = shorten_pauses(audio, RATE, max_pause_s=0.3, edge_pad_s=0.05)
    # Onsets of the three tones in the original, and where they land.
    onsets = [int(0.4 * RATE), int(2.1 * RATE), int(2.8 * RATE)]
    landed = [where(onset) for onset in onsets]
    for onset, new in zip(onsets, landed, strict=True):
        assert np.array_equal(short[new : new + 4000], audio[onset : onset + 4000])
    assert landed[0] / RATE == pytest.approx(0.05, abs=0.011)
    assert (landed[1] - landed[0]) / RATE == pytest.approx(0.5 + 0.3, abs=0.011)  # 1.2 s gap → 0.3 s
    assert (landed[2] - landed[1]) / RATE == pytest.approx(0.5 + 0.2, abs=0.001)  # short gap untouched
    assert len(short) / RATE == pytest.approx(0.05 + 0.8 + 0.7 + 0.3 + 0.05, abs=0.02)
    assert where(len(audio)) == len(short)
    times = [where(sample) for sample in range(0, len(audio), 37)]
    assert times == sorted(times)  # monotonic: spans stay ordered and tiling


def test_a_clip_without_long_pauses_is_left_as_it_is():
    audio = bursts([("tone", 0.5), ("gap", 0.2), ("tone", 0.5)])
    short, where = shorten_pauses(audio, RATE, max_pause_s=0.3, edge_pad_s=0.05)
    assert short is audio and where(1234) == 1234


def test_a_long_clip_without_transcript_is_cut_at_its_last_pause_before_the_limit_and_transcribed():
    layout = [("tone", 4.0), ("gap", 0.4), ("tone", 5.0), ("gap", 0.15), ("tone", 2.0), ("gap", 0.5), ("tone", 6.0)]
    audio = bursts(layout)
    heard = []

    def transcribe(samples: np.ndarray, rate: int) -> str:
        heard.append(len(samples) / rate)
        return "What was said."

    voice, warnings = prepare_reference(ReferenceVoice(audio, RATE, ""), ClipTools(transcribe=transcribe))
    # Pauses of 0.3 s or more: 4.0–4.4 s and 11.55–12.05 s (the 0.15 s one loses to them). The later one's
    # middle, 11.8 s, is within the 12 s limit: the cut is there, then trailing silence is trimmed to 50 ms.
    assert voice.duration_s == pytest.approx(11.6, abs=0.02)
    assert heard == [pytest.approx(voice.duration_s, abs=1e-6)] and voice.transcript == "What was said."
    assert "to 11.6 s at a pause" in warnings[0]


def test_without_any_pause_a_long_clip_is_cut_at_the_limit():
    audio = bursts([("tone", 15.0)])
    assert cut_at_pause(audio, RATE) == int(REFERENCE_MAX_S * RATE)


def test_a_clip_without_transcript_on_a_worker_without_speech_recognition_names_the_field():
    with pytest.raises(InvalidInput, match="voice.text: is required on this worker"):
        prepare_reference(ReferenceVoice(bursts([("tone", 3.0)]), RATE, ""), ClipTools())


def test_a_long_clip_with_transcript_and_no_aligner_is_used_whole_up_to_20_s_then_refused():
    voice, warnings = prepare_reference(ReferenceVoice(bursts([("tone", 15.0)]), RATE, "Words."), ClipTools())
    assert voice.duration_s == pytest.approx(15.0, abs=0.1) and warnings == []
    with pytest.raises(VoiceError, match="cannot cut its transcript"):
        prepare_reference(ReferenceVoice(bursts([("tone", 25.0)]), RATE, "Words."), ClipTools())


PARAGRAPH = (
    "The lighthouse keeper climbed the stairs every evening. He cleaned the great lens and lit the lamp. "
    "Ships far out at sea could see the light for many miles. In the morning he wrote the weather in his "
    "book, and then he slept until the afternoon. One winter a storm broke the window at the top of the tower."
)


@pytest.mark.slow
def test_a_long_clip_with_transcript_is_cut_between_words_and_the_transcript_with_it():
    """eSpeak NG speaks a ~20 s paragraph and says when each word starts; PocketSphinx, a real aligner, finds
    the cut; the kept transcript must be exactly the words eSpeak spoke before the cut."""
    espeak = EspeakSynthesizer()
    speech = espeak.synthesize(PARAGRAPH, None, SynthesisOptions(language="en"))
    rate = speech.sample_rate_hz
    assert speech.duration_s > 15 and speech.word_times is not None
    aligner = PocketsphinxAligner()

    def align(samples: np.ndarray, rate_hz: int, transcript: str):  # type: ignore[no-untyped-def]
        return aligner.align(samples, rate_hz, [TextSpan(transcript, 0.0, len(samples) / rate_hz)], "en")

    voice, warnings = prepare_reference(ReferenceVoice(speech.samples, rate, PARAGRAPH), ClipTools(align=align))
    assert voice.duration_s <= REFERENCE_MAX_S and warnings
    kept = voice.transcript.split()
    assert 10 < len(kept) < len(PARAGRAPH.split()) and PARAGRAPH.startswith(voice.transcript)
    cut_s = speech_bounds(speech.samples, rate)[0] / rate + voice.duration_s
    truth = speech.word_times
    assert truth[len(kept) - 1].start_s < cut_s - 0.1  # the last kept word was spoken before the cut
    assert truth[len(kept)].start_s > cut_s - 0.12  # the first dropped word only starts at the cut (±1 frame)


def test_the_reference_transcript_ends_a_sentence_as_f5_expects():
    assert reference_text("Hello there") == "Hello there. "
    assert reference_text("Hello there!  ") == "Hello there! "
    assert reference_text("你好。") == "你好。"
