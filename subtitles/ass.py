"""ASS (Advanced SubStation Alpha) for libass: karaoke, word-by-word or plain lines.

Times are rounded once to centiseconds. In karaoke, each word's `\\k` value is its own duration and every pause
before a word is its own `\\k` run with no text, so the highlight reaches a word exactly when it is spoken and
the values of an event sum to the event's duration.
"""

from __future__ import annotations

from collections.abc import Sequence

from subtitles.cues import Cue, SubtitleLayout
from subtitles.styles import style_line
from subtitles.timing import ass_time, end_limit_centiseconds, to_centiseconds

WORD_JOINER = "\u2060"  # invisible; after a backslash it stops libass from reading an escape such as \N


def render_ass(cues: Sequence[Cue], layout: SubtitleLayout, audio_duration_s: float | None = None) -> str:
    """The whole file. With `audio_duration_s`, no event ends after the audio does."""
    width, height = layout.resolution
    header = [
        "[Script Info]",
        "; Written by f5-tts-runpod-worker",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
        style_line(layout.style, layout.resolution, karaoke=layout.mode == "karaoke"),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    limit_cs = end_limit_centiseconds(audio_duration_s) if audio_duration_s is not None else None
    events = [_dialogue(cue, layout, limit_cs) for cue in cues]
    return "\n".join(header + events) + "\n"


def _dialogue(cue: Cue, layout: SubtitleLayout, limit_cs: int | None) -> str:
    start_cs = to_centiseconds(cue.start_s)
    end_cs = max(to_centiseconds(cue.end_s), start_cs + 1)  # libass skips events of zero length
    if limit_cs is not None and end_cs > limit_cs:
        end_cs = limit_cs
        start_cs = min(start_cs, end_cs - 1)
    if layout.mode == "karaoke":
        text = _karaoke_text(cue, layout.karaoke_tag, start_cs, end_cs)
    else:
        text = "\\N".join(" ".join(escape(word.text) for word in line) for line in cue.lines)
    return f"Dialogue: 0,{ass_time(start_cs)},{ass_time(end_cs)},Default,,0,0,0,,{text}"


def _karaoke_text(cue: Cue, tag: str, start_cs: int, end_cs: int) -> str:
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
            parts.append(f"{{\\{tag}{word_end - word_start}}}{escape(word.text)}{separator}")
            cursor = word_end
    if end_cs > cursor:
        parts.append(f"{{\\k{end_cs - cursor}}}")
    return "".join(parts)


def escape(text: str) -> str:
    """Make user text inert in libass: braces become its literal escapes `\\{` `\\}`, a backslash is followed
    by an invisible word joiner (so `\\N`, `\\h` or `\\{` cannot form), and line breaks become spaces."""
    text = text.replace("\\", "\\" + WORD_JOINER)
    text = text.replace("{", "\\{").replace("}", "\\}")
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def unescape(text: str) -> str:
    """The user's text back from `escape` (for tests and tools that read our files)."""
    return text.replace("\\{", "{").replace("\\}", "}").replace("\\" + WORD_JOINER, "\\")
