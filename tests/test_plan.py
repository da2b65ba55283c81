"""The job as a plan of segments, the aligner policy, and joining segments into one take: pure, no models."""

from __future__ import annotations

import numpy as np
import pytest

from alignment import AlignedWord
from alignment.policy import choose_aligner, clip_aligner
from common.errors import InvalidInput
from tts import ChunkSpan, Speech
from tts.dsp import concatenate
from tts.normalize import TextMap, normalize
from worker.contract import parse_job
from worker.plan import MAX_SEED, Plan

LOADED = {"wav2vec2": ("en", "de"), "pocketsphinx": ("en",)}


def test_a_job_is_a_plan_of_one_segment_with_its_voice_engine_and_options():
    job = parse_job({"text": "Hello there.", "voice": {"url": "https://example.com/v.wav", "text": "Hi."},
                     "tts": {"speed": 1.2, "nfe_step": 16, "seed": 9}, "language": "de"})  # fmt: skip
    plan = Plan.of(job, default_engine="f5")
    (segment,) = plan.segments
    assert (segment.text, segment.engine, segment.voice.url, segment.voice.field) == (
        "Hello there.", "f5", "https://example.com/v.wav", "voice",
    )  # fmt: skip
    assert (segment.options.speed, segment.options.nfe_step, segment.options.seed, segment.options.language) == (
        1.2, 16, 9, "de",
    )  # fmt: skip
    assert plan.seed == 9 and plan.subtitle_layout.max_chars_per_line == 42


def test_a_job_without_a_seed_gets_one_it_can_send_back():
    plan = Plan.of(parse_job({"text": "Hi.", "tts": {"engine": "espeak"}}), default_engine="f5")
    assert 0 <= plan.seed <= MAX_SEED and plan.segments[0].options.seed == plan.seed
    assert plan.segments[0].engine == "espeak" and plan.segments[0].voice is None


@pytest.mark.parametrize(
    ("requested", "language", "times_words", "characters", "chosen"),
    [
        ("auto", "en", True, False, "engine"),  # the engine's own events are exact
        ("auto", "en", True, True, "wav2vec2"),  # characters need the CTC model
        ("auto", "de", False, False, "wav2vec2"),
        ("pocketsphinx", "en", False, False, "pocketsphinx"),
    ],
)
def test_the_aligner_policy_prefers_engine_events_then_wav2vec2(requested, language, times_words, characters, chosen):
    assert choose_aligner(requested, language, LOADED, "f5", times_words, characters) == chosen


@pytest.mark.parametrize(
    ("requested", "language", "times_words", "message"),
    [
        ("auto", "fr", False, "language: no alignment model is loaded for 'fr'; add it to the worker's "
                              "WORKER_ALIGN_LANGUAGES (now en,de)"),
        ("engine", "en", False, "alignment.aligner: the f5 engine reports no word timings"),
        ("pocketsphinx", "de", False, "alignment.aligner: pocketsphinx has no model for 'de'"),
        ("wav2vec2", "en", False, None),
    ],
)  # fmt: skip
def test_an_aligner_that_cannot_time_the_job_is_refused_before_any_audio(requested, language, times_words, message):
    loaded = LOADED if message else {"pocketsphinx": ("en",)}
    message = message or "alignment.aligner: wav2vec2 is not loaded on this worker"
    with pytest.raises(InvalidInput) as refused:
        choose_aligner(requested, language, loaded, "f5", times_words)
    assert str(refused.value).startswith(f"invalid_input: {message}")


def test_a_clip_is_cut_by_the_best_aligner_for_its_language():
    assert clip_aligner("en", LOADED) == "wav2vec2"
    assert clip_aligner("en", {"pocketsphinx": ("en",)}) == "pocketsphinx"
    assert clip_aligner("ja", LOADED) is None


def test_segments_join_into_one_take_with_spans_word_times_and_written_words_moved():
    rate = 100
    first = Speech(np.ones(50, np.float32), rate, (ChunkSpan("Pay $3", 0, 50),),
                   (AlignedWord("Pay", 0.0, 0.2, None), AlignedWord("three", 0.2, 0.3, None),
                    AlignedWord("dollars", 0.3, 0.5, None)))  # fmt: skip
    second = Speech(np.zeros(30, np.float32), rate, (ChunkSpan("now.", 0, 30),), (AlignedWord("now.", 0.1, 0.3, None),))
    take = concatenate([first, second])
    assert len(take.samples) == 80 and take.chunks[1] == ChunkSpan("now.", 50, 80)
    assert take.word_times is not None and take.word_times[-1].start_s == pytest.approx(0.6)
    text_map = TextMap.join([normalize("Pay $3", "en"), normalize("now.", "en")])
    written = text_map.written_words(list(take.word_times))
    assert [(w.text, w.start_s, w.end_s) for w in written] == [
        ("Pay", 0.0, 0.2), ("$3", 0.2, 0.5), ("now.", pytest.approx(0.6), pytest.approx(0.8)),
    ]  # fmt: skip
