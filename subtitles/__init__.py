"""Subtitles: timed words and layout options in, file text out. Pure: no I/O, no models.

cues = build_cues(words, layout)      # words grouped into lines and on-screen events
render_ass(cues, layout)              # karaoke / highlight / word / line ASS for libass
render_srt(cues), render_vtt(cues, karaoke=True), render_json(words, cues)   # each takes uppercase=True too
render_formats(words, layout, ["ass", "srt"], audio_duration_s)   # every file asked for, from the same cues
"""

from subtitles.ass import render_ass
from subtitles.cues import Cue, SubtitleLayout, TimedWord, build_cues, display_width
from subtitles.formats import ALL_FORMATS, CONTENT_TYPES, ENCODINGS, SubtitleFormat, render_formats
from subtitles.styles import PRESETS, Style
from subtitles.text_formats import render_json, render_srt, render_vtt

__all__ = [
    "ALL_FORMATS",
    "CONTENT_TYPES",
    "ENCODINGS",
    "PRESETS",
    "SubtitleFormat",
    "render_formats",
    "Cue",
    "Style",
    "display_width",
    "SubtitleLayout",
    "TimedWord",
    "build_cues",
    "render_ass",
    "render_json",
    "render_srt",
    "render_vtt",
]
