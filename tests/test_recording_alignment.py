"""A caller's own recording and its transcript: segments, word times, and text and audio that do not match.

Fast tests run the worker's wav2vec2 aligner (its listening, its CTC path) on an oracle model of a synthetic
recording (noise bursts where words are, each word's letters on known frames: `tests.oracle`), so the truth is
exact. A slow one runs a tiny random-weight wav2vec2 on eSpeak NG speech for the plumbing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest

from alignment import HeardWord
from alignment.anchors import match_words, word_key
from alignment.recording import MAX_SEGMENT_S, ONE_SPAN_S, RecordingAlignment, Voicing, align_recording
from alignment.wav2vec2 import Wav2Vec2Aligner
from tests.oracle import (
    AUDIO_ONLY,
    BOTH,
    HIGH,
    LOW,
    RATE_HZ,
    TEXT_ONLY,
    VOCABULARY,
    OracleModel,
    random_sentences,
    synthetic_recording,
)


def oracle_aligner(audio: np.ndarray, emission: np.ndarray) -> tuple[Wav2Vec2Aligner, OracleModel]:
    model = OracleModel(audio, emission)
    return Wav2Vec2Aligner({"en": (model, VOCABULARY)}, "cpu"), model


class DeafAligner(Wav2Vec2Aligner):
    """The same aligner with no ear: it places the words it is given, and hears nothing on its own."""

    def recognize(self, samples: np.ndarray, sample_rate_hz: int, language: str) -> list[HeardWord] | None:
        return None


class ChanceEar(Wav2Vec2Aligner):
    """An ear that hears noise: strings of random letters and, now and then, one short word of the text, alone, at
    a random time (as random weights, or a model of another language, would)."""

    def __init__(self, model: OracleModel, words: list[str]) -> None:
        super().__init__({"en": (model, VOCABULARY)}, "cpu")
        self.short_words = sorted({word_key(word) for word in words if len(word_key(word)) <= 2})

    def recognize(self, samples: np.ndarray, sample_rate_hz: int, language: str) -> list[HeardWord] | None:
        rng = np.random.default_rng(9)
        duration_s = len(samples) / sample_rate_hz
        heard = []
        for start_s in np.sort(rng.uniform(0, duration_s - 0.3, size=int(duration_s * 2))):
            letters = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=int(rng.integers(3, 9))))
            text = str(rng.choice(self.short_words)) if rng.random() < 0.2 else letters
            heard.append(HeardWord(text, float(start_s), float(start_s) + 0.2))
        return heard


def errors_of(result: RecordingAlignment, truth: Sequence[float | None]) -> list[float]:
    """How far each word the audio holds starts from its truth (every such word must have been placed)."""
    assert all(not word.interpolated for word, true_s in zip(result.words, truth, strict=True) if true_s is not None)
    return [abs(word.start_s - true_s) for word, true_s in zip(result.words, truth, strict=True) if true_s is not None]


def within_one_frame(errors: list[float]) -> float:
    return sum(error <= 0.02 + 1e-6 for error in errors) / len(errors)


def check_shape(result: RecordingAlignment, words: list[str], duration_s: float) -> None:
    """What holds whatever the aligner: every word back in order, times ordered inside the recording, and the
    segments tiling the recording with the words in order."""
    assert [word.text for word in result.words] == words
    previous_end = 0.0
    for word in result.words:
        assert previous_end - 1e-6 <= word.start_s <= word.end_s <= duration_s + 1e-6, word
        previous_end = word.end_s
    if duration_s > 0:
        assert result.spans[0].start_s == 0.0 and result.spans[-1].end_s == pytest.approx(duration_s)
        for span, following in zip(result.spans, result.spans[1:], strict=False):
            assert span.end_s == following.start_s and span.end_s - span.start_s <= MAX_SEGMENT_S + 1e-6
        assert " ".join(span.text for span in result.spans).split() == words


def test_a_clean_recording_gets_every_word_within_one_frame_of_the_oracle():
    sentences = random_sentences(60, seed=1)
    audio, emission, words, truth = synthetic_recording(sentences, [BOTH] * len(sentences))
    aligner, model = oracle_aligner(audio, emission)
    result = align_recording(audio, RATE_HZ, words, aligner, "en")
    check_shape(result, words, len(audio) / RATE_HZ)
    assert len(audio) / RATE_HZ > 240 and len(result.spans) >= 8  # minutes, in segments of at most 30 s
    assert within_one_frame(errors_of(result, truth)) >= 0.99  # as the CTC path alone
    assert result.warnings == []
    # The model heard the recording once, then each region once whole and once phrase by phrase.
    assert model.calls <= len(audio) / RATE_HZ / 30 + 1 + 2 * 2 * (len(audio) / RATE_HZ / 10) + 5 * len(sentences)


def test_punctuation_standing_alone_in_the_transcript_is_placed_between_its_neighbours_without_a_warning():
    sentences = random_sentences(30, seed=11)
    audio, emission, words, truth = synthetic_recording(sentences, [BOTH] * len(sentences), seed=11)
    marked: list[str] = []
    marked_truth: list[float | None] = []
    for index, (word, true_s) in enumerate(zip(words, truth, strict=True)):
        marked.append(word)
        marked_truth.append(true_s)
        if index % 7 == 3:  # "word — word", "word ... word", "word " word": nothing in the audio for the mark
            marked.append(["—", "...", '"'][index % 3])
            marked_truth.append(None)
    aligner, _ = oracle_aligner(audio, emission)
    result = align_recording(audio, RATE_HZ, marked, aligner, "en")
    check_shape(result, marked, len(audio) / RATE_HZ)
    assert within_one_frame(errors_of(result, marked_truth)) >= 0.99
    assert result.warnings == [] and not any(word.interpolated for word in result.words)


def test_sentences_missing_from_the_audio_are_flagged_and_named_and_the_rest_stay_within_one_frame():
    sentences = random_sentences(40, seed=2)
    where = [TEXT_ONLY if index in (5, 17, 18, 31) else BOTH for index in range(len(sentences))]
    audio, emission, words, truth = synthetic_recording(sentences, where, seed=2)
    result = align_recording(audio, RATE_HZ, words, oracle_aligner(audio, emission)[0], "en")
    check_shape(result, words, len(audio) / RATE_HZ)
    assert within_one_frame(errors_of(result, truth)) >= 0.99
    missing = [index for index, true_s in enumerate(truth) if true_s is None]
    assert [index for index, word in enumerate(result.words) if word.interpolated] == missing
    assert len(result.warnings) == 3  # one per stretch: sentences 17 and 18 are one
    for warning, sentence in zip(result.warnings, (5, 17, 31), strict=True):
        first = sum(len(words) for words in sentences[:sentence])
        count = len(sentences[sentence]) + (len(sentences[18]) if sentence == 17 else 0)
        assert warning.startswith(f"words {first + 1}–{first + count} ('{' '.join(sentences[sentence][:4])}…')")
        # … and where they should have been: between the sentences around them.
        start_s, end_s = seconds_in(warning)
        assert start_s == int(result.words[first - 1].end_s) and end_s == int(result.words[first + count].start_s)


def test_speech_missing_from_the_text_is_left_out_and_reported_and_the_text_stays_within_one_frame():
    sentences = random_sentences(40, seed=3)
    where = [AUDIO_ONLY if index in (0, 9, 25) else BOTH for index in range(len(sentences))]
    audio, emission, words, truth = synthetic_recording(sentences, where, seed=3)
    result = align_recording(audio, RATE_HZ, words, oracle_aligner(audio, emission)[0], "en")
    check_shape(result, words, len(audio) / RATE_HZ)
    assert within_one_frame(errors_of(result, truth)) >= 0.99
    reported = [seconds_in(warning) for warning in result.warnings if warning.endswith("matched none of the text")]
    assert len(reported) == 3 == len(result.warnings)
    # Each report spans the pause-to-pause stretch between the words around its sentence (clock seconds).
    text_index, expected = 0, []
    for index, sentence in enumerate(sentences):
        if where[index] == AUDIO_ONLY:
            before_s = result.words[text_index - 1].end_s if text_index else 0.0
            expected.append((before_s, result.words[text_index].start_s))
        else:
            text_index += len(sentence)
    for (start_s, end_s), (before_s, after_s) in zip(reported, expected, strict=True):
        assert before_s - 1 <= start_s <= before_s + 1.5 and after_s - 2.5 <= end_s <= after_s


def seconds_in(warning: str) -> tuple[int, int]:
    """The two m:ss times a warning names, in seconds."""
    (start_m, start_s), (end_m, end_s) = re.findall(r"(\d+):(\d\d)", warning)[:2]
    return 60 * int(start_m) + int(start_s), 60 * int(end_m) + int(end_s)


def test_a_passage_read_twice_and_a_noisy_ear_still_anchor_every_word():
    """The same passage twice (no word is unique), and an ear that mishears one word in five."""
    passage = random_sentences(8, seed=4)
    sentences = passage + random_sentences(6, seed=5) + passage
    audio, emission, words, truth = synthetic_recording(sentences, [BOTH] * len(sentences), seed=4)
    rng = np.random.default_rng(4)
    for frame in np.flatnonzero(emission[:, VOCABULARY["|"]] == HIGH):
        if rng.random() < 0.2:  # the letter before this word's delimiter misheard
            letter = frame - 2
            emission[letter] = LOW
            emission[letter, VOCABULARY["q"]] = HIGH
    result = align_recording(audio, RATE_HZ, words, oracle_aligner(audio, emission)[0], "en")
    check_shape(result, words, len(audio) / RATE_HZ)
    errors = [abs(word.start_s - true_s) for word, true_s in zip(result.words, truth, strict=True) if true_s]
    assert within_one_frame(errors) >= 0.97 and result.warnings == []


def test_without_an_ear_a_long_recording_is_cut_at_pauses_in_proportion_and_still_aligned():
    sentences = random_sentences(30, seed=6)
    audio, emission, words, truth = synthetic_recording(sentences, [BOTH] * len(sentences), seed=6)
    assert len(audio) / RATE_HZ > 2 * ONE_SPAN_S
    deaf = DeafAligner({"en": (OracleModel(audio, emission), VOCABULARY)}, "cpu")
    result = align_recording(audio, RATE_HZ, words, deaf, "en")
    check_shape(result, words, len(audio) / RATE_HZ)
    placed = [abs(word.start_s - true_s) for word, true_s in zip(result.words, truth, strict=True) if true_s]
    assert within_one_frame(placed) >= 0.9


def test_an_ear_that_hears_noise_anchors_nothing_and_reports_no_mismatch():
    sentences = random_sentences(30, seed=10)
    audio, emission, words, truth = synthetic_recording(sentences, [BOTH] * len(sentences), seed=10)
    ear = ChanceEar(OracleModel(audio, emission), words)
    assert len(match_words([word.text for word in ear.recognize(audio, RATE_HZ, "en") or []], words)) >= 3
    result = align_recording(audio, RATE_HZ, words, ear, "en")
    check_shape(result, words, len(audio) / RATE_HZ)
    assert result.warnings == []  # words matched by chance, each alone, are no anchors: nothing is called missing
    placed = [abs(word.start_s - true_s) for word, true_s in zip(result.words, truth, strict=True) if true_s]
    assert within_one_frame(placed) >= 0.9


def test_the_ear_hears_the_oracle_s_words_with_their_times():
    sentences = random_sentences(12, seed=7)
    audio, emission, words, truth = synthetic_recording(sentences, [BOTH] * len(sentences), seed=7)
    aligner, _ = oracle_aligner(audio, emission)
    heard = aligner.recognize(audio, RATE_HZ, "en")
    assert [word.text for word in heard] == [word_key(word) for word in words]  # windows cut no word here
    starts = [true_s for true_s in truth if true_s is not None]
    assert all(abs(word.start_s - true_s) <= 0.02 for word, true_s in zip(heard, starts, strict=True))


def test_matching_keeps_order_pairs_equal_words_and_skips_what_is_missing_on_either_side():
    written = "The cat sat on the mat. Then the dog sat on the cat, and the cat ran.".split()
    heard = "the cat sat on mat uh then the dog sat on the cat and the cat ran".split()
    pairs = match_words(heard, written)
    assert all(word_key(heard[h]) == word_key(written[w]) for h, w in pairs)
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(pairs, pairs[1:], strict=False))
    assert len(pairs) == len(written) - 1  # all but the "the" that was not heard
    rng = np.random.default_rng(8)
    text = [word for sentence in random_sentences(300, seed=8) for word in sentence]
    edited = [word for word in text if rng.random() > 0.05]  # a twentieth dropped …
    edited = [word if rng.random() > 0.1 else "zz" + word for word in edited]  # … a tenth misheard
    pairs = match_words(edited, text)
    assert len(pairs) >= 0.98 * sum(not word.startswith("zz") for word in edited)
    assert all(edited[h] == text[w] for h, w in pairs)


def test_silence_only_audio_spreads_the_words_and_says_so_without_calling_the_model():
    audio = np.zeros(RATE_HZ * 5, dtype=np.float32)
    aligner, model = oracle_aligner(audio + 1e-9, np.zeros((1, len(VOCABULARY)), dtype=np.float32))
    result = align_recording(audio, RATE_HZ, ["nothing", "said", "here"], aligner, "en")
    check_shape(result, ["nothing", "said", "here"], 5.0)
    assert model.calls == 0 and all(word.interpolated for word in result.words)
    assert result.warnings == ["no speech was found in the recording: its 3 words are spread evenly over it"]


@pytest.mark.parametrize("samples", [0, 1, 160, 3000])
def test_empty_or_very_short_audio_gives_a_clean_result(samples):
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(samples) * 0.1).astype(np.float32)
    words = ["too", "little", "audio", "for", "these", "words"]
    aligner, model = oracle_aligner(np.zeros(400, dtype=np.float32), np.zeros((2, len(VOCABULARY)), dtype=np.float32))
    model.places = {}  # a window it cannot place gets all-blank emissions: nothing fits
    result = align_recording(audio, RATE_HZ, words, aligner, "en")
    check_shape(result, words, samples / RATE_HZ)
    assert all(word.interpolated for word in result.words) and result.warnings
    assert align_recording(audio, RATE_HZ, [], aligner, "en").words == []


def test_the_recording_is_cut_at_its_longest_pauses_and_a_stretch_without_one_at_its_quietest_point():
    rng = np.random.default_rng(4)
    audio = (rng.standard_normal(RATE_HZ * 100) * 0.1).astype(np.float32)
    audio[RATE_HZ * 20 : RATE_HZ * 21] *= 0.001  # a one-second pause at 20 s, shorter ones at 12 s and 26 s
    audio[RATE_HZ * 12 : RATE_HZ * 12 + 4000] *= 0.001
    audio[RATE_HZ * 26 : RATE_HZ * 26 + 4000] *= 0.001
    audio[RATE_HZ * 55 : RATE_HZ * 55 + 2000] *= 0.3  # no pause from 21 s to 100 s: a quieter moment at 55 s
    segments = Voicing.of(audio, RATE_HZ).segments()
    assert segments[0] == (0.0, pytest.approx(20.5, abs=0.02))
    assert segments[1][1] == pytest.approx(50.5, abs=0.1) or 45 < segments[1][1] <= 50.5
    assert all(end - start <= MAX_SEGMENT_S + 1e-6 for start, end in segments)
    assert segments[-1][1] == pytest.approx(100.0)


def test_words_with_whitespace_and_stereo_audio_are_refused():
    aligner, _ = oracle_aligner(np.zeros(400, dtype=np.float32), np.zeros((2, len(VOCABULARY)), dtype=np.float32))
    with pytest.raises(ValueError, match="whitespace"):
        align_recording(np.zeros(16000, dtype=np.float32), RATE_HZ, ["two words"], aligner, "en")
    with pytest.raises(ValueError, match="mono"):
        align_recording(np.zeros((2, 16000), dtype=np.float32), RATE_HZ, ["word"], aligner, "en")


# eSpeak NG speech aligned by PocketSphinx, against eSpeak's own word events.

PASSAGES = [
    "The kettle clicked off just as the rain started, and for a moment the whole kitchen seemed to hold its breath.",
    "She folded the map along its old creases and walked toward the harbour without looking back.",
    "Nobody in the village could remember who had planted the pear tree by the chapel.",
    "The train was late again.",
    "By the time the fog lifted, the fishing boats were already halfway to the horizon.",
    "Her grandmother kept buttons in a biscuit tin, sorted by a system that no one else ever understood.",
    "The museum closed at five, but the night guard liked to say the paintings only woke up after dark.",
    "We drove for hours through fields of sunflowers that all turned to watch us pass.",
    "The old clock in the hallway ran eleven minutes fast, and the family had arranged their lives around it.",
    "A single crow sat on the fence post and watched the farmer mend the gate.",
    "Snow fell all night, and in the morning the street looked as though someone had erased it.",
    "The baker sang while he worked, always the same song, always a little out of tune.",
    "They found the letter in a drawer, still sealed, forty years after it was written.",
    "Every evening the ferry carried the same six passengers across the bay and back again.",
    "The garden was small, but it held more kinds of green than anyone could name.",
    "When the music stopped, nobody moved, as if the silence itself were part of the song.",
]
VOICES = ["en-us", "en-us+f3", "en+m3", "en-us+m7"]


def espeak_recording(espeak, passages: list[str], spoken: list[bool]):  # type: ignore[no-untyped-def]
    """The passages spoken in turn by four voices with pauses between them and a faint noise floor; each spoken
    word's start as eSpeak reported it (None for words eSpeak spoke without an event, and words not spoken)."""
    from tts import SynthesisOptions

    rng = np.random.default_rng(0)
    rate = espeak.sample_rate_hz
    pieces, starts, at_s = [], [], 0.0
    for index, (passage, said) in enumerate(zip(passages, spoken, strict=True)):
        if not said:
            starts += [None] * len(passage.split())
            continue
        speech = espeak.synthesize(passage, None, SynthesisOptions(language=VOICES[index % len(VOICES)]))
        starts += [None if word.interpolated else at_s + word.start_s for word in speech.word_times]
        pause_s = float(rng.uniform(0.4, 1.4))
        pieces += [speech.samples, np.zeros(round(pause_s * rate), dtype=np.float32)]
        at_s += speech.duration_s + pause_s
    audio = np.concatenate(pieces)
    return audio + (rng.standard_normal(len(audio)) * 0.002).astype(np.float32), starts


def errors_against(result: RecordingAlignment, starts: list[float | None]) -> list[float]:
    return [
        abs(word.start_s - true_s)
        for word, true_s in zip(result.words, starts, strict=True)
        if true_s is not None and not word.interpolated
    ]


@pytest.mark.slow
def test_a_tiny_random_wav2vec2_runs_a_recording_through_end_to_end(loaded_models, espeak):
    aligner = loaded_models.aligners["wav2vec2"]
    audio, _ = espeak_recording(espeak, PASSAGES[:6], [True] * 6)
    words = " ".join(PASSAGES[:6]).split()
    result = align_recording(audio, espeak.sample_rate_hz, words, aligner, "en", characters=True)
    check_shape(result, words, len(audio) / espeak.sample_rate_hz)
    for word in result.words:  # random weights place what they place; what they place has its characters
        assert word.interpolated or (word.chars is not None and word.chars[0].start_s == word.start_s)
    assert result.warnings or not any(word.interpolated for word in result.words)
