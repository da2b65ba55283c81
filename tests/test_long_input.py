"""Input longer than a model can take at once: a word longer than F5-TTS's window, a reference transcript that
stretches every word past it, and speech longer than an aligner takes in one span."""

from __future__ import annotations

import base64
import unicodedata
from pathlib import Path

import pytest

from alignment import MAX_SPAN_S, AlignedWord, TextSpan, spans_to_align
from common.errors import InternalError, InvalidInput
from tests.conftest import make_clip
from tests.invariants import check_result
from tts import SynthesisOptions
from tts.espeak import CHUNK_MAX_S, EspeakSynthesizer, chunks_at_words
from tts.normalize import MAX_WORD_BYTES, as_written, normalize
from worker.contract import parse_job

SENTENCE = "The river ran past three old mills, and every mill had a story of its own to tell. "


def f5_job(clip: Path, text: str, transcript: str = "A voice that hums a tune."):  # type: ignore[no-untyped-def]
    voice = {"base64": base64.b64encode(clip.read_bytes()).decode(), "text": transcript}
    return parse_job({"text": text, "voice": voice, "tts": {"nfe_step": 4, "seed": 1}})


def test_a_long_word_is_said_in_pieces_of_whole_characters_that_stand_for_it():
    word = "é" * 120 + "x"  # 241 bytes: two-byte characters, never cut in half
    text_map = as_written(f"Say {word} now").with_words_at_most(100)

    pieces = text_map.spoken[1:-1]
    assert "".join(pieces) == word and len(pieces) == 3
    assert all(len(piece.encode("utf-8")) <= 100 for piece in pieces)
    assert text_map.written_of == (0, 1, 1, 1, 2)
    timed = [AlignedWord(spoken, float(i), i + 0.5, 0.9) for i, spoken in enumerate(text_map.spoken)]
    said = text_map.written_words(timed)
    assert [(w.text, w.start_s, w.end_s) for w in said] == [("Say", 0, 0.5), (word, 1, 3.5), ("now", 4, 4.5)]


def test_a_long_run_of_chinese_is_said_character_by_character_so_no_piece_is_ever_too_long():
    sentence = "今天天气很好，我们一起去公园散步吧。"  # 18 characters, 54 bytes
    spoken = normalize(sentence * 8, "zh").with_words_at_most(MAX_WORD_BYTES).spoken
    assert "".join(spoken) == sentence * 8 and len(spoken) == 16 * 8  # a unit per character, its punctuation on it
    assert all(len(unit.encode("utf-8")) <= 6 for unit in spoken)


def test_a_mark_stays_with_the_letter_it_sits_on():
    pieces = as_written("नमस्ते" * 40).with_words_at_most(100).spoken
    assert "".join(pieces) == "नमस्ते" * 40
    assert not any(unicodedata.category(piece[0]).startswith("M") for piece in pieces)


@pytest.mark.slow
def test_a_5000_character_word_is_spoken_and_subtitled_as_one_word(local_pipeline, voice_clip):
    word = ("abcdefghij" * 500)[:5000]
    text = f"Read this: {word} please."
    parsed = check_result(local_pipeline.run(f5_job(voice_clip, text), "long-word", lambda _: None), text)
    assert len(parsed.segments) > 1  # the word's pieces were spread over several chunks
    assert parsed.words[2].text == word and parsed.words[2].end_s > parsed.words[2].start_s


@pytest.mark.slow
def test_a_transcript_far_shorter_than_its_clip_is_refused_before_the_model_runs(local_pipeline, tmp_path):
    clip = make_clip(tmp_path / "ten-seconds.wav", duration_s=10.0)
    # 187 frames of the reference per byte of its transcript ("Hm.  "): a 90-byte word alone needs 16,800 frames.
    job = f5_job(clip, "Sing " + "la" * 45, transcript="Hm.")
    with pytest.raises(InvalidInput) as refused:
        local_pipeline.run(job, "stretched", lambda _: None)
    assert refused.value.field == "text"
    assert "window" in refused.value.message and "voice.text" in refused.value.message


@pytest.mark.slow
def test_espeak_speech_comes_in_chunks_of_whole_words_that_tile_the_audio():
    text = (SENTENCE * 20).strip()  # about a minute and a half of speech
    speech = EspeakSynthesizer().synthesize(text, None, SynthesisOptions())

    rate = speech.sample_rate_hz
    assert speech.duration_s > 2 * CHUNK_MAX_S and len(speech.chunks) >= 3
    assert " ".join(chunk.text for chunk in speech.chunks).split() == text.split()
    assert speech.chunks[0].start_sample == 0 and speech.chunks[-1].end_sample == len(speech.samples)
    for before, after in zip(speech.chunks, speech.chunks[1:], strict=False):
        assert before.end_sample == after.start_sample
    # A chunk ends after its last word is heard: between that word's end and the next one's start.
    assert speech.word_times is not None
    words = iter(speech.word_times)
    for chunk in speech.chunks[:-1]:
        last = [next(words) for _ in chunk.text.split()][-1]
        following = speech.word_times[speech.word_times.index(last) + 1]
        assert last.end_s <= chunk.end_sample / rate <= following.start_s + 1e-6
        assert (chunk.end_sample - chunk.start_sample) / rate <= CHUNK_MAX_S


@pytest.mark.slow
def test_a_long_espeak_job_is_aligned_by_wav2vec2_with_characters_in_bounded_spans(local_pipeline):
    text = (SENTENCE * 40).strip()  # about three minutes of speech
    raw = {"text": text, "tts": {"engine": "espeak"}, "alignment": {"aligner": "wav2vec2", "characters": True}}
    parsed = check_result(local_pipeline.run(parse_job(raw), "long-espeak", lambda _: None), text)
    assert parsed.models.aligner == "wav2vec2-ctc"
    assert len(parsed.segments) >= 6
    assert max(segment.end_s - segment.start_s for segment in parsed.segments) <= CHUNK_MAX_S


def test_an_espeak_chunk_never_runs_past_its_limit_into_a_long_pause():
    words = [AlignedWord("one", 0.0, 29.9, None), AlignedWord("two", 31.0, 31.5, None)]
    chunks = chunks_at_words(words, sample_count=32 * 1000, rate_hz=1000, max_s=30.0)
    assert [(c.text, c.start_sample, c.end_sample) for c in chunks] == [("one", 0, 30_000), ("two", 30_000, 32_000)]


def test_a_span_longer_than_an_aligner_takes_is_refused_rather_than_aligned():
    spans = [TextSpan("short", 0.0, 5.0), TextSpan("far too long", 5.0, 5.0 + MAX_SPAN_S + 1)]
    with pytest.raises(InternalError, match="at most 90 s"):
        list(spans_to_align(spans, 16_000))
