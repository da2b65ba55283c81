"""Group timed words into lines and cues (what is on screen together), and time each cue on screen.

Rules, in order of strength:
- a cue never spans a sentence end or a long pause (`PAUSE_BREAK_S`), so text never lingers over silence;
- lines hold at most `max_chars_per_line` display columns (CJK and emoji count two, combining marks none), fewer
  if the style's font is too large for that many to fit the frame; a full line breaks after the last
  punctuation or pause in its second half rather than mid-phrase;
- a cue holds at most `max_lines` lines and lasts at most `max_duration_s` (longer ones are split);
- a cue stays on screen at least `min_duration_s`, but never into the next cue (unless `allow_overlap`) and
  never past the end of the audio.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from subtitles.styles import PRESETS, Style, columns_that_fit
from subtitles.timing import end_limit_centiseconds, to_centiseconds

SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
CLAUSE_END = (",", ";", ":", "—", "–", "，", "；", "：", "、")
PAUSE_BREAK_S = 0.7  # a silence this long ends a cue
SOFT_PAUSE_S = 0.25  # a silence this long is a good place for a line break


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
    min_duration_s: float = 0.6
    max_duration_s: float = 7.0
    allow_overlap: bool = False
    resolution: tuple[int, int] = (1920, 1080)
    style: Style = field(default_factory=lambda: PRESETS["classic"])


@dataclass(frozen=True)
class Cue:
    """Words shown together, as lines, from the first word's start until `end_s` (at least the last word's end)."""

    lines: tuple[tuple[TimedWord, ...], ...]
    end_s: float

    @property
    def words(self) -> tuple[TimedWord, ...]:
        return tuple(word for line in self.lines for word in line)

    @property
    def start_s(self) -> float:
        return self.lines[0][0].start_s

    @property
    def text(self) -> str:
        return "\n".join(" ".join(word.text for word in line) for line in self.lines)


def display_width(text: str) -> int:
    """Columns the text takes on screen: wide (CJK, emoji) characters count 2, combining marks 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        wide = unicodedata.east_asian_width(char) in ("W", "F") or ord(char) >= 0x1F000
        width += 2 if wide else 1
    return width


def build_cues(words: Sequence[TimedWord], layout: SubtitleLayout, audio_duration_s: float | None = None) -> list[Cue]:
    """Cues in time order; every word appears in exactly one cue, in order."""
    groups: list[list[list[TimedWord]]] = []  # cues, each a list of lines
    if layout.mode == "word":
        groups = [[[word]] for word in words]
    else:
        for phrase in _phrases(words):
            groups.extend(_split_long(_cue_lines(phrase, layout), layout))
    end_limit = audio_duration_s if audio_duration_s is not None else float("inf")
    limit_cs = end_limit_centiseconds(audio_duration_s) if audio_duration_s is not None else None
    cues: list[Cue] = []
    for index, lines in enumerate(groups):
        last_end = lines[-1][-1].end_s
        end = max(last_end, lines[0][0].start_s + layout.min_duration_s)
        if index + 1 < len(groups) and not layout.allow_overlap:
            end = min(end, groups[index + 1][0][0].start_s)
        cue = Cue(lines=tuple(tuple(line) for line in lines), end_s=min(max(end, last_end), end_limit))
        previous = cues[-1] if cues else None
        no_room = to_centiseconds(previous.end_s) <= to_centiseconds(previous.start_s) if previous else False
        too_late = limit_cs is not None and to_centiseconds(cue.start_s) >= limit_cs
        if previous is not None and (no_room or too_late):
            # No centisecond of its own for one of them (words with no duration, or at the audio's very end):
            # show them together.
            joined = previous.lines[:-1] + (previous.lines[-1] + cue.lines[0],) + cue.lines[1:]
            cue = Cue(lines=joined, end_s=max(previous.end_s, cue.end_s))
            cues.pop()
        cues.append(cue)
    return cues


def _phrases(words: Sequence[TimedWord]) -> list[list[TimedWord]]:
    phrases: list[list[TimedWord]] = [[]]
    for index, word in enumerate(words):
        phrases[-1].append(word)
        following = words[index + 1] if index + 1 < len(words) else None
        if following is not None and (
            word.text.endswith(SENTENCE_END) or following.start_s - word.end_s >= PAUSE_BREAK_S
        ):
            phrases.append([])
    return [phrase for phrase in phrases if phrase]


def _cue_lines(phrase: list[TimedWord], layout: SubtitleLayout) -> list[list[TimedWord]]:
    # The caller's limit, or fewer columns when the font is too large for that many to fit the frame.
    max_width = min(layout.max_chars_per_line, columns_that_fit(layout.style, layout.resolution))
    lines: list[list[TimedWord]] = []
    line: list[TimedWord] = []
    for word in phrase:
        if line and _line_width([*line, word]) > max_width:
            cut = _best_break(line, max_width)
            lines.append(line[:cut])
            line = line[cut:]
        line.append(word)
    if line:
        lines.append(line)
    return lines


def _best_break(line: list[TimedWord], max_width: int) -> int:
    """Where a full line ends: after the last clause end or pause in its second half, else after all of it."""
    for index in range(len(line) - 1, 0, -1):
        before, after = line[index - 1], line[index]
        good = before.text.endswith(CLAUSE_END + SENTENCE_END) or after.start_s - before.end_s >= SOFT_PAUSE_S
        if good and _line_width(line[:index]) >= max_width // 2:
            return index
    return len(line)


def _split_long(lines: list[list[TimedWord]], layout: SubtitleLayout) -> list[list[list[TimedWord]]]:
    """Pack lines into cues of at most `max_lines` lines and `max_duration_s`, splitting a too-long line too."""
    pieces: list[list[TimedWord]] = []
    for line in lines:
        current: list[TimedWord] = []
        for word in line:
            if current and word.end_s - current[0].start_s > layout.max_duration_s:
                pieces.append(current)
                current = []
            current.append(word)
        pieces.append(current)
    cues: list[list[list[TimedWord]]] = []
    for piece in pieces:
        last = cues[-1] if cues else None
        if (
            last is not None
            and len(last) < layout.max_lines
            and piece[-1].end_s - last[0][0].start_s <= layout.max_duration_s
        ):
            last.append(piece)
        else:
            cues.append([piece])
    return cues


def _line_width(line: Sequence[TimedWord]) -> int:
    return sum(display_width(word.text) for word in line) + len(line) - 1
