"""ASS (Advanced SubStation Alpha) for libass: karaoke, highlight, word-by-word or plain lines.

The document (script info, one style, the events) is built with the `ass` library; the text of each event, its
override tags and the escaping of the user's words are ours. Times are rounded once to centiseconds and every
time in the file derives from those integers, so the `ass` library (which truncates to centiseconds) writes them
unchanged. In karaoke, each word's `\\k` value is its own duration and every pause before a word is its own `\\k`
run with no text, so the highlight reaches a word exactly when it is spoken and the values of an event sum to the
event's duration. In highlight mode the whole cue stays on screen and the word being spoken, alone, takes the
highlight colour (and grows with `highlight_scale`) from its start until the next word starts. Chinese and
Japanese are timed per character, so each character is a run (or a highlighted word) of its own, with no space
before a glued one: `{\\kf20}我{\\kf20}们{\\kf20}用 {\\kf30}Python`.

Scripts: with `layout.speakers`, each speaker has a style of its own, named by its key, and words of no known
speaker keep "Default". Each event takes its cue's speaker's style, and the speaker's label as its Name (actor).
With `name_prefix`, a cue that starts a speaker's turn begins with `Label: ` in the speaker's highlight colour:
in karaoke a run of `\\k0` (lit from the event's start, the `\\k` values still sum to its duration), in the other
modes a colour override. Like the words, the label is escaped and in capitals with `uppercase`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import ass

from common.text import join_units
from subtitles.cues import Cue, SubtitleLayout, label_of, prefix_text, turn_starts
from subtitles.styles import Style, ass_color, ass_style
from subtitles.timing import end_limit_centiseconds, to_centiseconds

WORD_JOINER = "\u2060"  # invisible; after a backslash it stops libass from reading an escape such as \N
STYLE_NAME = "Default"
# Words of no known speaker, when a speaker's key is "Default" in any case (libass looks up every case of
# "Default" as "Default", so that speaker must take the name): a space keeps it apart from every speaker key.
NO_SPEAKER_STYLE_NAME = "No speaker"
NAME_FIELD_COMMA = "\u201a"  # looks like a comma; a real one would end the event's Name field


@dataclass(frozen=True)
class _Voice:
    """Who says a cue, as its events show it: the ASS style, the Name field, the style's look, and the label to
    write before the words (when the cue starts a speaker's turn and the layout asks for names)."""

    style_name: str
    actor: str
    style: Style
    prefix_label: str | None = None


def _style_names(layout: SubtitleLayout) -> tuple[str, dict[str, str]]:
    """The style of words with no known speaker, and each speaker's by key."""
    names = {
        look.name: STYLE_NAME if look.name.casefold() == STYLE_NAME.casefold() else look.name
        for look in layout.speakers
    }
    return (NO_SPEAKER_STYLE_NAME if STYLE_NAME in names.values() else STYLE_NAME), names


def _voices(cues: Sequence[Cue], layout: SubtitleLayout, fallback: str, names: dict[str, str]) -> list[_Voice]:
    """Each cue's voice: its speaker's style (by `names`) and label, else `fallback` and the layout's style."""
    looks = {look.name: look for look in layout.speakers}
    labels = layout.labels
    voices = []
    for cue, turn in zip(cues, turn_starts(cues), strict=True):
        look = looks.get(cue.speaker or "")
        label = label_of(cue.speaker, labels) if cue.speaker is not None else ""
        voices.append(
            _Voice(
                style_name=names[look.name] if look else fallback,
                actor=" ".join(label.split()).replace(",", NAME_FIELD_COMMA),  # one line, no field separator
                style=look.style if look else layout.style,
                prefix_label=label if turn and layout.name_prefix else None,
            )
        )
    return voices


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
    karaoke = layout.mode == "karaoke"
    fallback, names = _style_names(layout)
    document.styles.append(ass_style(layout.style, layout.resolution, karaoke, name=fallback))
    for look in layout.speakers:
        document.styles.append(ass_style(look.style, layout.resolution, karaoke, name=names[look.name]))
    limit_cs = end_limit_centiseconds(audio_duration_s) if audio_duration_s is not None else None
    for cue, voice in zip(cues, _voices(cues, layout, fallback, names), strict=True):
        document.events.extend(_cue_events(cue, layout, voice, limit_cs))
    text = io.StringIO()
    document.dump_file(text)
    return text.getvalue()


def _cue_events(cue: Cue, layout: SubtitleLayout, voice: _Voice, limit_cs: int | None) -> list[ass.Dialogue]:
    start_cs, end_cs = _cue_span_centiseconds(cue, limit_cs)
    if layout.mode == "karaoke":
        return [_dialogue(start_cs, end_cs, _karaoke_text(cue, layout, voice, start_cs, end_cs), voice)]
    if layout.mode == "highlight":
        return _highlight_events(cue, layout, voice, start_cs, end_cs)
    return [_dialogue(start_cs, end_cs, _cue_text(cue, layout, voice), voice)]


def _cue_span_centiseconds(cue: Cue, limit_cs: int | None) -> tuple[int, int]:
    start_cs = to_centiseconds(cue.start_s)
    end_cs = max(to_centiseconds(cue.end_s), start_cs + 1)  # libass skips events of zero length
    if limit_cs is not None and end_cs > limit_cs:
        end_cs = limit_cs
        start_cs = min(start_cs, end_cs - 1)
    return start_cs, end_cs


def _dialogue(start_cs: int, end_cs: int, text: str, voice: _Voice) -> ass.Dialogue:
    # Whole centiseconds as timedeltas: the library's truncation to centiseconds then changes nothing.
    return ass.Dialogue(
        layer=0,
        start=timedelta(milliseconds=start_cs * 10),
        end=timedelta(milliseconds=end_cs * 10),
        style=voice.style_name,
        name=voice.actor,
        text=text,
    )


def _shown(text: str, layout: SubtitleLayout) -> str:
    """A word as drawn: in capitals when asked, made inert for libass."""
    return escape(text.upper() if layout.uppercase else text)


def _colour_tags(colour: str) -> str:
    """Override tags that draw the text after them in `colour` (`#RRGGBB[AA]`)."""
    parsed = ass_color(colour)
    return f"\\1c&H{parsed.b:02X}{parsed.g:02X}{parsed.r:02X}&\\1a&H{parsed.a:02X}&"


def _name_prefix(layout: SubtitleLayout, voice: _Voice) -> str:
    """`Label: ` in the speaker's highlight colour before a turn's first words (outside karaoke), else nothing."""
    if voice.prefix_label is None:
        return ""
    label = _shown(prefix_text(voice.prefix_label).rstrip(), layout)
    return f"{{{_colour_tags(voice.style.primary)}}}{label}{{\\r}} "


def _cue_text(cue: Cue, layout: SubtitleLayout, voice: _Voice, lit_index: int | None = None, lit_tags: str = "") -> str:
    """The cue's lines after the name prefix; the word at `lit_index` (counted over the whole cue) is preceded by
    `lit_tags` and followed by a reset to the style, so only it changes."""
    lines: list[str] = []
    index = 0
    for line in cue.lines:
        shown: list[tuple[str, bool]] = []
        for word in line:
            text = _shown(word.text, layout)
            shown.append((f"{{{lit_tags}}}{text}{{\\r}}" if index == lit_index else text, word.glued))
            index += 1
        lines.append(join_units(shown))
    return _name_prefix(layout, voice) + "\\N".join(lines)


def _karaoke_text(cue: Cue, layout: SubtitleLayout, voice: _Voice, start_cs: int, end_cs: int) -> str:
    parts: list[str] = []
    if voice.prefix_label is not None:  # a run of no duration: lit in the speaker's colour from the start
        parts.append(f"{{\\k0}}{_shown(prefix_text(voice.prefix_label), layout)}")
    cursor = start_cs
    for line_index, line in enumerate(cue.lines):
        if line_index:
            parts.append("\\N")
        for word_index, word in enumerate(line):
            word_start = min(max(to_centiseconds(word.start_s), cursor), end_cs)
            word_end = min(max(to_centiseconds(word.end_s), word_start), end_cs)
            if word_start > cursor:  # the pause is its own run, so the highlight waits for the word
                parts.append(f"{{\\k{word_start - cursor}}}")
            # The space before the next word (none before a glued one) is lit with this word.
            separator = " " if word_index < len(line) - 1 and not line[word_index + 1].glued else ""
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


def _highlight_events(
    cue: Cue, layout: SubtitleLayout, voice: _Voice, start_cs: int, end_cs: int
) -> list[ass.Dialogue]:
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
        events.append(_dialogue(start_cs, starts[0], _cue_text(cue, layout, voice), voice))
    for index, word in enumerate(words):
        slice_start, slice_end = starts[index], starts[index + 1] if index + 1 < len(words) else end_cs
        if slice_end <= slice_start:  # no centisecond of its own: the next word takes the highlight at once
            continue
        spoken_cs = min(max(to_centiseconds(word.end_s), slice_start), slice_end) - slice_start
        tags = _highlight_tags(layout, voice.style, spoken_cs)
        text = _cue_text(cue, layout, voice, lit_index=index, lit_tags=tags)
        events.append(_dialogue(slice_start, slice_end, text, voice))
    return events


def _highlight_tags(layout: SubtitleLayout, style: Style, spoken_cs: int) -> str:
    """The style's highlight colour, and with `highlight_scale` > 1 a pop: the word grows until the middle of its
    own duration and is back to its size when it ends. `\\t` times count from the event's start (the word's)."""
    tags = _colour_tags(style.primary)
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
