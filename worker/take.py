"""The take: a plan's segments, once spoken, joined with its pauses into one audio, and who says what where.

    assemble(plan, spoken) → Take: the speech (chunk spans and engine word times moved to where they land), the
    map from spoken to written words, each written word's and each chunk's speaker, and each line's span

The voices of a script are levelled to one loudness first (audio.level_voices), so a guest does not
come in louder than the host. Pauses are exact silences and belong to no chunk, so no aligner looks at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from audio import level_voices
from tts import Speech
from tts.dsp import concatenate
from tts.normalize import TextMap
from worker.plan import Line, Pause, Plan, Segment


@dataclass(frozen=True)
class LineSpan:
    """Where one line of the plan lies in the take: its samples and its written words (indices into the take's)."""

    line: Line
    start_sample: int
    end_sample: int
    first_word: int
    word_count: int


@dataclass(frozen=True)
class Take:
    speech: Speech
    text_map: TextMap  # every segment's map, joined in order
    word_speakers: tuple[str | None, ...]  # one per written word of `text_map`
    chunk_speakers: tuple[str | None, ...]  # one per chunk of `speech`
    lines: tuple[LineSpan, ...]


@dataclass(frozen=True)
class SpokenSegment:
    segment: Segment
    speech: Speech
    text_map: TextMap


def assemble(plan: Plan, spoken: Sequence[SpokenSegment]) -> Take:
    """The take of `plan`, whose segments were spoken as `spoken` (in the plan's order)."""
    rate = spoken[0].speech.sample_rate_hz
    voices = [(item.segment.speaker, item.segment.voice, item.segment.options.voice_name) for item in spoken]
    levelled = level_voices([item.speech.samples for item in spoken], voices, rate)
    said = iter(
        replace(item, speech=replace(item.speech, samples=samples))
        for item, samples in zip(spoken, levelled, strict=True)
    )

    pieces: list[Speech] = []
    maps: list[TextMap] = []
    word_speakers: list[str | None] = []
    chunk_speakers: list[str | None] = []
    spans: dict[int, list[int]] = {}  # line index → [start sample, end sample, first word, word count]
    position = 0
    for part in plan.parts:
        if isinstance(part, Pause):
            piece = Speech(np.zeros(round(part.duration_s * rate), np.float32), rate, chunks=(), word_times=())
            words = 0
        else:
            item = next(said)
            piece, words = item.speech, len(item.text_map.written)
            maps.append(item.text_map)
            word_speakers += [part.speaker] * words
            chunk_speakers += [part.speaker] * len(piece.chunks)
        if part.line is not None:
            span = spans.setdefault(part.line, [position, position, len(word_speakers) - words, 0])
            span[1] = position + len(piece.samples)
            span[3] += words
        pieces.append(piece)
        position += len(piece.samples)
    lines = tuple(LineSpan(line, *spans[line.index]) for line in plan.lines)
    return Take(
        speech=concatenate(pieces),
        text_map=TextMap.join(maps),
        word_speakers=tuple(word_speakers),
        chunk_speakers=tuple(chunk_speakers),
        lines=lines,
    )
