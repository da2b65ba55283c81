"""Signal tools of the speech stage: shortening pauses in generated speech, and joining speech.

Anything that removes audio returns a `SampleMap`, so times measured in the original (chunk spans, an engine's
word times) can be carried into the shortened audio exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from common.dsp import silent_runs
from tts import ChunkSpan, Speech


@dataclass(frozen=True)
class SampleMap:
    """Where kept stretches of the original audio sit in the shortened audio.

    `kept[i] = (start, end)` in the original lands at `new_start[i]` in the new audio; removed stretches
    collapse to the point where the next kept stretch begins.
    """

    kept: tuple[tuple[int, int], ...]
    new_start: tuple[int, ...]
    new_length: int

    def __call__(self, sample: int) -> int:
        for (start, end), new in zip(self.kept, self.new_start, strict=True):
            if sample < start:
                return new
            if sample <= end:
                return new + sample - start
        return self.new_length

    @classmethod
    def identity(cls, length: int) -> SampleMap:
        return cls(kept=((0, length),), new_start=(0,), new_length=length)


def shorten_pauses(
    samples: np.ndarray, rate_hz: int, max_pause_s: float, edge_pad_s: float = 0.05
) -> tuple[np.ndarray, SampleMap]:
    """Shorten every silence longer than `max_pause_s` to `max_pause_s` (keeping its middle out, its edges in,
    so words keep their natural decay and onset) and trim leading/trailing silence to `edge_pad_s`."""
    keep_edge = int(max_pause_s * rate_hz) // 2
    removed: list[tuple[int, int]] = []
    for start, end in silent_runs(samples, rate_hz, min_silence_s=max_pause_s):
        if start == 0:
            removed.append((0, max(0, end - int(edge_pad_s * rate_hz))))
        elif end == len(samples):
            removed.append((min(len(samples), start + int(edge_pad_s * rate_hz)), len(samples)))
        else:
            removed.append((start + keep_edge, end - keep_edge))
    removed = [(start, end) for start, end in removed if end > start]
    if not removed:
        return samples, SampleMap.identity(len(samples))
    kept, new_start, position, cursor = [], [], 0, 0
    for start, end in removed:
        if start > cursor:
            kept.append((cursor, start))
            new_start.append(position)
            position += start - cursor
        cursor = end
    if cursor < len(samples):
        kept.append((cursor, len(samples)))
        new_start.append(position)
        position += len(samples) - cursor
    shortened = np.concatenate([samples[start:end] for start, end in kept])
    return shortened, SampleMap(kept=tuple(kept), new_start=tuple(new_start), new_length=position)


def without_long_pauses(speech: Speech, max_pause_s: float) -> Speech:
    """The speech with pauses shortened; chunk spans and any engine word times carried into the new audio."""
    samples, where = shorten_pauses(speech.samples, speech.sample_rate_hz, max_pause_s)
    rate = speech.sample_rate_hz
    chunks = tuple(ChunkSpan(c.text, where(c.start_sample), where(c.end_sample)) for c in speech.chunks)
    word_times = None
    if speech.word_times is not None:
        word_times = tuple(
            replace(w, start_s=where(round(w.start_s * rate)) / rate, end_s=where(round(w.end_s * rate)) / rate)
            for w in speech.word_times
        )
    return Speech(samples=samples, sample_rate_hz=rate, chunks=chunks, word_times=word_times)


def concatenate(parts: Sequence[Speech]) -> Speech:
    """Speech parts said one after another, as one take: chunk spans and engine word times moved to where each
    part lands (word times kept only when every part has them)."""
    if len(parts) == 1:
        return parts[0]
    rate = parts[0].sample_rate_hz
    if any(part.sample_rate_hz != rate for part in parts):
        raise ValueError("speech parts to join must share one sample rate")
    offsets = np.cumsum([0, *(len(part.samples) for part in parts)])
    chunks = tuple(
        ChunkSpan(chunk.text, chunk.start_sample + int(offset), chunk.end_sample + int(offset))
        for part, offset in zip(parts, offsets, strict=False)
        for chunk in part.chunks
    )
    word_times = None
    if all(part.word_times is not None for part in parts):
        word_times = tuple(
            replace(word, start_s=word.start_s + offset / rate, end_s=word.end_s + offset / rate)
            for part, offset in zip(parts, offsets, strict=False)
            for word in part.word_times or ()
        )
    samples = np.concatenate([part.samples for part in parts]).astype(np.float32, copy=False)
    return Speech(samples=samples, sample_rate_hz=rate, chunks=chunks, word_times=word_times)
