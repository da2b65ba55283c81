"""The builder before segmentation by cost: greedy cue building, kept verbatim as the anchor of
bench/captions.py.

Lines fill up to the width limit and break after the last clause end or pause in their second half; lines are
packed into cues of at most `max_lines` lines and `max_duration_s`; a cue never spans a sentence end or a long
pause. Timing on screen is the same as subtitles.cues.build_cues.
"""

from __future__ import annotations

from collections.abc import Sequence

from subtitles.cues import Cue, SubtitleLayout, TimedWord, display_width
from subtitles.styles import columns_that_fit
from subtitles.timing import end_limit_centiseconds, to_centiseconds

SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
CLAUSE_END = (",", ";", ":", "—", "–", "，", "；", "：", "、")
PAUSE_BREAK_S = 0.7  # a silence this long ends a cue
SOFT_PAUSE_S = 0.25  # a silence this long is a good place for a line break


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
