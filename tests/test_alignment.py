"""Alignment: oracle emissions with known boundaries, agreement with `whisperx.align`, and the edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment import TextSpan, fill_missing_times
from alignment.ctc import forced_align
from alignment.wav2vec2 import _align_words, prepare_tokens
from common.text import is_unspoken

FRAME_S = 0.02  # wav2vec2 emits 50 frames a second
VOCABULARY = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
for _letter in "abcdefghijklmnopqrstuvwxyz'":
    VOCABULARY[_letter] = len(VOCABULARY)
HIGH, LOW = np.log(0.96), np.log(0.04 / (len(VOCABULARY) - 1))


def oracle(words: list[str], pause_frames: list[int], char_step: int = 2, lead: int = 5, tail: int = 5):
    """Log-probabilities in which each character sits on one known frame, blanks everywhere else.

    Returns the emission and each word's true (start, end) in frames: the first character's frame, and the
    frame after its last character (where the model emits the word delimiter).
    """
    chars, _, owners, _ = prepare_tokens(words, VOCABULARY)
    placed: list[tuple[int, int]] = []  # (frame, vocabulary id)
    truth: list[list[int]] = [[-1, -1] for _ in words]
    frame = lead
    for position, (char, owner) in enumerate(zip(chars, owners, strict=True)):
        if owner is None:  # the delimiter: right after the previous word, then the pause
            placed.append((frame, VOCABULARY[char]))
            frame += 1 + pause_frames[owners[position - 1]]
            continue
        if truth[owner][0] < 0:
            truth[owner][0] = frame
        placed.append((frame, VOCABULARY.get(char, VOCABULARY["<unk>"])))
        truth[owner][1] = frame + 1
        frame += char_step if position + 1 < len(chars) and owners[position + 1] == owner else 1
    frames = frame + tail
    emission = np.full((frames, len(VOCABULARY)), LOW, dtype=np.float32)
    emission[:, 0] = HIGH
    for at, token in placed:
        emission[at, :] = LOW
        emission[at, token] = HIGH
    return emission, [(start, end) for start, end in truth]


def assert_within_a_frame(words: list[str], emission: np.ndarray, truth: list[tuple[int, int]]) -> None:
    span = TextSpan(" ".join(words), 0.0, emission.shape[0] * FRAME_S)
    aligned = _align_words(words, emission, VOCABULARY, span, characters=False)
    assert [word.text for word in aligned] == words
    previous_end = 0.0
    for word, (start, end) in zip(aligned, truth, strict=True):
        assert not word.interpolated
        assert word.start_s >= previous_end - 1e-6, word
        previous_end = word.end_s
        if start < 0:  # punctuation alone ("'"): nothing in the audio, timed between its neighbours
            continue
        assert abs(word.start_s - start * FRAME_S) <= FRAME_S + 1e-6, (word, start)
        assert abs(word.end_s - end * FRAME_S) <= FRAME_S + 1e-6, (word, end)


@pytest.mark.parametrize(
    "words",
    [
        ["hello", "world"],
        ["balloon", "committee", "bookkeeper"],  # repeated letters
        ["it's", "a", "test"],
        ["x"],
    ],
)
@pytest.mark.parametrize("pause", [0, 12], ids=["adjacent", "with-pauses"])
@pytest.mark.parametrize("step", [1, 2], ids=["no-blank-between-letters", "blank-between-letters"])
def test_oracle_boundaries_are_recovered_within_one_frame(words, pause, step):
    emission, truth = oracle(words, [pause] * len(words), char_step=step)
    assert_within_a_frame(words, emission, truth)


def test_a_long_oracle_input_is_recovered_within_one_frame():
    rng = np.random.default_rng(1)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    words = ["".join(rng.choice(letters, size=rng.integers(1, 9))) for _ in range(400)]
    emission, truth = oracle(words, [int(p) for p in rng.integers(0, 20, size=len(words))])
    assert emission.shape[0] > 5000  # minutes of audio in one segment
    assert_within_a_frame(words, emission, truth)


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.text(alphabet="abcdefghij'", min_size=1, max_size=8), min_size=1, max_size=12),
    pauses=st.lists(st.integers(0, 15), min_size=12, max_size=12),
    step=st.integers(1, 3),
)
def test_any_oracle_is_recovered_within_one_frame(words, pauses, step):
    emission, truth = oracle(words, pauses, char_step=step)
    assert_within_a_frame(words, emission, truth)


def test_tokens_that_cannot_fit_the_frames_give_no_path():
    emission = np.full((3, len(VOCABULARY)), LOW, dtype=np.float32)
    assert forced_align(emission, [5, 6, 7, 8, 9], blank_id=0) is None


def reference_path(emission: np.ndarray, tokens: list[int], blank_id: int):  # type: ignore[no-untyped-def]
    """WhisperX's own trellis and backtrack, on the same emissions."""
    import torch
    from whisperx.alignment import backtrack, get_trellis, merge_repeats

    tensor = torch.from_numpy(emission)
    path = backtrack(get_trellis(tensor, tokens, blank_id), tensor, tokens, blank_id)
    return None if path is None else merge_repeats(path, "x" * len(tokens))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), frames=st.integers(5, 300), count=st.integers(1, 40))
