"""Subtitles are pure: timed words in, text out. These tests read the text back with real parsers."""

from __future__ import annotations

import io
import json
import re

import ass
import pytest

from subtitles import SubtitleLayout, TimedWord, build_cues, render_ass, render_json, render_srt, render_vtt
from subtitles.timing import ass_time, srt_time, to_centiseconds, vtt_time

WORDS = [
    TimedWord("Hello", 0.10, 0.42),
    TimedWord("world,", 0.50, 0.91),
    TimedWord("again.", 1.00, 1.40),
    TimedWord("After", 2.50, 2.80),  # a long pause before: a new cue
    TimedWord("the", 2.85, 2.95),
    TimedWord("pause.", 3.00, 3.55),
]


def parse_ass(text: str) -> ass.Document:
    return ass.parse(io.StringIO(text))


def karaoke_values(event_text: str) -> list[int]:
    return [int(value) for value in re.findall(r"\\k[fo]?(\d+)", event_text)]


@pytest.mark.parametrize(
    ("seconds", "ass_text", "srt_text", "vtt_text"),
    [
        (0.0, "0:00:00.00", "00:00:00,000", "00:00:00.000"),
        (1.005, "0:00:01.00", "00:00:01,005", "00:00:01.005"),
        (61.239, "0:01:01.24", "00:01:01,239", "00:01:01.239"),
        (3725.5, "1:02:05.50", "01:02:05,500", "01:02:05.500"),
    ],
)
def test_times_are_formatted_for_each_format(seconds, ass_text, srt_text, vtt_text):
    assert ass_time(to_centiseconds(seconds)) == ass_text
    assert srt_time(seconds) == srt_text
    assert vtt_time(seconds) == vtt_text


def test_karaoke_values_sum_to_each_events_duration_and_pauses_are_their_own_runs():
    layout = SubtitleLayout()
    document = parse_ass(render_ass(build_cues(WORDS, layout), layout))
    events = list(document.events)
    assert len(events) == 2
    for event in events:
        duration_cs = round((event.end - event.start).total_seconds() * 100)
        assert sum(karaoke_values(event.text)) == duration_cs
    # "world," starts 8 cs after "Hello" ends: that gap is a plain \k before the word's own \kf.
    assert events[0].text.startswith("{\\kf32}Hello {\\k8}{\\kf41}world,")


def test_the_ass_header_is_filled_from_the_resolution():
    layout = SubtitleLayout(resolution=(1080, 1920))
    document = parse_ass(render_ass(build_cues(WORDS, layout), layout))
    assert document.info["ScriptType"] == "v4.00+"
    assert (int(document.info["PlayResX"]), int(document.info["PlayResY"])) == (1080, 1920)
    assert document.styles[0].name == "Default"


def test_lines_respect_the_character_limit_and_cues_the_line_limit():
    words = [TimedWord(f"word{n}", n * 0.3, n * 0.3 + 0.25) for n in range(20)]
    layout = SubtitleLayout(max_chars_per_line=16, max_lines=2)
    cues = build_cues(words, layout)
    assert [word for cue in cues for word in cue.words] == words
    for cue in cues:
        assert len(cue.lines) <= 2
        assert all(len(" ".join(word.text for word in line)) <= 16 for line in cue.lines)


def test_word_mode_gives_one_event_per_word_and_line_mode_has_no_karaoke_tags():
    word_layout = SubtitleLayout(mode="word")
    assert len(list(parse_ass(render_ass(build_cues(WORDS, word_layout), word_layout)).events)) == len(WORDS)
    line_layout = SubtitleLayout(mode="line")
    line_events = list(parse_ass(render_ass(build_cues(WORDS, line_layout), line_layout)).events)
    assert all("{" not in event.text for event in line_events)


def test_user_text_cannot_inject_override_tags():
    words = [TimedWord("{\\fs200}big", 0.0, 0.5), TimedWord("back\\Nslash}", 0.6, 1.0)]
    layout = SubtitleLayout()
    event = next(iter(parse_ass(render_ass(build_cues(words, layout), layout)).events))
    stripped = re.sub(r"\{\\k[fo]?\d+\}", "", event.text)
    assert "{" not in stripped and "}" not in stripped and "\\" not in stripped


def test_srt_and_vtt_cues_carry_the_words_and_vtt_has_inline_word_times():
    cues = build_cues(WORDS, SubtitleLayout())
    srt = render_srt(cues)
    assert srt.startswith("1\n00:00:00,100 --> 00:00:01,400\nHello world, again.\n")
    vtt = render_vtt(cues)
    assert vtt.startswith("WEBVTT\n")
    assert "<00:00:00.500><c>world,</c>" in vtt
    document = json.loads(render_json(WORDS, cues))
    assert [cue["word_indices"] for cue in document["cues"]] == [[0, 1, 2], [3, 4, 5]]
    assert document["words"][3] == {"text": "After", "start_s": 2.5, "end_s": 2.8}
