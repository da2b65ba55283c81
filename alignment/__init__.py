"""Forced alignment: the known text and the audio → when each word is spoken.

`Aligner` is the interface the pipeline uses; `alignment.wav2vec2.Wav2Vec2Aligner` implements it with a wav2vec2
CTC model and `alignment.ctc`, which finds the same path as `whisperx.align`, faster. Every word of the text
comes back, in order: a word the model could not place gets a time interpolated between its neighbours and
`interpolated=True`. `retime_flagged` lets an aligner time the words an engine spoke as one. An aligner whose
model can also listen without the text (`recognize`) lets a caller's own recording be anchored to its transcript
(`alignment.recording`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, cast

import numpy as np

from common.errors import InternalError
from common.text import is_unspoken

__all__ = [
    "MAX_SPAN_S",
    "AlignedChar",
    "AlignedWord",
    "Aligner",
    "HeardWord",
    "TextSpan",
    "alignment_warnings",
    "characters_warnings",
    "fill_missing_times",
    "retime_flagged",
    "spans_to_align",
]


# The longest span an aligner takes: its model and its CTC path grow with the span (frames × characters), so an
# engine's chunks stay under it (F5-TTS's window is 87 s; eSpeak NG cuts its speech at words).
MAX_SPAN_S = 90.0


@dataclass(frozen=True)
class TextSpan:
    """A piece of text known to be spoken between `start_s` and `end_s` (one TTS chunk)."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class AlignedChar:
    text: str
    start_s: float
    end_s: float
    score: float


@dataclass(frozen=True)
class AlignedWord:
    text: str
    start_s: float
    end_s: float
    score: float | None  # mean probability of its characters' frames; None when interpolated
    interpolated: bool = False
    chars: tuple[AlignedChar, ...] | None = None  # when character timings were asked for


@dataclass(frozen=True)
class HeardWord:
    """A word as the aligner's model heard it, without the text: its spelling may be wrong."""

    text: str
    start_s: float
    end_s: float


class Aligner(Protocol):
    name: str

    @property
    def languages(self) -> tuple[str, ...]: ...

    def align(
        self,
        samples: np.ndarray,
        sample_rate_hz: int,
        spans: Sequence[TextSpan],
        language: str,
        characters: bool = False,
    ) -> list[AlignedWord]: ...

    def recognize(self, samples: np.ndarray, sample_rate_hz: int, language: str) -> list[HeardWord] | None:
        """The words the model hears in `samples`, in order; None when it cannot listen without the text."""
        ...


def spans_to_align(spans: Sequence[TextSpan], rate_hz: int) -> Iterator[tuple[TextSpan, list[str], slice]]:
    """Each span that has words, with its words and its samples' range at `rate_hz` (the aligner's rate).

    Raises InternalError for a span over MAX_SPAN_S: every engine cuts its speech shorter."""
    for span in spans:
        if span.end_s - span.start_s > MAX_SPAN_S:
            raise InternalError(
                f"a span of {span.end_s - span.start_s:.0f} s reached the aligner, which takes at most "
                f"{MAX_SPAN_S:.0f} s at a time; please report this"
            )
        words = span.text.split()
        if words:
            yield span, words, slice(int(span.start_s * rate_hz), int(span.end_s * rate_hz))


