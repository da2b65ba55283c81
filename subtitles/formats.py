"""Every subtitle file of a take at once: the cues are built once and rendered in each format asked for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from subtitles.ass import render_ass
from subtitles.cues import SubtitleLayout, TimedWord, build_cues
from subtitles.text_formats import render_json, render_srt, render_vtt

SubtitleFormat = Literal["ass", "srt", "vtt", "json"]
ALL_FORMATS: tuple[SubtitleFormat, ...] = ("ass", "srt", "vtt", "json")
CONTENT_TYPES: dict[SubtitleFormat, str] = {
    "ass": "text/x-ssa; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}
# libass and most editors expect a BOM on UTF-8 ASS files.
ENCODINGS: dict[SubtitleFormat, str] = {"ass": "utf-8-sig", "srt": "utf-8", "vtt": "utf-8", "json": "utf-8"}


def render_formats(
    words: Sequence[TimedWord], layout: SubtitleLayout, formats: Sequence[SubtitleFormat], audio_duration_s: float
) -> dict[SubtitleFormat, str]:
    """The text of each file in `formats`, from the same cues. With `layout.uppercase` every file displays
    capitals; the JSON's `words` keep the text as written. Speakers are named by `layout.speakers`' labels."""
    cues = build_cues(words, layout, audio_duration_s=audio_duration_s)
    # Karaoke and highlight both follow each word as it is spoken: WebVTT says so with inline word timestamps.
    word_timed = layout.mode in ("karaoke", "highlight")
    renderers = {
        "ass": lambda: render_ass(cues, layout, audio_duration_s=audio_duration_s),
        "srt": lambda: render_srt(cues, uppercase=layout.uppercase, labels=layout.labels),
        "vtt": lambda: render_vtt(cues, karaoke=word_timed, uppercase=layout.uppercase, labels=layout.labels),
        "json": lambda: render_json(words, cues, uppercase=layout.uppercase),
    }
    return {kind: renderers[kind]() for kind in formats}