def test_the_core_finds_whisperxs_path_on_random_emissions(seed, frames, count):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(frames, len(VOCABULARY))).astype(np.float32) * 3
    emission = (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)
    tokens = [int(t) for t in rng.integers(4, len(VOCABULARY), size=count)]
    ours = forced_align(emission, tokens, blank_id=0)
    theirs = reference_path(emission, tokens, blank_id=0)
    if theirs is None:
        assert ours is None
        return
    assert ours is not None
    assert [(span.start_frame, span.end_frame) for span in ours] == [(seg.start, seg.end) for seg in theirs]
    assert [round(span.score, 4) for span in ours] == [round(seg.score, 4) for seg in theirs]


@pytest.mark.slow
def test_whole_chunks_get_the_same_word_times_as_whisperx_align(loaded_models, tmp_path):
    import nltk
    import whisperx

    from tests.punkt import write_punkt

    aligner = loaded_models.aligners["wav2vec2"]
    model, vocabulary = aligner._models["en"]
    metadata = {"language": "en", "dictionary": vocabulary, "type": "huggingface"}
    write_punkt(tmp_path / "nltk_data")
    nltk.data.path.insert(0, str(tmp_path / "nltk_data"))
    rng = np.random.default_rng(3)
    audio = (rng.standard_normal(16000 * 12) * 0.1).astype(np.float32)
    spans = [
        TextSpan("Hello there, it's 1990! Mr. Smith said: okay.", 0.0, 4.0),
        TextSpan("Second chunk here, with repeated letters: balloon, bookkeeper.", 4.0, 9.5),
        TextSpan("Adjacent words run together quickly", 9.5, 12.0),
    ]
    ours = aligner.align(audio, 16000, spans, "en")
    theirs = []
    for span in spans:
        result = whisperx.align(
            [{"text": span.text, "start": span.start_s, "end": span.end_s}], model, metadata, audio, "cpu"
        )
        theirs += [word for segment in result["segments"] for word in segment["words"]]
    assert [word.text for word in ours] == [word["word"] for word in theirs]
    compared = 0
    for mine, reference in zip(ours, theirs, strict=True):
        if "start" in reference:
            assert abs(mine.start_s - reference["start"]) <= FRAME_S, (mine, reference)
            assert abs(mine.end_s - reference["end"]) <= FRAME_S, (mine, reference)
            compared += 1
    assert compared >= len(ours) - 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "audio_s"),
    [
        ("far too many words for a tiny clip " * 20, 0.3),  # longer than the audio can hold
        ("nothing but silence here", 2.0),
        ("!!! ... ??? — …", 2.0),  # words made only of punctuation
        ("emoji 🎉 and 你好 mixed in", 2.0),
    ],
)
def test_edge_cases_give_every_word_a_time_inside_its_chunk(loaded_models, text, audio_s):
    aligner = loaded_models.aligners["wav2vec2"]
    samples = np.zeros(int(24000 * audio_s), dtype=np.float32)  # silence
    words = aligner.align(samples, 24000, [TextSpan(text, 0.0, audio_s)], "en")
    assert [word.text for word in words] == text.split()
    previous_end = 0.0
    for word in words:
        assert previous_end - 1e-9 <= word.start_s <= word.end_s <= audio_s + 1e-9
        previous_end = word.end_s
    if audio_s < 1:
        assert all(word.interpolated for word in words)


@pytest.mark.slow
def test_an_empty_chunk_and_character_timings(loaded_models):
    aligner = loaded_models.aligners["wav2vec2"]
    samples = (np.random.default_rng(0).standard_normal(24000 * 2) * 0.1).astype(np.float32)
    spans = [TextSpan("", 0.0, 0.5), TextSpan("Café noir", 0.5, 2.0)]
    words = aligner.align(samples, 24000, spans, "en", characters=True)
    assert [word.text for word in words] == ["Café", "noir"]
    for word in words:
        assert word.chars is not None and "".join(char.text for char in word.chars) == word.text
        assert word.chars[0].start_s == word.start_s and word.chars[-1].end_s == word.end_s


def test_languages_without_spaces_are_aligned_character_by_character():
    chars, _, owners, _ = prepare_tokens(["ab", "cd"], VOCABULARY, delimit_words=False)
    assert chars == ["a", "b", "c", "d"] and owners == [0, 0, 1, 1]
    emission, _ = oracle(["abcd"], [0], char_step=3)
    span = TextSpan("abcd", 0.0, emission.shape[0] * FRAME_S)
    (word,) = _align_words(["abcd"], emission, VOCABULARY, span, characters=True, delimit_words=False)
    assert word.chars is not None
    starts = [round(char.start_s / FRAME_S) for char in word.chars]
    assert starts == [5, 8, 11, 14]  # each character on its own frame, three frames apart


@pytest.mark.parametrize("word", ["—", "-", "...", "…", '"', "“", "»", "(", ")", "。", "、", "!?"])
def test_punctuation_alone_is_unspoken(word):
    assert is_unspoken(word)


@pytest.mark.parametrize("word", ["a", "10", "%", "&", "/", "—a", "it's", "字"])
def test_anything_a_voice_may_say_is_spoken(word):
    assert not is_unspoken(word)


def test_an_unplaced_mark_is_timed_between_its_neighbours_but_only_an_unplaced_word_is_flagged():
    span = TextSpan("", 0.0, 2.0)
    for middle, flagged in (("—", False), ("word", True)):
        times = fill_missing_times(["one", middle, "two"], [0.1, None, 1.0], [0.5, None, 1.4], span)
        assert times == [(0.1, 0.5, False), (0.5, 1.0, flagged), (1.0, 1.4, False)]
