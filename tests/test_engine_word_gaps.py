"""Words eSpeak NG speaks as one (one WORD event for "as it is") are timed by an aligner inside the group's span,
not shared by length; the engine's times are kept for every other word."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from alignment import AlignedWord, TextSpan, retime_flagged
from common.text import is_unspoken
from storage.local import LocalStorage
from tests.invariants import check_result
from tts import SynthesisOptions
from worker.contract import Job, parse_job
from worker.pipeline import Pipeline

SENTENCE = "Every word of this sentence gets its own time, so the captions light up as it is spoken."
EXAMPLE = f"Welcome to the F5-TTS worker. {SENTENCE}"  # the worker's example job (test_input.json)
GERMAN = "Es ist so wie es ist, und das ist gut so."  # eSpeak NG speaks "es ist" as one here too


def groups_of(words: Sequence[AlignedWord]) -> list[range]:
    """Each run of flagged words with the word before it, whose event they share."""
    groups: list[range] = []
    for index, word in enumerate(words):
        if not word.interpolated or index == 0:
            continue
        if groups and groups[-1].stop == index:
            groups[-1] = range(groups[-1].start, index + 1)
        elif not words[index - 1].interpolated:
            groups.append(range(index - 1, index + 1))
    return groups


def espeak_job(text: str, **job: object) -> Job:
    return parse_job({"text": text, "tts": {"engine": "espeak"}, "alignment": {"aligner": "engine"}, **job})


class RecordingAligner:
    """Places the words of each span it is given at fixed fractions of the span, except the words in `unplaced`."""

    name = "recording"
    languages = ("en",)

    def __init__(self, unplaced: frozenset[str] = frozenset()) -> None:
        self.spans: list[TextSpan] = []
        self.unplaced = unplaced

    def align(
        self,
        samples: np.ndarray,
        sample_rate_hz: int,
        spans: Sequence[TextSpan],
        language: str,
        characters: bool = False,
    ) -> list[AlignedWord]:
        self.spans += spans
        placed = []
        for span in spans:
            words = span.text.split()
            step = (span.end_s - span.start_s) / len(words)
            for index, word in enumerate(words):
                start = span.start_s + (index + 0.25) * step
                placed.append(AlignedWord(word, start, start + 0.5 * step, None, word in self.unplaced))
        return placed


def engine_words(*spec: tuple[str, float, float, bool]) -> list[AlignedWord]:
    return [AlignedWord(text, start, end, None, flagged) for text, start, end, flagged in spec]


def test_groups_of_flagged_words_are_aligned_in_their_span_and_every_other_word_is_kept():
    words = engine_words(
        ("lost", 0.0, 0.0, True),  # before the first event: the engine gave it no span, so it stays as it is
        ("light", 0.1, 0.4, False),
        ("up", 0.4, 0.6, False),
        ("as", 0.6, 0.7, False),
        ("it", 0.7, 0.8, True),
        ("is", 0.8, 0.9, True),
        ("spoken.", 1.0, 1.5, False),
    )
    aligner = RecordingAligner()
    retimed = retime_flagged(words, np.zeros(16_000, dtype=np.float32), 16_000, aligner, "en")
    assert aligner.spans == [TextSpan("as it is", 0.6, 0.9)]
    assert [word.text for word in retimed] == [word.text for word in words]
    assert [word.interpolated for word in retimed] == [True, False, False, False, False, False, False]
    assert retimed[:3] == words[:3] and retimed[6] == words[6]
    assert retimed[3].start_s == 0.6  # the first word's start is the engine's event
    assert retimed[4].start_s == pytest.approx(0.725) and retimed[5].start_s == pytest.approx(0.825)


def test_a_word_the_aligner_cannot_place_stays_flagged_and_a_group_it_cannot_place_keeps_the_engines_times():
    words = engine_words(
        ("as", 0.6, 0.7, False), ("it", 0.7, 0.8, True), ("is", 0.8, 0.9, True),
        ("then", 1.0, 1.2, False), ("xyzzy", 1.2, 1.4, True),
    )  # fmt: skip
    retimed = retime_flagged(
        words, np.zeros(16_000, dtype=np.float32), 16_000, RecordingAligner(frozenset({"is", "then", "xyzzy"})), "en"
    )
    assert [word.interpolated for word in retimed] == [False, False, True, False, True]
    assert retimed[1].start_s == pytest.approx(0.725)
    assert retimed[3:] == words[3:]  # "then xyzzy": the aligner placed neither, so nothing better is known


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["en", "en-us+f3"])
def test_words_espeak_speaks_as_one_are_timed_by_pocketsphinx_inside_their_group(espeak, pocketsphinx, voice):
    speech = espeak.synthesize(SENTENCE, None, SynthesisOptions(language=voice))
    engine = list(speech.word_times)
    groups = groups_of(engine)
    assert [[engine[i].text for i in group] for group in groups] == [
        ["as", "it", "is"]
    ]  # the group eSpeak gives no events

    retimed = retime_flagged(engine, speech.samples, speech.sample_rate_hz, pocketsphinx, "en")
    assert [word.text for word in retimed] == SENTENCE.split()
    assert not any(word.interpolated for word in retimed)
    kept = [index for index in range(len(engine)) if not any(index in group for group in groups)]
    assert [retimed[index] for index in kept] == [engine[index] for index in kept]
    for group in groups:
        span_start, span_end = engine[group[0]].start_s, engine[group[-1]].end_s
        cursor = span_start
        for index in group:
            assert cursor - 1e-9 <= retimed[index].start_s <= retimed[index].end_s <= span_end + 1e-9, retimed[index]
            cursor = retimed[index].end_s
        shared = [(engine[i].start_s, engine[i].end_s) for i in group[1:]]
        aligned = [(retimed[i].start_s, retimed[i].end_s) for i in group[1:]]
        assert not np.allclose(shared, aligned, atol=0.002), (shared, aligned)  # not the by-length split


@pytest.mark.slow
def test_the_example_job_has_no_interpolated_words_with_either_profile(loaded_models, tmp_path: Path):
    full = Pipeline(loaded_models.engines, loaded_models.aligners, LocalStorage(tmp_path / "full"), work_dir=tmp_path)
    offline_aligners = {"pocketsphinx": loaded_models.aligners["pocketsphinx"]}
    offline = Pipeline(loaded_models.engines, offline_aligners, LocalStorage(tmp_path / "offline"), work_dir=tmp_path)
    for pipeline, aligner in [(full, "engine+wav2vec2-ctc"), (offline, "engine+pocketsphinx")]:
        result = check_result(pipeline.handle(espeak_job(EXAMPLE), "example", lambda _: None), EXAMPLE)
        assert (result.alignment.interpolated_words, result.models.aligner) == (0, aligner)
        assert not any("interpolated" in warning or "could not be placed" in warning for warning in result.warnings)


@pytest.mark.slow
def test_without_an_aligner_for_the_language_the_shared_words_stay_flagged(espeak, pocketsphinx, tmp_path: Path):
    engines = {"espeak": espeak}
    for aligners, text, language in [({}, EXAMPLE, "en"), ({"pocketsphinx": pocketsphinx}, GERMAN, "de")]:
        pipeline = Pipeline(engines, aligners, LocalStorage(tmp_path / language), work_dir=tmp_path)
        result = check_result(pipeline.handle(espeak_job(text, language=language), language, lambda _: None), text)
        assert result.models.aligner == "engine"
        assert result.alignment.interpolated_words >= 2


PUNCTUATED = 'Hello there — and more. Wait ... what? He said " yes " loudly.'


@pytest.mark.slow
def test_punctuation_standing_alone_is_timed_between_its_neighbours_and_never_flagged(loaded_models, tmp_path: Path):
    """A spaced dash, ellipsis or quotation mark is a "word" that nothing speaks: no aligner can place it, and no
    warning should say so."""
    full = Pipeline(loaded_models.engines, loaded_models.aligners, LocalStorage(tmp_path / "full"), work_dir=tmp_path)
    offline_aligners = {"pocketsphinx": loaded_models.aligners["pocketsphinx"]}
    offline = Pipeline(loaded_models.engines, offline_aligners, LocalStorage(tmp_path / "offline"), work_dir=tmp_path)
    engine_only = Pipeline(loaded_models.engines, {}, LocalStorage(tmp_path / "engine"), work_dir=tmp_path)
    for pipeline in (full, offline, engine_only):
        result = check_result(pipeline.handle(espeak_job(PUNCTUATED), "marks", lambda _: None), PUNCTUATED)
        words = result.words
        if pipeline is engine_only:  # eSpeak's events alone: words it speaks as one may stay flagged, marks never
            assert not [word for word in words if is_unspoken(word.text) and word.interpolated]
        else:
            assert result.alignment.interpolated_words == 0 and result.warnings == []
        for before, mark, after in zip(words, words[1:], words[2:], strict=False):
            if is_unspoken(mark.text):
                assert before.end_s - 1e-6 <= mark.start_s <= mark.end_s <= after.start_s + 1e-6, (before, mark, after)
