"""Subtitles: timed words and layout options in, file text out. Pure: no I/O, no models.

cues = build_cues(words, layout)      # words grouped into lines and on-screen events
render_ass(cues, layout)              # karaoke / word / line ASS for libass
render_srt(cues), render_vtt(cues, karaoke=True), render_json(words, cues)
"""

from subtitles.ass import render_ass
from subtitles.cues import Cue, SubtitleLayout, TimedWord, build_cues, display_width
from subtitles.styles import PRESETS, Style
from subtitles.text_formats import render_json, render_srt, render_vtt

__all__ = [
    "PRESETS",
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