def fill_missing_times(
    words: Sequence[str], starts: Sequence[float | None], ends: Sequence[float | None], span: TextSpan
) -> list[tuple[float, float, bool]]:
    """Give every word a (start, end, interpolated) inside `span`, keeping times ordered.

    Known times are kept (clamped into the span and made monotonic); runs of unknown words share the gap
    between their known neighbours evenly, and are flagged unless they are punctuation alone (`is_unspoken`):
    there was nothing to place.
    """
    count = len(words)
    known = [s is not None and e is not None for s, e in zip(starts, ends, strict=True)]
    result: list[tuple[float, float, bool]] = []
    cursor = span.start_s
    index = 0
    while index < count:
        if known[index]:
            start = min(max(float(cast(float, starts[index])), cursor), span.end_s)
            end = min(max(float(cast(float, ends[index])), start), span.end_s)
            result.append((start, end, False))
            cursor = end
            index += 1
            continue
        run_end = index
        while run_end < count and not known[run_end]:
            run_end += 1
        next_start = span.end_s if run_end == count else float(cast(float, starts[run_end]))
        gap_end = min(max(next_start, cursor), span.end_s)
        step = (gap_end - cursor) / (run_end - index)
        for k in range(run_end - index):
            result.append((cursor + k * step, cursor + (k + 1) * step, not is_unspoken(words[index + k])))
        cursor = gap_end
        index = run_end
    return result


def alignment_warnings(
    words: Sequence[AlignedWord], spoken: Sequence[AlignedWord], characters: bool, aligner_name: str
) -> list[str]:
    """What the caller should know about the timings: words that were interpolated, character timings asked for
    from an aligner that has none."""
    warnings = []
    interpolated = sum(word.interpolated for word in words)
    if interpolated:
        warnings.append(
            f"{interpolated} of {len(words)} words could not be placed by the aligner and were timed between their "
            "neighbours (words[].interpolated)"
        )
    return warnings + characters_warnings(spoken, characters, aligner_name)


def characters_warnings(spoken: Sequence[AlignedWord], characters: bool, aligner_name: str) -> list[str]:
    """Character timings asked for from an aligner that has none."""
    if characters and any(word.chars is None and not word.interpolated for word in spoken):
        return [f"character timings are not available from the {aligner_name} aligner"]
    return []


def retime_flagged(
    words: Sequence[AlignedWord], samples: np.ndarray, sample_rate_hz: int, aligner: Aligner, language: str
) -> list[AlignedWord]:
    """An engine's word times with each group of words it spoke as one re-timed by `aligner` inside the group's
    span; every other word as the engine timed it.

    An engine may speak a few words as one (eSpeak NG: one event for "as it is"): it shares their sound by length
    and flags the words after the first. A group is such a flagged run with the word before it, spoken from that
    word's start to the run's end. A word stays flagged only if the aligner cannot place it either; a group the
    aligner places no word of keeps the engine's times.
    """
    groups = [group for group in _shared_groups(words) if 0 < _span_s(words, group) <= MAX_SPAN_S]
    spans = [
        TextSpan(" ".join(words[index].text for index in group), words[group[0]].start_s, words[group[-1]].end_s)
        for group in groups
    ]
    aligned = iter(aligner.align(samples, sample_rate_hz, spans, language) if spans else [])
    retimed = list(words)
    for group in groups:
        guesses = [next(aligned) for _ in group]
        if any(not guess.interpolated for guess in guesses):
            retimed[group.start : group.stop] = _merged(words[group.start : group.stop], guesses)
    return retimed


def _merged(engine: Sequence[AlignedWord], aligned: Sequence[AlignedWord]) -> list[AlignedWord]:
    """A group's words as the aligner timed them, flagged only where neither placed the word; the first word keeps
    the engine's start, which its event gave exactly."""
    merged = [
        replace(guess, interpolated=word.interpolated and guess.interpolated)
        for word, guess in zip(engine, aligned, strict=True)
    ]
    merged[0] = replace(merged[0], start_s=engine[0].start_s)
    return merged


def _shared_groups(words: Sequence[AlignedWord]) -> list[range]:
    """Each run of flagged words with the unflagged word before it; flagged words before any unflagged one have no
    span from the engine and are left out."""
    groups = []
    first: int | None = None
    for index, word in enumerate([*words, None]):
        if word is None or not word.interpolated:
            if first is not None and index - first > 1:
                groups.append(range(first, index))
            first = index
    return groups


def _span_s(words: Sequence[AlignedWord], group: range) -> float:
    return words[group[-1]].end_s - words[group[0]].start_s
