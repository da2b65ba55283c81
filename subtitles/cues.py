"""Group timed words into lines and cues (what is on screen together)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
PAUSE_BREAK_S = 0.7  # a silence this long ends a cue, so text never lingers over a pause


@dataclass(frozen=True)
class TimedWord:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SubtitleLayout:
    mode: Literal["karaoke", "word", "line"] = "karaoke"
    karaoke_tag: Literal["k", "kf", "ko"] = "kf"
    max_chars_per_line: int = 42
    max_lines: int = 2
    resolution: tuple[int, int] = (1920, 1080)


@dataclass(frozen=True)
class Cue:
    """Words shown together, as lines. Times span the first word's start to the last word's end."""

    lines: tuple[tuple[TimedWord, ...], ...]

    @property
    def words(self) -> tuple[TimedWord, ...]:
        return tuple(word for line in self.lines for word in line)

    @property
    def start_s(self) -> float:
        return self.lines[0][0].start_s

    @property
    def end_s(self) -> float:
        return self.lines[-1][-1].end_s

    @property
    def text(self) -> str:
        return "\n".join(" ".join(word.text for word in line) for line in self.lines)


def build_cues(words: Sequence[TimedWord], layout: SubtitleLayout) -> list[Cue]:
    """Lines fill up to `max_chars_per_line`; a cue ends when it has `max_lines` lines, after a sentence,
    or before a long pause. In word mode every word is its own cue."""
    if layout.mode == "word":
        return [Cue(lines=((word,),)) for word in words]
    cues: list[Cue] = []
    lines: list[tuple[TimedWord, ...]] = []
    line: list[TimedWord] = []
    for index, word in enumerate(words):
        if line and _width(line) + 1 + len(word.text) > layout.max_chars_per_line:
            lines.append(tuple(line))
            line = []
            if len(lines) == layout.max_lines:
                cues.append(Cue(lines=tuple(lines)))
                lines = []
        line.append(word)
        following = words[index + 1] if index + 1 < len(words) else None
        if following is None or word.text.endswith(SENTENCE_END) or following.start_s - word.end_s >= PAUSE_BREAK_S:
            lines.append(tuple(line))
            cues.append(Cue(lines=tuple(lines)))
            lines, line = [], []
    return cues


def _width(line: Sequence[TimedWord]) -> int:
    return sum(len(word.text) for word in line) + len(line) - 1
