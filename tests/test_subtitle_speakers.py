"""Scripts: words said by several speakers. Cues never span two speakers, every format names who speaks, each
speaker's captions have their own look, and words without a speaker render as they always did."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import timedelta

import ass
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subtitles import (
    PRESETS,
    Cue,
    SpeakerLook,
    SubtitleLayout,
    TimedWord,
    build_cues,
    display_width,
    render_ass,
    render_formats,
    render_json,
    render_srt,
    render_vtt,
    speaker_looks,
)
from subtitles.checker import check_captions
from subtitles.cues import line_width_limit
from subtitles.styles import SPEAKER_PALETTE, ass_color
from tests.invariants import strip_tags

MODES = ("karaoke", "highlight", "word", "line")
LOOKED = ["host", "guest"]  # speakers with a look; words may also be said by "third", who has none
LOOKS = speaker_looks(PRESETS["classic"], ["host", "guest"], labels={"host": "Ana", "guest": "Ben"})


def said(speaker: str | None, text: str, start_s: float, step_s: float = 0.4) -> list[TimedWord]:
    """The words of `text`, one every `step_s` from `start_s`, each lasting most of its step."""
    return [
        TimedWord(word, round(start_s + n * step_s, 3), round(start_s + n * step_s + step_s * 0.8, 3), speaker)
        for n, word in enumerate(text.split())
    ]


def unspoken(words: list[TimedWord]) -> list[TimedWord]:
    return [replace(word, speaker=None) for word in words]


def parse_ass(text: str) -> ass.Document:
    return ass.parse(io.StringIO(text))


def karaoke_values(event_text: str) -> list[int]:
    return [int(value) for value in re.findall(r"\\k[fo]?(\d+)", event_text)]


def centiseconds(delta: timedelta) -> int:
    return round(delta.total_seconds() * 100)


def rgb(colour: str) -> tuple[int, int, int]:
    parsed = ass_color(colour)
    return parsed.r, parsed.g, parsed.b


# A question answered at once: no sentence end and no pause where the speaker changes.
HANDOVER = said("host", "so what do you", 0.0) + said("guest", "think about it", 1.6)
DIALOGUE = said("host", "Welcome back to the show.", 0.3) + said("guest", "Thanks, it is great to be here.", 2.4)


# --- Cues ---


@pytest.mark.parametrize("mode", MODES)
def test_a_change_of_speaker_ends_a_cue_even_mid_sentence_without_a_pause(mode):
    layout = SubtitleLayout(mode=mode, speakers=LOOKS)
    cues = build_cues(HANDOVER, layout)
    assert [word for cue in cues for word in cue.words] == HANDOVER
    assert all(len({word.speaker for word in cue.words}) == 1 for cue in cues)
    if mode != "word":
        assert [cue.text for cue in cues] == ["so what do you", "think about it"]
        # Without speakers the same words are one sentence on one line, one cue.
        assert len(build_cues(unspoken(HANDOVER), layout)) == 1


def test_a_cue_with_no_centisecond_of_its_own_is_never_joined_to_another_speakers_cue():
    # "Hi" lasts no time and "Yo" starts within its centisecond: a job without speakers shows them together.
    words = [TimedWord("Hi", 1.0, 1.0, "host"), TimedWord("Yo", 1.004, 1.5, "guest")]
    layout = SubtitleLayout(speakers=LOOKS)
    assert [cue.text for cue in build_cues(unspoken(words), layout)] == ["Hi Yo"]
    cues = build_cues(words, layout, audio_duration_s=2.0)
    assert [(cue.text, cue.speaker) for cue in cues] == [("Hi", "host"), ("Yo", "guest")]
    events = list(parse_ass(render_ass(cues, layout, audio_duration_s=2.0)).events)
    assert [(event.style, strip_tags(event.text)) for event in events] == [("host", "Hi"), ("guest", "Yo")]
    assert all(event.end > event.start for event in events)


def test_a_last_cue_at_the_audios_very_end_stays_its_own_speakers():
    # "Bye" starts in the audio's last centisecond, too late for a cue of its own: never with the host's words.
    words = [
        TimedWord("See", 4.2, 4.6, "host"),
        TimedWord("you.", 4.6, 4.98, "host"),
        TimedWord("Bye", 4.996, 5.0, "guest"),
    ]
    layout = SubtitleLayout(speakers=LOOKS)
    assert len(build_cues(unspoken(words), layout, audio_duration_s=5.004)) == 1
    cues = build_cues(words, layout, audio_duration_s=5.004)
    assert [cue.speaker for cue in cues] == ["host", "guest"]
    events = list(parse_ass(render_ass(cues, layout, audio_duration_s=5.004)).events)
    assert [event.style for event in events] == ["host", "guest"]
    assert all(event.start < event.end <= timedelta(seconds=5.0) for event in events)


def test_the_name_prefix_counts_toward_the_first_lines_width():
    words = said("narrator", "alpha beta gamma delta", 0.0)
    layout = SubtitleLayout(
        max_chars_per_line=24, speakers=speaker_looks(PRESETS["classic"], ["narrator"]), name_prefix=True
    )
    assert [len(cue.lines) for cue in build_cues(unspoken(words), layout)] == [1]  # 22 columns fit
    (cue,) = build_cues(words, layout)
    first_line = "narrator: " + " ".join(word.text for word in cue.lines[0])
    assert len(cue.lines) == 2
    assert display_width(first_line) <= line_width_limit(layout)


# --- Any words, any speakers ---


@st.composite
def spoken_words(draw: st.DrawFn) -> tuple[list[TimedWord], float]:
    """Words in time order, each in a centisecond of its own or sharing one, said by a few speakers (or none),
    who change anywhere: mid-sentence, with or without a pause."""
    count = draw(st.integers(1, 40))
    previous_start, cursor = -1.0, draw(st.floats(0, 1))
    words = []
    for _ in range(count):
        text = draw(st.sampled_from(["so", "the", "well,", "yes.", "Dr.", "extraordinary", "你好", "okay?", "a"]))
        start = max(cursor + draw(st.sampled_from([0.0, 0.004, 0.05, 0.3, 1.0])), previous_start + 0.011)
        end = start + draw(st.sampled_from([0.0, 0.02, 0.3, 0.6]))
        speaker = draw(st.sampled_from(["host", "guest", "third", None]))
        words.append(TimedWord(text, round(start, 3), round(end, 3), speaker))
        previous_start, cursor = round(start, 3), round(end, 3)
    return words, cursor + draw(st.floats(0.02, 0.5))  # the audio ends a centisecond or more after the last word


@settings(max_examples=300, deadline=None)
@given(
    data=spoken_words(),
    mode=st.sampled_from(MODES),
    max_words=st.sampled_from([None, 1, 3]),
    name_prefix=st.booleans(),
)
def test_no_cue_ever_spans_two_speakers_and_every_word_appears_once_in_order(data, mode, max_words, name_prefix):
    words, duration_s = data
    looks = speaker_looks(PRESETS["classic"], LOOKED)
    layout = SubtitleLayout(mode=mode, max_words_per_cue=max_words, speakers=looks, name_prefix=name_prefix)
    cues = build_cues(words, layout, audio_duration_s=duration_s)
    assert [word for cue in cues for word in cue.words] == words
    assert all(len({word.speaker for word in cue.words}) == 1 for cue in cues)
    assert check_captions(cues, layout, audio_duration_s=duration_s).count("speaker_change") == 0
    # Every event lies inside the audio; karaoke values still sum to each event's duration.
    for event in parse_ass(render_ass(cues, layout, audio_duration_s=duration_s)).events:
        assert event.start < event.end <= timedelta(seconds=duration_s + 1e-6)
        if mode == "karaoke":
            assert sum(karaoke_values(event.text)) == centiseconds(event.end - event.start)
    # Each cue's event (one a cue in line mode) takes its speaker's style; "third" has no look: Default.
    events = list(parse_ass(render_ass(cues, replace(layout, mode="line"), audio_duration_s=duration_s)).events)
    assert [event.style for event in events] == [cue.speaker if cue.speaker in LOOKED else "Default" for cue in cues]


# --- Looks ---


def test_each_speaker_gets_the_next_palette_colour_after_the_first_who_keeps_the_styles_own():
    style = PRESETS["shorts"]
    looks = speaker_looks(style, [f"s{n}" for n in range(12)])
    assert looks[0].style == style
    assert [look.style.primary for look in looks[1:]] == [*SPEAKER_PALETTE, SPEAKER_PALETTE[0]]
    assert all(replace(look.style, primary=style.primary) == style for look in looks)
    assert [look.label for look in looks] == [look.name for look in looks]


def test_overrides_and_labels_apply_to_their_speaker_only_and_a_palette_colour_equal_to_the_highlight_is_skipped():
    style = PRESETS["classic"].with_overrides({"primary": SPEAKER_PALETTE[0]})  # the job chose cyan
    looks = speaker_looks(
        style,
        ["host", "guest", "third"],
        overrides={"guest": {"alignment": 8, "font": "DejaVu Serif"}, "nobody": {"size": 99}},
        labels={"third": "Dr. Third", "nobody": "x"},
    )
    assert looks[0] == SpeakerLook("host", "host", style)
    guest_style = replace(style, primary=SPEAKER_PALETTE[1], alignment=8, font="DejaVu Serif")
    assert looks[1] == SpeakerLook("guest", "guest", guest_style)
    assert looks[2] == SpeakerLook("third", "Dr. Third", replace(style, primary=SPEAKER_PALETTE[2]))
    assert speaker_looks(style, ["host"], overrides={"host": {"primary": "#FF0000"}})[0].style.primary == "#FF0000"


@pytest.mark.parametrize("speakers", [["host", "host"], ["host", "a,b"], ["x" * 33], [""], ["Ana Lee"]])
def test_speaker_keys_are_unique_ass_safe_names(speakers):
    with pytest.raises(ValueError, match="speaker"):
        speaker_looks(PRESETS["classic"], speakers)


def linear_rgb(colour: tuple[int, int, int]) -> np.ndarray:
    """sRGB levels as linear light, 0 to 1."""
    return np.array([c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in colour])


def relative_luminance(colour: tuple[int, int, int]) -> float:
    """WCAG's relative luminance: contrast ratios are (lighter + 0.05) / (darker + 0.05)."""
    return float(np.dot([0.2126, 0.7152, 0.0722], linear_rgb(colour)))


