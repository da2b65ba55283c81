"""Subtitles: timed words and layout options in, file text out. Pure: no I/O, no models.

cues = build_cues(words, layout)      # words grouped into lines and on-screen events
render_ass(cues, layout)              # karaoke / highlight / word / line ASS for libass
render_srt(cues), render_vtt(cues, karaoke=True), render_json(words, cues)   # each takes uppercase=True too
render_formats(words, layout, ["ass", "srt"], audio_duration_s)   # every file asked for, from the same cues

Scripts: words carry a `speaker`; `speaker_looks(style, speakers, overrides, labels)` gives each speaker a label
and a style (a highlight colour from the palette) for `SubtitleLayout(speakers=..., name_prefix=True)`. A cue
never spans two speakers; every format names who speaks.

Chinese and Japanese: a word is a character (`glued` to the one before: no space between them when shown);
`line_columns_for(language)` is the guides' line length for the language.
"""

from subtitles.ass import render_ass
from subtitles.cues import Cue, SubtitleLayout, TimedWord, build_cues, display_width, line_columns_for
from subtitles.formats import ALL_FORMATS, CONTENT_TYPES, ENCODINGS, SubtitleFormat, render_formats
from subtitles.styles import PRESETS, SpeakerLook, Style, speaker_looks
from subtitles.text_formats import render_json, render_srt, render_vtt

__all__ = [
    "ALL_FORMATS",
    "CONTENT_TYPES",
    "ENCODINGS",
    "PRESETS",
    "SubtitleFormat",
    "render_formats",
    "Cue",
    "SpeakerLook",
    "Style",
    "display_width",
    "line_columns_for",
    "SubtitleLayout",
    "TimedWord",
    "build_cues",
    "render_ass",
    "render_json",
    "render_srt",
    "render_vtt",
    "speaker_looks",
]
