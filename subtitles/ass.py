"""ASS (Advanced SubStation Alpha) for libass: karaoke, highlight, word-by-word or plain lines.

The document (script info, one style, the events) is built with the `ass` library; the text of each event, its
override tags and the escaping of the user's words are ours. Times are rounded once to centiseconds and every
time in the file derives from those integers, so the `ass` library (which truncates to centiseconds) writes them
unchanged. In karaoke, each word's `\\k` value is its own duration and every pause before a word is its own `\\k`
run with no text, so the highlight reaches a word exactly when it is spoken and the values of an event sum to the
event's duration. In highlight mode the whole cue stays on screen and the word being spoken, alone, takes the
highlight colour (and grows with `highlight_scale`) from its start until the next word starts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta

import ass

from subtitles.cues import Cue, SubtitleLayout
from subtitles.styles import ass_color, ass_style
from subtitles.timing import end_limit_centiseconds, to_centiseconds

WORD_JOINER = "\u2060"  # invisible; after a backslash it stops libass from reading an escape such as \N
STYLE_NAME = "Default"


def render_ass(cues: Sequence[Cue], layout: SubtitleLayout, audio_duration_s: float | None = None) -> str:
    """The whole file. With `audio_duration_s`, no event ends after the audio does."""
    document = ass.Document()
    width, height = layout.resolution
    document.info.update(
        {
            "ScriptType": "v4.00+",
            "PlayResX": width,
            "PlayResY": height,
            "WrapStyle": 2,  # wrap only at our own \N: cues.py already broke the lines to fit
            "ScaledBorderAndShadow": "yes",
            "YCbCr Matrix": "None",
        }
    )
    document.styles.append(ass_style(layout.style, layout.resolution, karaoke=layout.mode == "karaoke"))
    limit_cs = end_limit_centiseconds(audio_duration_s) if audio_duration_s is not None else None
    for cue in cues:
        document.events.extend(_cue_events(cue, layout, limit_cs))
    text = io.StringIO()
    document.dump_file(text)
    return text.getvalue()


def _cue_events(cue: Cue, layout: SubtitleLayout, limit_cs: int | None) -> list[ass.Dialogue]:
    start_cs, end_cs = _cue_span_centiseconds(cue, limit_cs)
    if layout.mode == "karaoke":
        return [_dialogue(start_cs, end_cs, _karaoke_text(cue, layout, start_cs, end_cs))]
    if layout.mode == "highlight":
        return _highlight_events(cue, layout, start_cs, end_cs)
    return [_dialogue(start_cs, end_cs, _cue_text(cue, layout))]


def _cue_span_centiseconds(cue: Cue, limit_cs: int | None) -> tuple[int, int]:
    start_cs = to_centiseconds(cue.start_s)
    end_cs = max(to_centiseconds(cue.end_s), start_cs + 1)  # libass skips events of zero length
    if limit_cs is not None and end_cs > limit_cs:
        end_cs = limit_cs
        start_cs = min(start_cs, end_cs - 1)
    return start_cs, end_cs


def _dialogue(start_cs: int, end_cs: int, text: str) -> ass.Dialogue:
    # Whole centiseconds as timedeltas: the library's truncation to centiseconds then changes nothing.
    return ass.Dialogue(
        layer=0,
        start=timedelta(milliseconds=start_cs * 10),
        end=timedelta(milliseconds=end_cs * 10),
        style=STYLE_NAME,
        text=text,
    )


def _shown(text: str, layout: SubtitleLayout) -> str:
    """A word as drawn: in capitals when asked, made inert for libass."""
    return escape(text.upper() if layout.uppercase else text)


def _cue_text(cue: Cue, layout: SubtitleLayout, lit_index: int | None = None, lit_tags: str = "") -> str:
    """The cue's lines; the word at `lit_index` (counted over the whole cue) is preceded by `lit_tags` and
    followed by a reset to the style, so only it changes."""
    lines: list[str] = []
    index = 0
    for line in cue.lines:
        shown: list[str] = []
        for word in line:
            text = _shown(word.text, layout)
            shown.append(f"{{{lit_tags}}}{text}{{\\r}}" if index == lit_index else text)
            index += 1
        lines.append(" ".join(shown))
    return "\\N".join(lines)


def _karaoke_text(cue: Cue, layout: SubtitleLayout, start_cs: int, end_cs: int) -> str:
    parts: list[str] = []
    cursor = start_cs
    for line_index, line in enumerate(cue.lines):
        if line_index:
            parts.append("\\N")
        for word_index, word in enumerate(line):
            word_start = min(max(to_centiseconds(word.start_s), cursor), end_cs)
            word_end = min(max(to_centiseconds(word.end_s), word_start), end_cs)
            if word_start > cursor:  # the pause is its own run, so the highlight waits for the word
                parts.append(f"{{\\k{word_start - cursor}}}")
            separator = " " if word_index < len(line) - 1 else ""
            parts.append(f"{{\\{layout.karaoke_tag}{word_end - word_start}}}{_shown(word.text, layout)}{separator}")
            cursor = word_end
    if end_cs > cursor:
        parts.append(f"{{\\k{end_cs - cursor}}}")
    return "".join(parts)


# Highlight mode writes one event per word (a slice of the cue's time) rather than one event whose words change
# colour through `\t` transforms. Both are exact to the centisecond in libass, but a `\t` anywhere in an event
# turns off libass's collision detection for it (ass_parse.c), so overlapping cues would be drawn over each other,
# and `\t(0,0,...)` means "across the whole event" there, a trap for a cue's first word. A slice is a still
# picture whose colours change on the event boundary, the same centisecond the karaoke timing uses, and players
# without `\t` support still show it. Only the optional scale pop uses `\t`, inside its word's own slice (so a
# popping word's event, alone, is not kept clear of an overlapping cue: overlaps need `allow_overlap`).


def _highlight_events(cue: Cue, layout: SubtitleLayout, start_cs: int, end_cs: int) -> list[ass.Dialogue]:
    """The cue's text over and over, one event per word: from the word's start until the next word's start
    (the highlight stays through a short pause instead of blinking off), the word in the highlight colour.
    Before the first word, if the cue starts earlier (clamped at the audio's end), nothing is lit."""
    words = cue.words
    starts: list[int] = []
    cursor = start_cs
    for word in words:
        cursor = min(max(to_centiseconds(word.start_s), cursor), end_cs)
        starts.append(cursor)
    events = []
    if starts[0] > start_cs:
        events.append(_dialogue(start_cs, starts[0], _cue_text(cue, layout)))
    for index, word in enumerate(words):
        slice_start, slice_end = starts[index], starts[index + 1] if index + 1 < len(words) else end_cs
        if slice_end <= slice_start:  # no centisecond of its own: the next word takes the highlight at once
            continue
        spoken_cs = min(max(to_centiseconds(word.end_s), slice_start), slice_end) - slice_start
        tags = _highlight_tags(layout, spoken_cs)
        events.append(_dialogue(slice_start, slice_end, _cue_text(cue, layout, lit_index=index, lit_tags=tags)))
    return events


def _highlight_tags(layout: SubtitleLayout, spoken_cs: int) -> str:
    """The highlight colour, and with `highlight_scale` > 1 a pop: the word grows until the middle of its own
    duration and is back to its size when it ends. `\\t` times count from the event's start (the word's)."""
    colour = ass_color(layout.style.primary)
    tags = f"\\1c&H{colour.b:02X}{colour.g:02X}{colour.r:02X}&\\1a&H{colour.a:02X}&"
    spoken_ms = spoken_cs * 10
    percent = round(layout.highlight_scale * 100)
    if percent > 100 and spoken_ms > 0:
        middle_ms = spoken_ms // 2  # at least 5: a \t ending at 0 would stretch over the whole event
        tags += f"\\t(0,{middle_ms},\\fscx{percent}\\fscy{percent})\\t({middle_ms},{spoken_ms},\\fscx100\\fscy100)"
    return tags


def escape(text: str) -> str:
    """Make user text inert in libass: braces become its literal escapes `\\{` `\\}`, a backslash is followed
    by an invisible word joiner (so `\\N`, `\\h` or `\\{` cannot form), and line breaks become spaces."""
    text = text.replace("\\", "\\" + WORD_JOINER)
    text = text.replace("{", "\\{").replace("}", "\\}")
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def unescape(text: str) -> str:
    """The user's text back from `escape` (for tests and tools that read our files)."""
    return text.replace("\\{", "{").replace("\\}", "}").replace("\\" + WORD_JOINER, "\\")
