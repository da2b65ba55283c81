"""A caller's own recording and its transcript: segments, word times, and text and audio that do not match.

Fast tests run the real CTC path (`alignment.wav2vec2`) on oracle emissions of a synthetic recording (noise bursts
where words are, each word's letters on known frames), so the truth is exact. Slow ones align eSpeak NG speech
with PocketSphinx against eSpeak's own word events, within the offline profile's bounds, and run a tiny
random-weight wav2vec2 for the plumbing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from alignment import AlignedWord, TextSpan, spans_to_align
from alignment.recording import MAX_SEGMENT_S, RecordingAlignment, Voicing, align_recording
from alignment.wav2vec2 import _align_words

RATE_HZ = 16_000
FRAME_SAMPLES = 320  # 20 ms, as wav2vec2
VOCABULARY = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
for _letter in "abcdefghijklmnopqrstuvwxyz'":
    VOCABULARY[_letter] = len(VOCABULARY)
HIGH, LOW = float(np.log(0.96)), float(np.log(0.04 / (len(VOCABULARY) - 1)))


class OracleAligner:
    """An aligner on oracle emissions of one recording: it finds where the audio it is given lies by the samples
    themselves, and runs the worker's own CTC path (`_align_words`) on those rows."""

    name = "oracle"
    languages = ("en",)

    def __init__(self, audio: np.ndarray, emission: np.ndarray) -> None:
        self.emission = emission
        self.places = {audio[at : at + 32].tobytes(): at for at in range(0, len(audio) - 32, 160)}
        self.calls = 0

    def align(
        self,
        samples: np.ndarray,
        sample_rate_hz: int,
        spans: Sequence[TextSpan],
        language: str,
        characters: bool = False,
    ) -> list[AlignedWord]:
        assert sample_rate_hz == RATE_HZ
        self.calls += 1
        offset = next(
            place - shift
            for shift in range(160)
            if (place := self.places.get(samples[shift : shift + 32].tobytes())) is not None
        )
        aligned: list[AlignedWord] = []
        for span, words, samples_range in spans_to_align(spans, RATE_HZ):
            frames = max((samples_range.stop - samples_range.start) // FRAME_SAMPLES, 1)
            first = offset + samples_range.start
            rows = np.clip(np.round((first + FRAME_SAMPLES * np.arange(frames)) / FRAME_SAMPLES).astype(int), 0, None)
            emission = self.emission[np.minimum(rows, len(self.emission) - 1)]
            aligned += _align_words(words, emission, VOCABULARY, span, characters)
        return aligned


def synthetic_recording(sentences: list[list[str]], spoken: list[bool], seed: int = 0):  # type: ignore[no-untyped-def]
    """Noise bursts where words are, pauses between sentences, a faint noise floor; the oracle emission with each
    letter on a frame inside its word; and each spoken word's true start (its first letter's frame)."""
    rng = np.random.default_rng(seed)
    at_s = 0.5
    bursts: list[tuple[float, float]] = []
    letters: list[tuple[int, str]] = []
    truth: list[float] = []
    for sentence, said in zip(sentences, spoken, strict=True):
        for word in sentence:
            if said is False:  # in the transcript only
                continue
            duration_s = 0.08 * len(word) + 0.06
            frame = round(at_s / 0.02)
            bursts.append((at_s, at_s + duration_s))
            word_letters = [c for c in word.lower() if c in VOCABULARY]
            for position, letter in enumerate(word_letters):
                letters.append((frame + 2 * position, letter))
            letters.append((frame + 2 * len(word_letters), "|"))
            if said:
                truth.append(frame * 0.02)
            at_s += duration_s + 0.03
        at_s += float(rng.uniform(0.4, 1.2)) if said is not False else 0.0
    audio = (rng.standard_normal(round((at_s + 0.5) * RATE_HZ)) * 0.001).astype(np.float32)
    for start_s, end_s in bursts:
        first, last = round(start_s * RATE_HZ), round(end_s * RATE_HZ)
        audio[first:last] += (rng.standard_normal(last - first) * 0.1).astype(np.float32)
    frames = len(audio) // FRAME_SAMPLES + 1
    emission = np.full((frames, len(VOCABULARY)), LOW, dtype=np.float32)
    emission[:, 0] = HIGH
    for frame, letter in letters:
        emission[frame] = LOW
        emission[frame, VOCABULARY[letter]] = HIGH
    return audio, emission, truth


def random_sentences(count: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    alphabet = list("abcdefghijklmnopqrstuvwxyz")
    sentences = []
    for _ in range(count):
        words = ["".join(rng.choice(alphabet, size=int(rng.integers(2, 9)))) for _ in range(int(rng.integers(6, 16)))]
        words[-1] += "."
        sentences.append(words)
    return sentences


def starts_of(result: RecordingAlignment, indexes: Sequence[int]) -> list[float]:
    return [result.words[index].start_s for index in indexes]


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
    audio, emission, truth = synthetic_recording(sentences, [True] * len(sentences))
    words = [word for sentence in sentences for word in sentence]
    result = align_recording(audio, RATE_HZ, words, OracleAligner(audio, emission), "en")
    check_shape(result, words, len(audio) / RATE_HZ)
    assert len(audio) / RATE_HZ > 240 and len(result.spans) >= 8  # minutes, in segments of at most 30 s
    assert not any(word.interpolated for word in result.words)
    errors = [abs(start - true_s) for start, true_s in zip(starts_of(result, range(len(words))), truth, strict=True)]
    assert sum(error <= 0.02 + 1e-6 for error in errors) >= 0.99 * len(errors)  # one frame, as the CTC path alone
    assert result.warnings == []


def test_silence_only_audio_spreads_the_words_and_says_so_without_calling_the_aligner():
    audio = np.zeros(RATE_HZ * 5, dtype=np.float32)
    aligner = OracleAligner(audio + 1e-9, np.zeros((1, len(VOCABULARY)), dtype=np.float32))
    result = align_recording(audio, RATE_HZ, ["nothing", "said", "here"], aligner, "en")
    check_shape(result, ["nothing", "said", "here"], 5.0)
    assert aligner.calls == 0 and all(word.interpolated for word in result.words)
    assert result.warnings == ["no speech was found in the recording: its 3 words are spread evenly over it"]


@pytest.mark.parametrize("samples", [0, 1, 160, 3000])
def test_empty_or_very_short_audio_gives_a_clean_result(samples):
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(samples) * 0.1).astype(np.float32)
    words = ["too", "little", "audio", "for", "these", "words"]
    aligner = OracleAligner(np.zeros(400, dtype=np.float32), np.zeros((2, len(VOCABULARY)), dtype=np.float32))
    aligner.places = {}  # a window it cannot place gets all-blank emissions: nothing fits
    aligner.align = _blank_align  # type: ignore[method-assign]
    result = align_recording(audio, RATE_HZ, words, aligner, "en")
    check_shape(result, words, samples / RATE_HZ)
    assert all(word.interpolated for word in result.words) and result.warnings
    assert align_recording(audio, RATE_HZ, [], aligner, "en").words == []


def _blank_align(samples, sample_rate_hz, spans, language, characters=False):  # type: ignore[no-untyped-def]
    aligned: list[AlignedWord] = []
    for span, words, samples_range in spans_to_align(spans, sample_rate_hz):
        frames = max((samples_range.stop - samples_range.start) // FRAME_SAMPLES, 1)
        emission = np.full((frames, len(VOCABULARY)), LOW, dtype=np.float32)
        emission[:, 0] = HIGH
        aligned += _align_words(words, emission, VOCABULARY, span, characters)
    return aligned


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
    aligner = OracleAligner(np.zeros(400, dtype=np.float32), np.zeros((2, len(VOCABULARY)), dtype=np.float32))
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
