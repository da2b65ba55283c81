"""Chinese and Japanese captions: one timed word a character (Latin words and numbers whole), no space between
characters written without one, in every format; lines measured in display columns; the caption rules hold."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.text import units
from subtitles import PRESETS, Cue, SubtitleLayout, TimedWord, build_cues, display_width, render_formats
from subtitles.break_words import BreakWords, break_words_for
from subtitles.checker import TIMING_RULES, check_captions
from subtitles.cues import line_text, reading_speed_for
from tests.invariants import check_cues_hold_every_word_without_hard_violations, strip_tags

MIXED = "我们用 Python 写代码，每个字都会随着声音亮起来。"
PARAGRAPH = (
    "清晨的小镇还没有完全醒来，街道上只有几位老人在慢慢散步。河边的柳树垂下长长的枝条，风一吹，水面上就泛起一圈圈"
    "涟漪。面包店的老板已经忙了两个小时，新鲜出炉的面包散发着诱人的香味。孩子们背着书包，三三两两地走向学校，一路上"
    "说说笑笑。邮递员骑着自行车，把报纸、信件和包裹送到每一户人家。菜市场里渐渐热闹起来，摊主们大声招呼着来往的顾客。"
    "有人在挑选新鲜的蔬菜，有人在讨价还价，还有人只是随便看看。太阳慢慢升高，阳光洒在屋顶上，整个小镇都变得明亮而"
    "温暖。这样平凡的早晨，每天都在重复，却总让人觉得安心。街角的书店也开门了，店主把新到的杂志、报纸和几本小说摆在"
    "门口的架子上，等着第一位客人。午后，人们会在这里坐上一会儿，翻翻书，聊聊天。"
)
CHINESE = SubtitleLayout(language="zh")


def timed_units(text: str, step_s: float = 0.25, start_s: float = 0.5) -> list[TimedWord]:
    """The text a unit at a time, as the worker times Chinese: one unit every `step_s`, each said in all but the
    last 0.05 s of it."""
    return [
        TimedWord(
            unit, round(start_s + index * step_s, 3), round(start_s + (index + 1) * step_s - 0.05, 3), None, glued
        )
        for index, (unit, glued) in enumerate(units(text))
    ]


def audio_end_s(words: list[TimedWord]) -> float:
    return words[-1].end_s + 0.5


# --- Every format writes the text as it was written ---


def test_a_chinese_cue_is_written_without_spaces_between_characters_in_srt_vtt_and_json():
    words = timed_units(MIXED)
    files = render_formats(words, CHINESE, ["srt", "vtt", "json"], audio_end_s(words))
    # The full line would be 46 columns: it breaks after the comma.
    assert "\n我们用 Python 写代码，\n每个字都会随着声音亮起来。\n" in files["srt"]
    vtt_text = re.sub(r"<[^>]*>", "", files["vtt"].split("\n", 3)[3])
    assert vtt_text.startswith("我们用 Python 写代码，\n每个字都会随着声音亮起来。\n")
    # Each inline timestamp follows its character directly; a space only before "Python" and after it.
    assert "<c>我</c><00:00:00.750><c>们</c><00:00:01.000><c>用</c> <00:00:01.250><c>Python</c> <" in files["vtt"]
    document = json.loads(files["json"])
    assert [cue["text"] for cue in document["cues"]] == ["我们用 Python 写代码，\n每个字都会随着声音亮起来。"]
    assert [word.get("glued", False) for word in document["words"]] == [glued for _, glued in units(MIXED)]


def test_karaoke_has_one_run_per_character_with_a_space_only_where_the_text_has_one():
    words = timed_units(MIXED)
    (event,) = [
        line for line in render_formats(words, CHINESE, ["ass"], 10)["ass"].splitlines() if line.startswith("Dialogue:")
    ]
    runs = re.findall(r"\{\\kf(\d+)\}([^{]*)", event)
    assert [text for _, text in runs] == [
        "我", "们", "用 ", "Python ", "写", "代", "码，\\N", "每", "个", "字", "都", "会", "随", "着", "声", "音", "亮",
        "起", "来。",
    ]  # fmt: skip
    # Each character's run is its own duration (0.2 s), the pauses between them runs of their own.
    assert event.split(",", 9)[9].startswith("{\\kf20}我{\\k5}{\\kf20}们{\\k5}{\\kf20}用 {\\k5}{\\kf20}Python ")


@pytest.mark.parametrize("mode", ["karaoke", "highlight", "line", "word"])
def test_every_ass_mode_shows_the_characters_without_spaces(mode):
    words = timed_units(MIXED)
    layout = replace(CHINESE, mode=mode)
    events = [
        line.split(",", 9)[9]
        for line in render_formats(words, layout, ["ass"], 10)["ass"].splitlines()
        if line.startswith("Dialogue:")
    ]
    shown = {strip_tags(event) for event in events}
    if mode == "word":
        assert sorted(shown) == sorted(unit for unit, _ in units(MIXED))
    else:
        assert shown == {
            "我们用 Python 写代码， 每个字都会随着声音亮起来。"
        }  # strip_tags shows the line break as a space


def test_a_speakers_name_prefix_still_precedes_the_first_character():
    from subtitles import speaker_looks

    words = [replace(word, speaker="host") for word in timed_units("你好。")]
    layout = replace(
        CHINESE, speakers=speaker_looks(PRESETS["classic"], ["host"], labels={"host": "主持人"}), name_prefix=True
    )
    files = render_formats(words, layout, ["ass", "srt"], 3)
    assert "{\\k0}主持人: {\\kf20}你{\\k5}{\\kf20}好。" in files["ass"]
    assert "\n主持人: 你好。\n" in files["srt"]


@pytest.mark.parametrize(
    "text",
    [
        "我们用Python写代码。",
        "我们用 Python 3.11 写代码。",
        "他说：“学习Python不难。”",
        "这本书一共有320页。",
        "私はPythonが好きです。",
        "東京タワーへ行きましょう！",
    ],
)
def test_mixed_text_keeps_a_space_exactly_where_the_text_has_one(text):
    words = timed_units(text)
    layout = replace(CHINESE, max_chars_per_line=80)
    cues = build_cues(words, layout, audio_duration_s=audio_end_s(words))
    assert [cue.text for cue in cues] == [text]
    files = render_formats(words, layout, ["srt", "json"], audio_end_s(words))
    assert f"\n{text}\n" in files["srt"]
    assert json.loads(files["json"])["cues"][0]["text"] == text


def test_english_words_all_spaced_come_out_exactly_as_before():
    words = [TimedWord("Hello", 0.1, 0.4), TimedWord("world.", 0.5, 0.9)]
    assert line_text(words) == "Hello world."
    assert line_text([words[0], replace(words[1], glued=True)]) == "Helloworld."


# --- Lines are measured in display columns, with no space before a glued character ---


def test_twenty_one_characters_fill_a_42_column_line_and_one_more_needs_a_second():
    sentence = "天" * 20 + "。"  # 21 units, 42 columns
    words = timed_units(sentence, step_s=0.2)
    assert [len(cue.lines) for cue in build_cues(words, CHINESE)] == [1]
    longer = timed_units("天" * 21 + "。", step_s=0.2)
    assert [len(cue.lines) for cue in build_cues(longer, CHINESE)] == [2]


@pytest.mark.parametrize("columns", [10, 16, 32, 42])
def test_chinese_lines_fit_max_chars_per_line_in_display_columns(columns):
    words = timed_units(PARAGRAPH)
    layout = replace(CHINESE, max_chars_per_line=columns, max_duration_s=10.0)
    cues = build_cues(words, layout, audio_duration_s=audio_end_s(words))
    widths = [display_width(line_text(line)) for cue in cues for line in cue.lines]
    assert max(widths) <= columns
    # Were a space counted between characters, no line could show more than two thirds of the limit.
    assert max(widths) > columns * 2 / 3


def test_a_line_breaks_between_characters_after_punctuation_when_it_can():
    words = timed_units(PARAGRAPH)
    cues = build_cues(words, CHINESE, audio_duration_s=audio_end_s(words))
    line_ends = [line[-1].text for cue in cues for line in cue.lines]
    after_punctuation = sum(text[-1] in "，、。；：！？”" for text in line_ends)
    assert after_punctuation >= 0.8 * len(line_ends), line_ends
    assert any(text[-1] not in "，、。；：！？”" for text in line_ends)  # but a break between characters is allowed


def test_a_line_never_starts_with_a_japanese_small_kana_when_another_break_fits():
    # ちょっとまってください: 11 characters, 6 a line. The bottom-heavy cut (5 + 6) would start a line with っ.
    words = timed_units("ちょっとまってください", step_s=0.2)
    (cue,) = build_cues(words, SubtitleLayout(language="ja", max_chars_per_line=12))
    assert [line_text(line) for line in cue.lines] == ["ちょっとまっ", "てください"]


def test_chinese_and_japanese_have_no_break_words_and_read_slower_than_english():
    for language in ("zh", "zh-Hans", "zh_TW", "ja", "ja-JP", "yue"):
        assert break_words_for(language) == BreakWords()
    assert reading_speed_for("zh-CN") == 9.0 and reading_speed_for("ja") == 4.0 and reading_speed_for("en") == 20.0


# --- Reading speed counts each character and only the spaces the text has ---


@pytest.mark.parametrize(("characters", "flagged"), [(9, False), (10, True)])
def test_reading_speed_counts_each_chinese_character_and_no_space_between_them(characters, flagged):
    words = tuple(TimedWord("字", index * 0.1, index * 0.1 + 0.1, None, index > 0) for index in range(characters))
    cue = Cue(lines=(words,), end_s=1.0)
    assert check_captions([cue], CHINESE).count("reading_speed") == int(flagged)
    # The same cue read as English: 20 a second allowed.
    assert check_captions([cue], CHINESE, language="en").count("reading_speed") == 0


# --- Any timing: no hard rule broken, every unit once and in order ---

HAN = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后小么心多天"
UNIT_TEXTS = [*HAN, "码，", "来。", "吗？", "“你", "好”", "、", "Python", "3.11", "2024年", "🎉", "っ", "ー"]


@st.composite
def chinese_timings(draw: st.DrawFn) -> tuple[list[TimedWord], float]:
    """Units in time order, mostly glued, each in a centisecond of its own, lasting 0 to 1.5 s, with pauses from
    none to over a second; the audio ends a centisecond or more after the last unit."""
    texts = draw(st.lists(st.sampled_from(UNIT_TEXTS), min_size=1, max_size=120))
    previous_start, cursor = -1.0, draw(st.floats(0, 2))
    words = []
    for index, text in enumerate(texts):
        glued = index > 0 and draw(st.booleans() if text.isascii() else st.sampled_from([True, True, True, False]))
        start = max(cursor + draw(st.sampled_from([0.0, 0.004, 0.03, 0.1, 0.3, 1.0])), previous_start + 0.011)
        end = start + draw(st.sampled_from([0.0, 0.02, 0.15, 0.25, 0.6, 1.5]))
        words.append(TimedWord(text, round(start, 3), round(end, 3), None, glued))
        previous_start, cursor = round(start, 3), round(end, 3)
    return words, cursor + draw(st.floats(0.02, 1))


LAYOUTS = [
    CHINESE,
    replace(CHINESE, max_chars_per_line=16),
    SubtitleLayout(language="zh", style=PRESETS["shorts"], resolution=(1080, 1920), max_words_per_cue=3),
    SubtitleLayout(language="ja", max_chars_per_line=26, max_lines=3),
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=["zh", "zh-16-columns", "zh-shorts-3-words", "ja-3-lines"])
@settings(max_examples=120, deadline=None)
@given(data=chinese_timings(), mode=st.sampled_from(["karaoke", "highlight", "line"]))
def test_cues_of_any_chinese_timing_break_no_hard_rule_and_hold_every_unit_once_in_order(layout, data, mode):
    words, duration_s = data
    cues = check_cues_hold_every_word_without_hard_violations(words, replace(layout, mode=mode), duration_s)
    shown = "".join(cue.text.replace("\n", "") for cue in cues)
    assert shown.count(" ") <= sum(not word.glued for word in words)


# --- A realistic paragraph ---


def test_the_caption_rules_hold_for_a_chinese_paragraph_read_at_four_characters_a_second():
    words = timed_units(PARAGRAPH)
    assert len(PARAGRAPH) >= 300
    cues = build_cues(words, CHINESE, audio_duration_s=audio_end_s(words))
    report = check_captions(cues, CHINESE, audio_duration_s=audio_end_s(words))
    assert report.hard_count == 0, report.violations
    # Measured: no soft exception either, timing included (4 characters a second is well under 9).
    assert [violation.rule for violation in report.violations if violation.rule not in TIMING_RULES] == []
    assert report.count("reading_speed") == 0


# --- What libass draws ---

LARGE = replace(PRESETS["classic"], size=0.1)  # 36 px on the tests' 640x360 frames


@pytest.mark.slow
def test_libass_lights_a_chinese_karaoke_cue_character_by_character(tmp_path):
    from tests.test_subtitle_rendering import columns, highlight_mask, karaoke_file, render_frames, white_mask

    words = timed_units("我们用 Python 写代码。", step_s=0.3)  # one line; 们 said 0.80-1.05 s, 代 2.00-2.25 s
    # The classic preset's font, DejaVu Sans, has no Han characters: libass falls back to a CJK font (CI installs
    # fonts-wqy-microhei). The cue stays on screen after its last character (2.55 s), fully lit, until 3.5 s.
    ass_text = karaoke_file(words, language="zh", min_duration_s=3.0, style=LARGE)
    early, middle, after = render_frames(ass_text, [0.95, 2.1, 3.2], tmp_path)
    lit = [columns(highlight_mask(frame)) for frame in (early, middle, after)]
    assert all(len(spans) for spans in lit)
    extents = [int(spans.max() - spans.min()) for spans in lit]
    assert extents[0] < extents[1] < extents[2], extents
    # Early only 我 and part of 们 are lit, the rest white to their right; at the end nothing is white.
    assert lit[0].max() < columns(white_mask(early)).max()
    assert white_mask(after).sum() < 10
    # Six Han characters, a full stop and "Python" at 36 px: over a thousand lit pixels.
    assert highlight_mask(after).sum() > 1000


@pytest.mark.slow
def test_libass_draws_each_chinese_character_as_its_own_glyph_not_a_missing_glyph_box(tmp_path):
    from tests.test_subtitle_rendering import columns, karaoke_file, render_frames, white_mask

    masks = []
    for character in "我们码":
        ass_text = karaoke_file([TimedWord(character, 0.5, 1.5)], mode="line", language="zh", style=LARGE)
        (frame,) = render_frames(ass_text, [1.0], tmp_path)
        masks.append(white_mask(frame))
    # A font without the characters draws the same box for each; each real glyph has a shape of its own.
    assert all(mask.sum() > 150 for mask in masks), "no CJK font found: install fonts-wqy-microhei"
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
    # A Han character is about a square: as wide as two Latin columns, not one.
    (latin,) = render_frames(karaoke_file([TimedWord("n", 0.5, 1.5)], mode="line", style=LARGE), [1.0], tmp_path)
    assert len(columns(masks[0])) > 1.5 * len(columns(white_mask(latin)))
