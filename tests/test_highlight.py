"""Highlight mode, uppercase captions and the ASS document written with the `ass` library, read back as text.

What libass draws from these files is checked by pixel in test_subtitle_rendering.py.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from itertools import groupby

import ass
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import InvalidInput
from subtitles import PRESETS, SubtitleLayout, TimedWord, build_cues, render_ass, render_formats
from subtitles.ass import unescape
from subtitles.timing import to_centiseconds
from tests.invariants import strip_tags
from worker.contract import SubtitleOptions, parse_job

WORDS = [
    TimedWord("Hello", 0.10, 0.42),
    TimedWord("big", 0.50, 0.91),  # a pause before it: "Hello" keeps the highlight through it
    TimedWord("world.", 1.00, 1.40),
    TimedWord("After", 2.50, 2.80),  # a sentence end and a long pause before: a new cue
    TimedWord("the", 2.85, 2.95),
    TimedWord("pause.", 3.00, 3.55),
]
LIT_WORD = re.compile(r"\{\\1c&H[0-9A-F]{6}&\\1a&H[0-9A-F]{2}&[^}]*\}(.*?)\{\\r\}")
POP = re.compile(r"\\t\(0,(\d+),\\fscx(\d+)\\fscy(\d+)\)\\t\((\d+),(\d+),\\fscx100\\fscy100\)")


def events_of(text: str) -> list[ass.Dialogue]:
    return list(ass.parse(io.StringIO(text)).events)


def ass_file(words: list[TimedWord], audio_duration_s: float | None = None, **options: object) -> str:
    layout = SubtitleLayout(**options)  # type: ignore[arg-type]
    return render_ass(build_cues(words, layout, audio_duration_s), layout, audio_duration_s)


def centiseconds(delta: timedelta) -> int:
    return round(delta.total_seconds() * 100)


def lit_words(event: ass.Dialogue) -> list[str]:
    return LIT_WORD.findall(event.text)


def test_highlight_mode_lights_each_word_in_turn_from_its_start_until_the_next_word_starts():
    events = events_of(ass_file(WORDS, mode="highlight"))
    assert [lit_words(event) for event in events] == [[word.text] for word in WORDS]
    assert [centiseconds(event.start) for event in events] == [to_centiseconds(word.start_s) for word in WORDS]
    # Within a cue the events tile it: each ends where the next word starts, so the highlight never blinks off.
    assert [centiseconds(event.end) for event in events] == [50, 100, 140, 285, 300, 355]
    # Every event shows the whole cue; only the colour moves.
    assert [strip_tags(event.text) for event in events] == ["Hello big world."] * 3 + ["After the pause."] * 3


def test_the_highlight_is_the_styles_primary_colour_and_the_other_words_keep_the_styles_text_colour():
    document = ass.parse(io.StringIO(ass_file(WORDS, mode="highlight", style=PRESETS["shorts"])))
    style = document.styles[0]
    assert (style.primary_color.r, style.primary_color.g, style.primary_color.b) == (255, 255, 255)
    assert all("\\1c&H00E6FF&\\1a&H00&" in event.text for event in document.events)  # #FFE600, opaque


def test_a_word_with_no_centisecond_of_its_own_passes_the_highlight_straight_on():
    words = [TimedWord("one", 1.0, 1.004), TimedWord("two", 1.004, 1.5)]  # both start at 100 cs
    events = events_of(ass_file(words, mode="highlight"))
    assert [lit_words(event) for event in events] == [["two"]]
    assert strip_tags(events[0].text) == "one two"


def test_a_word_starting_as_the_audio_ends_is_shown_unlit_in_the_last_centisecond():
    # The cue is moved one centisecond earlier to have a length at all; the word is never spoken inside it.
    events = events_of(ass_file([TimedWord("late.", 2.0, 2.2)], audio_duration_s=2.0, mode="highlight"))
    assert [(centiseconds(event.start), centiseconds(event.end)) for event in events] == [(199, 200)]
    assert lit_words(events[0]) == []
    assert strip_tags(events[0].text) == "late."


def test_the_pop_grows_the_spoken_word_until_the_middle_of_its_duration_and_back_by_its_end():
    events = events_of(ass_file(WORDS, mode="highlight", highlight_scale=1.25))
    for event, word in zip(events, WORDS, strict=True):
        (pop,) = POP.findall(event.text)
        grow_until, scale_x, scale_y, shrink_from, shrink_until = map(int, pop)
        spoken_ms = (to_centiseconds(word.end_s) - to_centiseconds(word.start_s)) * 10
        assert (scale_x, scale_y) == (125, 125)
        assert grow_until == shrink_from == spoken_ms // 2 > 0
        assert shrink_until == spoken_ms


def test_without_a_pop_no_transform_is_written_so_libass_keeps_overlapping_cues_apart():
    assert "\\t(" not in ass_file(WORDS, mode="highlight")


@pytest.mark.parametrize("mode", ["karaoke", "highlight", "word", "line"])
def test_uppercase_shows_capitals_in_every_mode_and_keeps_the_escaping(mode):
    words = [TimedWord("Straße", 0.1, 0.5), TimedWord("{\\fs99}big", 0.6, 0.9)]
    events = events_of(ass_file(words, mode=mode, uppercase=True))
    assert " ".join(strip_tags(event.text) for event in events).split()[:2] == ["STRASSE", "{\\FS99}BIG"]
    assert any("{\\FS99}BIG" in strip_tags(event.text) for event in events)  # still inert: shown, not applied


def test_uppercase_applies_to_what_every_format_displays_while_the_json_words_keep_the_written_text():
    layout = SubtitleLayout(mode="highlight", uppercase=True)
    files = render_formats(WORDS, layout, ["ass", "srt", "vtt", "json"], audio_duration_s=4.0)
    assert "\nHELLO BIG WORLD.\n" in files["srt"]
    assert "<00:00:00.500><c>BIG</c>" in files["vtt"]  # highlight mode keeps WebVTT's inline word times
    document = json.loads(files["json"])
    assert document["cues"][0]["text"] == "HELLO BIG WORLD."
    assert [word["text"] for word in document["words"]] == [word.text for word in WORDS]
    plain = render_formats(WORDS, SubtitleLayout(mode="line"), ["vtt"], audio_duration_s=4.0)["vtt"]
    assert "<c>" not in plain


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "karaoke", "karaoke_tag": "ko"},
        {"mode": "highlight", "highlight_scale": 1.5, "uppercase": True},
        {"mode": "word"},
        {"mode": "line", "style": PRESETS["minimal"].with_overrides({"box": True, "primary": "#FF000080"})},
    ],
)
def test_the_file_is_exactly_what_the_ass_library_writes_back_and_round_trips(options):
    text = ass_file([*WORDS, TimedWord("{brace}\\N", 3.6, 3.9)], audio_duration_s=4.0, **options)
    parsed = ass.parse(io.StringIO(text))
    written = io.StringIO()
    parsed.dump_file(written)
    assert written.getvalue() == text  # parse → dump gives our file back, byte for byte
    again = ass.parse(io.StringIO(written.getvalue()))
    assert [repr(style) for style in again.styles] == [repr(style) for style in parsed.styles]
    assert [repr(event) for event in again.events] == [repr(event) for event in parsed.events]
    assert dict(again.info) == dict(parsed.info)


def test_the_contract_passes_the_caption_options_to_the_layout():
    layout = SubtitleOptions(mode="highlight", max_words_per_cue=3, uppercase=True, highlight_scale=1.2).layout()
    assert (layout.mode, layout.max_words_per_cue, layout.uppercase, layout.highlight_scale) == (
        "highlight",
        3,
        True,
        1.2,
    )
    default = SubtitleOptions().layout()
    assert (default.max_words_per_cue, default.uppercase, default.highlight_scale) == (None, False, 1.0)


@pytest.mark.parametrize(
    ("subtitles", "message"),
    [
        ({"highlight_scale": 1.2}, "subtitles.highlight_scale: applies only to mode 'highlight'"),
        ({"mode": "highlight", "highlight_scale": 1.6}, "subtitles.highlight_scale:"),
        ({"mode": "highlight", "highlight_scale": 0.9}, "subtitles.highlight_scale:"),
        ({"max_words_per_cue": 0}, "subtitles.max_words_per_cue:"),
        ({"max_words_per_cue": 21}, "subtitles.max_words_per_cue:"),
        ({"mode": "glow"}, "subtitles.mode:"),
    ],
)
def test_caption_options_out_of_bounds_are_refused_naming_the_field(subtitles, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_job({"text": "Hi", "tts": {"engine": "espeak"}, "subtitles": subtitles})


# --- Properties over random timings ---

word_texts = st.text(min_size=1, max_size=10).map(lambda text: "".join(text.split()) or "x")


@st.composite
def timed_words(draw: st.DrawFn) -> tuple[list[TimedWord], float]:
    cursor = draw(st.floats(0, 2))
    words = []
    for index, text in enumerate(draw(st.lists(word_texts, min_size=1, max_size=30))):
        start = cursor + draw(st.sampled_from([0.0, 0.004, 0.05, 0.3, 1.0]))
        end = start + draw(st.floats(0.0, 1.2))
        # Numbered, so no two cues show the same text and consecutive events of one text are one cue's.
        words.append(TimedWord(f"{text}{index}", round(start, 3), round(end, 3)))
        cursor = end
    return words, cursor + draw(st.floats(0.01, 1))


@settings(max_examples=150, deadline=None)
@given(data=timed_words(), scale=st.sampled_from([1.0, 1.3]), uppercase=st.booleans())
def test_any_words_in_highlight_mode_make_ordered_events_that_tile_each_cue_and_light_words_at_most_once(
    data, scale, uppercase
):
    words, duration_s = data
    layout = SubtitleLayout(mode="highlight", highlight_scale=scale, uppercase=uppercase)
    cues = build_cues(words, layout, audio_duration_s=duration_s)
    events = events_of(render_ass(cues, layout, audio_duration_s=duration_s))
    shown = [" ".join(strip_tags(event.text).split()) for event in events]
    expected = [" ".join(word.text.upper() if uppercase else word.text for word in cue.words) for cue in cues]
    # Consecutive events showing the same text belong to one cue: together they show each cue, in order...
    assert [text for text, _ in groupby(shown)] == expected
    lit: list[str] = []
    for before, after in zip(events, events[1:], strict=False):
        assert before.start < before.end <= after.start
        if strip_tags(before.text) == strip_tags(after.text):
            assert before.end == after.start  # ...and tile it: the highlight never blinks off inside a cue
    for event in events:
        assert timedelta(0) <= event.start < event.end <= timedelta(seconds=duration_s + 1e-6)
        assert len(lit_words(event)) <= 1
        lit += [unescape(word) for word in lit_words(event)]
        assert bool(POP.search(event.text)) <= (scale > 1)
    # Each word is lit at most once, in the order spoken.
    displayed = iter(word.text.upper() if uppercase else word.text for word in words)
    assert all(any(word == candidate for candidate in displayed) for word in lit)
