"""ASS (Advanced SubStation Alpha) for libass: karaoke, word-by-word or plain lines.

Times are rounded once to centiseconds. In karaoke, each word's `\\k` value is its own duration and every pause
before a word is its own `\\k` run with no text, so the highlight reaches a word exactly when it is spoken and
the values of an event sum to the event's duration.
"""

from __future__ import annotations

from collections.abc import Sequence

from subtitles.cues import Cue, SubtitleLayout
from subtitles.timing import ass_time, to_centiseconds

# ASS colours are &HAABBGGRR. In karaoke, Primary is the spoken (highlighted) colour, Secondary the unspoken.
HIGHLIGHT = "&H0000D7FF"  # gold
BASE = "&H00FFFFFF"  # white
OUTLINE = "&H00000000"
SHADOW = "&H80000000"


def render_ass(cues: Sequence[Cue], layout: SubtitleLayout) -> str:
    width, height = layout.resolution
    font_size = max(8, round(height * 0.06))
    margin_v = round(height * 0.06)
    margin_h = round(width * 0.05)
    outline = max(1, round(font_size / 24))
    primary, secondary = (HIGHLIGHT, BASE) if layout.mode == "karaoke" else (BASE, BASE)
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
        f"Style: Default,Arial,{font_size},{primary},{secondary},{OUTLINE},{SHADOW},-1,0,0,0,100,100,0,0,1,"
        f"{outline},0,2,{margin_h},{margin_h},{margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = [_dialogue(cue, layout) for cue in cues]
    return "\n".join(header + events) + "\n"


def _dialogue(cue: Cue, layout: SubtitleLayout) -> str:
    start_cs = to_centiseconds(cue.start_s)
    end_cs = max(to_centiseconds(cue.end_s), start_cs + 1)
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
    """Make user text inert: braces open override blocks and backslashes start `\\N`-style escapes in libass."""
    return text.replace("\\", "\u29f5").replace("{", "\uff5b").replace("}", "\uff5d").replace("\n", " ")
