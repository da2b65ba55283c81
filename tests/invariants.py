"""Checks that hold for any model, random weights included."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.text import units
from subtitles import Cue, SubtitleLayout, TimedWord, build_cues
from subtitles.checker import check_captions
from worker.contract import SynthesisResult

TIME_SLACK_S = 0.001  # results are rounded to milliseconds


def check_result(result: dict[str, Any], text: str) -> SynthesisResult:
    """The result matches the documented schema; words (units: common.text) are all there, in order, timed inside
    the audio."""
    parsed = SynthesisResult.model_validate(result)
    assert [word.text for word in parsed.words] == [unit for unit, _ in units(text)]  # Chinese: one per character
    duration = parsed.audio.duration_s
    previous_end = 0.0
    for word in parsed.words:
        assert 0.0 <= word.start_s <= word.end_s <= duration + TIME_SLACK_S, word
        assert word.start_s >= previous_end - TIME_SLACK_S, (word, previous_end)
        previous_end = word.end_s
    assert parsed.segments[0].start_s == 0.0
    assert abs(parsed.segments[-1].end_s - duration) <= TIME_SLACK_S
    for before, after in zip(parsed.segments, parsed.segments[1:], strict=False):
        assert before.end_s == after.start_s
    return parsed


def check_audio_file(path: Path, sample_rate_hz: int, duration_s: float, tolerance_s: float = 0.08) -> None:
    """The file decodes at the reported rate to (about) the reported length; lossy codecs pad a little."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=sample_rate:format=duration", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    info = json.loads(probe.stdout)
    assert int(info["streams"][0]["sample_rate"]) == sample_rate_hz
    assert abs(float(info["format"]["duration"]) - duration_s) <= tolerance_s


OVERRIDE_BLOCK = re.compile(r"(?<!\\)\{[^}]*\}")


def strip_tags(event_text: str) -> str:
    """An event's text as shown: override blocks removed, line breaks as spaces, escapes undone."""
    from subtitles.ass import unescape

    return unescape(OVERRIDE_BLOCK.sub("", event_text).replace("\\N", " "))


def check_ass_file(path: Path, word_count: int) -> None:
    """The ASS file parses back with the `ass` library, its events are ordered and hold every word."""
    import ass

    with path.open(encoding="utf-8-sig") as handle:
        document = ass.parse(handle)
    assert document.info["PlayResX"] and document.info["PlayResY"]
    events = list(document.events)
    assert events
    starts = [event.start for event in events]
    assert starts == sorted(starts)
    for before, after in zip(events, events[1:], strict=False):
        assert before.end <= after.start
    shown = [strip_tags(event.text).split() for event in events]
    assert sum(len(words) for words in shown) == word_count


def check_cues_hold_every_word_without_hard_violations(
    words: Sequence[TimedWord], layout: SubtitleLayout, duration_s: float
) -> list[Cue]:
    """Cues built from any timings hold every word once, in order, and break no hard caption rule."""
    cues = build_cues(words, layout, audio_duration_s=duration_s)
    assert [word for cue in cues for word in cue.words] == list(words)
    report = check_captions(cues, layout, audio_duration_s=duration_s)
    assert report.hard_count == 0, [violation for violation in report.violations if violation.hard]
    return cues
