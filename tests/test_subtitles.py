"""Subtitles are pure: timed words in, text out. These tests read the text back with real parsers."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import ass
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subtitles import (
    PRESETS,
    SubtitleLayout,
    TimedWord,
    build_cues,
    display_width,
    render_ass,
    render_json,
    render_srt,
    render_vtt,
)
from subtitles.ass import escape, unescape
from subtitles.checker import check_captions
from subtitles.cues import MIN_GAP_S
from subtitles.styles import ass_colour
from subtitles.timing import ass_time, srt_time, to_centiseconds, vtt_time
from tests.invariants import strip_tags

WORDS = [
    TimedWord("Hello", 0.10, 0.42),
    TimedWord("world,", 0.50, 0.91),
    TimedWord("again.", 1.00, 1.40),
    TimedWord("After", 2.50, 2.80),  # a sentence end and a long pause before: a new cue
    TimedWord("the", 2.85, 2.95),
    TimedWord("pause.", 3.00, 3.55),
]


def parse_ass(text: str) -> ass.Document:
    return ass.parse(io.StringIO(text))


def karaoke_values(event_text: str) -> list[int]:
    return [int(value) for value in re.findall(r"\\k[fo]?(\d+)", event_text)]


def centiseconds(delta: timedelta) -> int:
    return round(delta.total_seconds() * 100)


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
    events = list(parse_ass(render_ass(build_cues(WORDS, layout), layout)).events)
    assert len(events) == 2
    for event in events:
        assert sum(karaoke_values(event.text)) == centiseconds(event.end - event.start)
    # "world," starts 8 cs after "Hello" ends: that gap is a plain \k before the word's own \kf.
    assert events[0].text.startswith("{\\kf32}Hello {\\k8}{\\kf41}world,")


def test_the_ass_header_is_filled_from_the_resolution_and_the_preset():
    layout = SubtitleLayout(resolution=(1080, 1920), style=PRESETS["shorts"])
    document = parse_ass(render_ass(build_cues(WORDS, layout), layout))
    assert document.info["ScriptType"] == "v4.00+"
    assert (int(document.info["PlayResX"]), int(document.info["PlayResY"])) == (1080, 1920)
    style = document.styles[0]
    assert style.name == "Default"
    assert style.alignment == 5
    assert style.fontsize == round(0.085 * 1920)


def test_style_overrides_change_only_what_they_name():
    style = PRESETS["classic"].with_overrides({"primary": "#FF0000", "alignment": 8, "size": 40, "font": "Serif"})
    layout = SubtitleLayout(style=style)
    parsed = parse_ass(render_ass(build_cues(WORDS, layout), layout)).styles[0]
    assert (parsed.fontname, parsed.fontsize, parsed.alignment) == ("Serif", 40, 8)
    assert (parsed.primary_color.r, parsed.primary_color.g, parsed.primary_color.b) == (255, 0, 0)
    assert parsed.outline == round(PRESETS["classic"].outline * 1080)


@pytest.mark.parametrize(
    ("colour", "expected"), [("#FFD700", "&H0000D7FF"), ("#00000080", "&H7F000000"), ("#12345600", "&HFF563412")]
)
def test_colours_are_written_as_ass_abgr_with_transparency(colour, expected):
    assert ass_colour(colour) == expected


@pytest.mark.parametrize(
    ("text", "width"), [("abc", 3), ("你好", 4), ("🎉a", 3), ("e\u0301", 1), ("\u200dx", 1), ("مرحبا", 5)]
)
def test_display_width_counts_wide_characters_twice_and_marks_not_at_all(text, width):
    assert display_width(text) == width


def test_lines_respect_the_width_limit_and_cues_the_line_limit():
    words = [TimedWord(f"word{n}", n * 0.3, n * 0.3 + 0.25) for n in range(20)]
    cues = build_cues(words, SubtitleLayout(max_chars_per_line=16, max_lines=2))
    assert [word for cue in cues for word in cue.words] == words
    for cue in cues:
        assert len(cue.lines) <= 2
        assert all(display_width(" ".join(word.text for word in line)) <= 16 for line in cue.lines)


def test_cjk_lines_are_measured_in_columns():
    words = [TimedWord("你好世界", n * 0.5, n * 0.5 + 0.4) for n in range(6)]
    cues = build_cues(words, SubtitleLayout(max_chars_per_line=20, max_lines=1))
    assert all(len(cue.lines[0]) == 2 for cue in cues)  # 8 + 1 + 8 = 17 columns; a third word would be 26


def test_a_full_line_breaks_after_a_comma_rather_than_mid_phrase():
    texts = "one two three four, five six seven".split()
    words = [TimedWord(text, n * 0.3, n * 0.3 + 0.25) for n, text in enumerate(texts)]
    cues = build_cues(words, SubtitleLayout(max_chars_per_line=28, max_lines=2))
    assert [" ".join(word.text for word in line) for line in cues[0].lines] == [
        "one two three four,",
        "five six seven",
    ]


def test_cues_last_at_least_the_minimum_but_end_two_frames_before_the_next_and_never_past_the_audio():
    words = [TimedWord("Quick.", 0.0, 0.1), TimedWord("Next.", 0.3, 0.4), TimedWord("Last.", 2.0, 2.1)]
    cues = build_cues(words, SubtitleLayout(min_duration_s=1.0), audio_duration_s=2.5)
    assert [cue.end_s for cue in cues] == [pytest.approx(0.3 - MIN_GAP_S), 1.3, 2.5]


def test_a_cue_before_back_to_back_speech_leaves_two_frames_early_but_never_before_its_last_word_is_half_said():
    layout = SubtitleLayout(max_words_per_cue=2, min_duration_s=0.2)
    long_last = [TimedWord("Go", 0.0, 0.4), TimedWord("now.", 0.4, 1.0), TimedWord("Then", 1.0, 1.3)]
    assert build_cues(long_last, layout)[0].end_s == pytest.approx(1.0 - MIN_GAP_S)
    short_last = [TimedWord("Go", 0.0, 0.88), TimedWord("now.", 0.90, 0.95), TimedWord("Then", 0.96, 1.3)]
    assert build_cues(short_last, layout)[0].end_s == pytest.approx(0.925)  # the middle of "now."


def test_cues_close_together_are_chained_two_frames_apart():
    words = [TimedWord("One.", 0.0, 1.0), TimedWord("Two.", 1.4, 2.0), TimedWord("Three.", 3.0, 3.5)]
    cues = build_cues(words, SubtitleLayout(min_duration_s=0.5))
    # 0.4 s apart: the first stays until two frames before the second; 1 s apart: the second leaves on time.
    assert [cue.end_s for cue in cues] == [pytest.approx(1.4 - MIN_GAP_S), 2.0, 3.5]
    overlapping = build_cues(words, SubtitleLayout(min_duration_s=1.0, allow_overlap=True), audio_duration_s=2.5)
    assert overlapping[0].end_s == 1.0


def test_a_cue_said_faster_than_it_can_be_read_stays_on_into_the_silence_after_it_but_not_into_the_next():
    said_fast = [TimedWord("Extraordinary", 0.0, 0.5), TimedWord("circumstances.", 0.5, 1.0)]  # 27 characters in 1 s
    alone = build_cues(said_fast, SubtitleLayout(min_duration_s=0.5))
    assert alone[0].end_s == pytest.approx(27 / 20)  # read at 20 characters a second
    capped = build_cues(said_fast, SubtitleLayout(min_duration_s=0.5, max_duration_s=1.2))
    assert capped[0].end_s == pytest.approx(1.2)
    followed = [*said_fast, TimedWord("Indeed.", 1.2, 1.6)]
    chained = build_cues(followed, SubtitleLayout(min_duration_s=0.5))
    assert len(chained) == 2 and chained[0].end_s == pytest.approx(1.2 - MIN_GAP_S)
    # Chinese reads at 9 characters a second: four characters said in 0.2 s stay 4/9 s.
    chinese = [
        TimedWord(char, 0.05 * index, 0.05 * (index + 1), glued=index > 0) for index, char in enumerate("你好世界")
    ]
    zh = SubtitleLayout(language="zh", min_duration_s=0.1)
    assert build_cues(chinese, zh)[0].end_s == pytest.approx(4 / 9)
    for words, layout in ((said_fast, SubtitleLayout(min_duration_s=0.5)), (chinese, zh)):
        report = check_captions(build_cues(words, layout), layout)
        assert not [violation for violation in report.violations if violation.rule == "reading_speed"]


def test_cues_longer_than_the_maximum_are_split():
    words = [TimedWord(f"w{n}", n * 1.0, n * 1.0 + 0.9) for n in range(12)]  # one long phrase, no punctuation
    cues = build_cues(words, SubtitleLayout(max_duration_s=4.0, max_chars_per_line=200))
    assert len(cues) >= 3
    assert all(cue.words[-1].end_s - cue.start_s <= 4.0 for cue in cues)


def test_word_mode_gives_one_event_per_word_and_line_mode_has_no_karaoke_tags():
    word_layout = SubtitleLayout(mode="word")
    assert len(list(parse_ass(render_ass(build_cues(WORDS, word_layout), word_layout)).events)) == len(WORDS)
    line_layout = SubtitleLayout(mode="line")
    line_events = list(parse_ass(render_ass(build_cues(WORDS, line_layout), line_layout)).events)
    assert all("{" not in event.text for event in line_events)


@pytest.mark.parametrize("text", ["{\\fs200}big", "back\\Nslash}", "\\{", "a\\", "{}", "x\\h\\n"])
def test_user_text_is_escaped_so_it_cannot_open_a_tag_and_comes_back_unchanged(text):
    escaped = escape(text)
    assert re.search(r"(?<!\\)\{", escaped) is None  # no unescaped brace: libass sees no override block
    assert re.search(r"\\[Nnh]", escaped) is None  # no libass escape sequence formed
    assert unescape(escaped) == text


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


# --- Properties over random timings and texts ---

word_texts = st.text(min_size=1, max_size=12).map(lambda text: "".join(text.split()) or "x")


@st.composite
def timed_words(draw: st.DrawFn) -> tuple[list[TimedWord], float]:
    texts = draw(st.lists(word_texts, min_size=1, max_size=40))
    cursor = draw(st.floats(0, 2))
    words = []
    for text in texts:
        start = cursor + draw(st.sampled_from([0.0, 0.01, 0.05, 0.3, 1.0]))
        end = start + draw(st.floats(0.0, 1.5))
        words.append(TimedWord(text, round(start, 3), round(end, 3)))
        cursor = end
    return words, cursor + draw(st.floats(0.01, 1))


layouts = st.builds(
    SubtitleLayout,
    mode=st.sampled_from(["karaoke", "word", "line"]),
    karaoke_tag=st.sampled_from(["k", "kf", "ko"]),
    max_chars_per_line=st.integers(8, 60),
    max_lines=st.integers(1, 3),
    min_duration_s=st.floats(0, 2),
    max_duration_s=st.floats(0.5, 10),
    allow_overlap=st.just(False),
    resolution=st.sampled_from([(1920, 1080), (1080, 1920), (640, 360)]),
    style=st.sampled_from(list(PRESETS.values())),
)


@settings(max_examples=300, deadline=None)
@given(data=timed_words(), layout=layouts)
def test_any_words_make_valid_ordered_events_inside_the_audio_with_exact_karaoke_sums(data, layout):
    words, duration_s = data
    cues = build_cues(words, layout, audio_duration_s=duration_s)
    document = parse_ass(render_ass(cues, layout, audio_duration_s=duration_s))
    events = list(document.events)
    assert len(events) == len(cues)
    previous_end = timedelta(0)
    shown_words: list[str] = []
    for event, cue in zip(events, cues, strict=True):
        assert event.start >= previous_end, "events overlap"
        assert event.start < event.end <= timedelta(seconds=duration_s + 1e-6)
        if event.end < timedelta(seconds=duration_s - 0.01):  # away from the clamp at the audio's end
            assert centiseconds(event.start) == to_centiseconds(cue.start_s)  # round trip keeps the times
        if layout.mode == "karaoke":
            assert sum(karaoke_values(event.text)) == centiseconds(event.end - event.start)
        shown_words += strip_tags(event.text).split()
        previous_end = event.end
    assert shown_words == [word.text for word in words]
    # The other formats hold the same cues.
    assert render_srt(cues).count(" --> ") == len(cues)
    assert render_vtt(cues).count(" --> ") == len(cues)
    assert len(json.loads(render_json(words, cues))["cues"]) == len(cues)
