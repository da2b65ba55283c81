"""Forced alignment: the known text and the audio → when each word is spoken.

`Aligner` is the interface the pipeline uses; `alignment.wav2vec2.Wav2Vec2Aligner` implements it with a wav2vec2
CTC model and `alignment.ctc`, which finds the same path as `whisperx.align`, faster. Every word of the text
comes back, in order: a word the model could not place gets a time interpolated between its neighbours and
`interpolated=True`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np

from common.errors import InternalError

__all__ = [
    "MAX_SPAN_S",
    "AlignedChar",
    "AlignedWord",
    "Aligner",
    "TextSpan",
    "alignment_warnings",
    "fill_missing_times",
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
    between their known neighbours evenly.
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
            result.append((cursor + k * step, cursor + (k + 1) * step, True))
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
    if characters and any(word.chars is None and not word.interpolated for word in spoken):
        warnings.append(f"character timings are not available from the {aligner_name} aligner")
    return warnings
