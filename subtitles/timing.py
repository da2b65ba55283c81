"""Time formatting for each subtitle format. ASS counts centiseconds; SRT and WebVTT milliseconds."""

from __future__ import annotations

import math


def to_centiseconds(seconds: float) -> int:
    """Round once to ASS's resolution; every ASS time and `\\k` value derives from these integers."""
    return max(0, round(seconds * 100))


def end_limit_centiseconds(audio_duration_s: float) -> int:
    """The last centisecond an event may end on: never after the audio, never before the first centisecond."""
    return max(1, math.floor(audio_duration_s * 100 + 1e-6))


def ass_time(centiseconds: int) -> str:
    hours, rest = divmod(centiseconds, 360_000)
    minutes, rest = divmod(rest, 6_000)
    secs, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{cs:02d}"


def _hms_ms(seconds: float) -> tuple[int, int, int, int]:
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return hours, minutes, secs, ms


def srt_time(seconds: float) -> str:
    h, m, s, ms = _hms_ms(seconds)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def vtt_time(seconds: float) -> str:
    h, m, s, ms = _hms_ms(seconds)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