def lab(colour: tuple[int, int, int]) -> np.ndarray:
    """CIE L*a*b* (D65) of an sRGB colour: distances in it approximate how different colours look."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear_rgb(colour)
    x, y, z = (np.cbrt(v) if v > 0.008856 else 7.787 * v + 16 / 116 for v in xyz / np.array([0.95047, 1, 1.08883]))
    return np.array([116 * y - 16, 500 * (x - y), 200 * (y - z)])


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_presets_speaker_colours_are_distinct_and_readable_on_its_outline(preset):
    style = PRESETS[preset]
    colours = [look.style.primary for look in speaker_looks(style, [f"s{n}" for n in range(10)])]
    assert len(set(colours)) == 10
    outline = relative_luminance(rgb(style.outline_colour))
    for colour in colours:
        contrast = (relative_luminance(rgb(colour)) + 0.05) / (outline + 0.05)
        assert contrast >= 4.5, f"{colour} on {style.outline_colour}: {contrast:.1f}:1"
        # Lit words stand apart from unlit ones.
        assert np.linalg.norm(lab(rgb(colour)) - lab(rgb(style.secondary))) >= 20
    distances = [
        np.linalg.norm(lab(rgb(a)) - lab(rgb(b))) for index, a in enumerate(colours) for b in colours[index + 1 :]
    ]
    assert min(distances) >= 20


# --- ASS ---


def test_ass_has_a_style_per_speaker_with_its_colour_and_overrides_and_round_trips():
    looks = speaker_looks(
        PRESETS["classic"], ["host", "guest"], overrides={"guest": {"alignment": 8}}, labels={"guest": "Ben, MD"}
    )
    words = DIALOGUE + said(None, "Applause.", 6.0)
    layout = SubtitleLayout(speakers=looks)
    text = render_ass(build_cues(words, layout), layout)
    document = parse_ass(text)
    styles = {style.name: style for style in document.styles}
    assert list(styles) == ["Default", "host", "guest"]
    assert styles["host"].primary_color.to_ass() == "&H0000D7FF"  # the preset's gold
    assert styles["guest"].primary_color.to_ass() == ass_color(SPEAKER_PALETTE[0]).to_ass()
    assert (styles["Default"].alignment, styles["host"].alignment, styles["guest"].alignment) == (2, 2, 8)
    events = list(document.events)
    # Each event in its speaker's style, named by the label (a comma would end the Name field: a look-alike).
    assert [(event.style, event.name) for event in events] == [
        ("host", "host"),
        ("guest", "Ben\u201a MD"),
        ("Default", ""),
    ]
    assert [strip_tags(event.text) for event in events] == [
        "Welcome back to the show.",
        "Thanks, it is great to be here.",
        "Applause.",
    ]
    written = io.StringIO()
    document.dump_file(written)
    assert written.getvalue() == text


@pytest.mark.parametrize("uppercase", [False, True])
def test_with_name_prefix_a_karaoke_turn_starts_with_its_label_lit_in_a_run_of_no_duration(uppercase):
    words = said("host", "Hello.", 0.0) + said("host", "Still me.", 2.0) + said("guest", "{Hi}", 3.0)
    layout = SubtitleLayout(speakers=LOOKS, name_prefix=True, uppercase=uppercase, karaoke_tag="kf")
    events = list(parse_ass(render_ass(build_cues(words, layout), layout)).events)
    label = str.upper if uppercase else str
    # The host's second cue continues the turn: no name. The guest's label is escaped like any user text.
    assert [event.text.split("{\\kf")[0] for event in events] == [
        f"{{\\k0}}{label('Ana')}: ",
        "",
        f"{{\\k0}}{label('Ben')}: ",
    ]
    assert strip_tags(events[2].text) == f"{label('Ben')}: {label('{Hi}')}"
    for event in events:
        assert sum(karaoke_values(event.text)) == centiseconds(event.end - event.start)


@pytest.mark.parametrize("mode", ["highlight", "word", "line"])
def test_outside_karaoke_the_name_prefix_is_drawn_in_the_speakers_highlight_colour(mode):
    layout = SubtitleLayout(mode=mode, speakers=LOOKS, name_prefix=True)
    events = list(parse_ass(render_ass(build_cues(DIALOGUE, layout), layout)).events)
    guest_colour = ass_color(LOOKS[1].style.primary)
    guest_tag = f"{{\\1c&H{guest_colour.b:02X}{guest_colour.g:02X}{guest_colour.r:02X}&\\1a&H00&}}Ben:{{\\r}} "
    guest_events = [event for event in events if event.style == "guest"]
    turn_starts = guest_events if mode == "highlight" else guest_events[:1]  # highlight repeats the cue per word
    assert all(event.text.startswith(guest_tag) for event in turn_starts)
    assert not any("Ben:" in event.text for event in guest_events if event not in turn_starts)
    if mode == "highlight":  # the word being spoken takes the guest's colour too
        assert all(event.text.count(guest_tag.split("}")[0]) == 2 for event in guest_events)


def test_a_speaker_called_default_keeps_a_style_apart_from_words_of_no_speaker():
    looks = speaker_looks(PRESETS["classic"], ["host", "default"])
    words = said("default", "Hello there.", 0.0) + said(None, "Applause.", 2.0)
    layout = SubtitleLayout(speakers=looks)
    document = parse_ass(render_ass(build_cues(words, layout), layout))
    assert [style.name for style in document.styles] == ["No speaker", "host", "Default"]
    assert [event.style for event in document.events] == ["Default", "No speaker"]


def test_a_one_speaker_script_draws_the_same_events_as_words_without_a_speaker_in_a_style_of_the_same_look():
    words = said("host", "Welcome back to the show. It is good to see you all again tonight.", 0.2)
    layout = SubtitleLayout(speakers=speaker_looks(PRESETS["classic"], ["host"]))
    for mode in MODES:
        moded = replace(layout, mode=mode)
        scripted = parse_ass(render_ass(build_cues(words, moded), moded))
        plain = parse_ass(render_ass(build_cues(unspoken(words), moded), moded))
        assert [(e.start, e.end, e.text) for e in scripted.events] == [(e.start, e.end, e.text) for e in plain.events]
        default, host = scripted.styles
        assert look_of(host) == look_of(default) == look_of(plain.styles[0])


def look_of(style: ass.Style) -> list[object]:
    colours = [colour.to_ass() for colour in (style.primary_color, style.secondary_color, style.outline_color)]
    return [style.fontname, style.fontsize, *colours, style.bold, style.outline, style.alignment, style.margin_v]


# --- SRT, WebVTT, JSON ---


def test_srt_names_the_speaker_at_the_start_of_each_turn():
    words = said("host", "Hello.", 0.0) + said("host", "Still me.", 2.0) + said("guest", "Hi.", 3.0)
    words += said("nobody", "Who?", 4.0) + said("host", "Me again.", 5.0)
    cues = build_cues(words, SubtitleLayout())
    srt = render_srt(cues, labels={"host": "Ana", "guest": "Dr. Ben\nLee"})
    texts = [block.split("\n", 2)[2].strip() for block in srt.split("\n\n")]
    # A label as given (on one line), else the key; the host's second cue continues the turn.
    assert texts == ["Ana: Hello.", "Still me.", "Dr. Ben Lee: Hi.", "nobody: Who?", "Ana: Me again."]
    assert render_srt(cues, uppercase=True, labels={"host": "Ana"}).split("\n")[2] == "ANA: HELLO."


def test_webvtt_cues_start_with_a_voice_tag_and_keep_their_word_timestamps():
    layout = SubtitleLayout(
        speakers=speaker_looks(PRESETS["classic"], ["host", "guest"], labels={"guest": "Tom & <J>"})
    )
    cues = build_cues(DIALOGUE, layout)
    plain_cues = build_cues(unspoken(DIALOGUE), layout)
    vtt = render_vtt(cues, labels=layout.labels, uppercase=True)
    plain = render_vtt(plain_cues, uppercase=True)
    bodies = [block.split("\n", 1)[1] for block in vtt.split("\n\n")[1:]]
    assert [body.split(">", 1)[0] + ">" for body in bodies] == ["<v host>", "<v Tom &amp; &lt;J&gt;>"]
    assert [body[body.index(">") + 1 :] for body in bodies] == [b.split("\n", 1)[1] for b in plain.split("\n\n")[1:]]
    assert "<00:00:00.700><c>BACK</c>" in bodies[0]


def test_json_words_and_cues_carry_their_speaker_and_words_without_one_carry_no_key():
    words = DIALOGUE + said(None, "Applause.", 6.0)
    document = json.loads(render_json(words, build_cues(words, SubtitleLayout())))
    assert [word.get("speaker") for word in document["words"]] == [word.speaker for word in words]
    assert "speaker" not in document["words"][-1]
    assert [cue.get("speaker") for cue in document["cues"]] == ["host", "guest", None]
    assert "speaker" not in document["cues"][-1]


def test_words_without_a_speaker_write_no_speaker_anywhere():
    layout = SubtitleLayout(speakers=LOOKS, name_prefix=True)  # looks given, but nobody speaks
    files = render_formats(unspoken(DIALOGUE), layout, ["ass", "srt", "vtt", "json"], audio_duration_s=6.0)
    document = parse_ass(files["ass"])
    assert all(event.style == "Default" and event.name == "" and "\\k0" not in event.text for event in document.events)
    assert "Ana" not in files["srt"] and "<v" not in files["vtt"] and "speaker" not in files["json"]
    bare = render_formats(unspoken(DIALOGUE), SubtitleLayout(), ["srt", "vtt", "json"], audio_duration_s=6.0)
    assert {kind: files[kind] for kind in bare} == bare


# --- The checker ---


def test_the_checker_flags_a_cue_of_two_speakers_as_a_hard_violation_and_splits_no_sentence_across_them():
    mixed = Cue(lines=(tuple(HANDOVER),), end_s=HANDOVER[-1].end_s)
    report = check_captions([mixed], SubtitleLayout(max_chars_per_line=42))
    (violation,) = [v for v in report.violations if v.rule == "speaker_change"]
    assert violation.hard and "host" in violation.detail and "guest" in violation.detail
    # Cut at the change of speaker, the host's cue does not end mid-sentence: the guest's words are another's.
    cues = build_cues(HANDOVER, SubtitleLayout())
    assert check_captions(cues, SubtitleLayout()).violations == ()


# --- What libass draws ---

WIDTH, HEIGHT = 640, 360


def colour_mask(frame: np.ndarray, colour: str) -> np.ndarray:
    return np.all(np.abs(frame.astype(int) - np.array(rgb(colour))) < 40, axis=-1)


@pytest.mark.slow
def test_libass_draws_each_speakers_karaoke_in_their_own_colour_and_never_the_others(tmp_path):
    from tests.test_subtitle_rendering import render_frames

    host, guest = (look.style.primary for look in LOOKS)
    layout = SubtitleLayout(resolution=(WIDTH, HEIGHT), speakers=LOOKS, name_prefix=True)
    cues = build_cues(DIALOGUE, layout, audio_duration_s=5.0)
    assert [cue.speaker for cue in cues] == ["host", "guest"]
    during_host, during_guest = render_frames(
        render_ass(cues, layout, audio_duration_s=5.0), [1.1, 3.3], tmp_path
    )  # the host's third word, the guest's third
    assert colour_mask(during_host, host).sum() > 200 and colour_mask(during_host, guest).sum() == 0
    assert colour_mask(during_guest, guest).sum() > 200 and colour_mask(during_guest, host).sum() == 0


@pytest.mark.slow
def test_libass_draws_the_name_lit_from_the_turns_first_centisecond(tmp_path):
    from tests.test_subtitle_rendering import render_frames

    guest = LOOKS[1].style.primary
    at_s = [DIALOGUE[5].start_s]  # the guest's first word has not begun to fill
    frames = []
    for name_prefix in (True, False):
        layout = SubtitleLayout(resolution=(WIDTH, HEIGHT), speakers=LOOKS, name_prefix=name_prefix)
        frames += render_frames(render_ass(build_cues(DIALOGUE, layout), layout), at_s, tmp_path)
    named, unnamed = frames
    assert colour_mask(unnamed, guest).sum() < 20
    assert colour_mask(named, guest).sum() > colour_mask(unnamed, guest).sum() + 150


@pytest.mark.slow
def test_libass_finds_the_style_of_a_speaker_called_default(tmp_path):
    from tests.test_subtitle_rendering import render_frames

    looks = speaker_looks(PRESETS["classic"], ["host", "default"])
    words = said("default", "Hello there.", 0.5) + said(None, "Applause now.", 2.5)
    layout = SubtitleLayout(resolution=(WIDTH, HEIGHT), speakers=looks)  # karaoke: the style's colour lights words
    speaker_frame, no_speaker_frame = render_frames(render_ass(build_cues(words, layout), layout), [0.8, 2.8], tmp_path)
    cyan, gold = looks[1].style.primary, PRESETS["classic"].primary
    assert colour_mask(speaker_frame, cyan).sum() > 50 and colour_mask(speaker_frame, gold).sum() == 0
    assert colour_mask(no_speaker_frame, gold).sum() > 50 and colour_mask(no_speaker_frame, cyan).sum() == 0
