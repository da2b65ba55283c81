"""Units of text (common.text): a Han or kana character each, Latin words and numbers whole, punctuation attached."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.text import LENGTHENING, is_unspaced, join_units, units, unspaced


def texts(text: str) -> list[str]:
    return [unit for unit, _ in units(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Punctuation belongs to the character before it, full-width or ASCII, one mark or several.
        ("你好，世界。", ["你", "好，", "世", "界。"]),
        ("真的吗？！", ["真", "的", "吗？！"]),
        ("等等……好", ["等", "等……", "好"]),
        ("好。”他说", ["好。”", "他", "说"]),
        # Opening marks belong to the character after them, and so does a mark with nothing before it.
        ("他说：“你好”", ["他", "说：", "“你", "好”"]),
        ("「こんにちは」", ["「こ", "ん", "に", "ち", "は」"]),
        ("我（你）", ["我", "（你）"]),
        ('"你好"', ['"你', '好"']),
        ("、好", ["、好"]),
        # A sign or a currency symbol before a digit opens the number; after a digit or letter a dash joins them.
        ("温度-5度", ["温", "度", "-5", "度"]),
        ("价格是¥3.5元", ["价", "格", "是", "¥3.5", "元"]),
        ("5元-10元", ["5", "元", "-10", "元"]),
        ("3-5个", ["3-5", "个"]),
        ("US$5美元", ["US$5", "美", "元"]),
        ("是-", ["是-"]),
        # Latin words and numbers inside Chinese stay whole, with the marks inside them.
        ("用Python写", ["用", "Python", "写"]),
        ("版本3.11。", ["版", "本", "3.11。"]),
        ("f(x)是函数", ["f(x)", "是", "函", "数"]),
        ("F5-TTS很好", ["F5-TTS", "很", "好"]),
        ("2024年3月5日", ["2024", "年", "3", "月", "5", "日"]),
        # Kana are units too; iteration and length marks are said with the character before them.
        ("東京タワー", ["東", "京", "タ", "ワー"]),
        ("人々", ["人々"]),
        ("時々ゝ", ["時々ゝ"]),
        ("々", ["々"]),
        ("カタカナとひらがな", ["カ", "タ", "カ", "ナ", "と", "ひ", "ら", "が", "な"]),
    ],
)
def test_units_of_unspaced_text_are_as_documented(text, expected):
    assert texts(text) == expected


def test_a_unit_is_glued_when_the_writer_put_no_space_before_it():
    assert units("我们用 Python 3.11。") == [
        ("我", False),
        ("们", True),
        ("用", True),
        ("Python", False),
        ("3.11。", False),
    ]


@pytest.mark.parametrize("text", ["Hello, world!", "  two  spaces\tand\nlines ", "F5-TTS (v1.0) — ¡ok! -5 $3", ""])
def test_text_without_han_or_kana_is_split_at_whitespace(text):
    assert units(text) == [(word, False) for word in text.split()]


@given(st.text(max_size=120))
def test_units_put_back_together_are_the_text_with_single_spaces(text):
    pieces = units(text)
    assert join_units(pieces) == " ".join(text.split())
    assert all(unit and not any(char.isspace() for char in unit) for unit, _ in pieces)
    assert not pieces or not pieces[0][1]


@given(st.text(alphabet="我们你好東京タワー々ー，。！“”（）-5¥3.abPython ", max_size=60))
def test_every_unit_holds_at_most_one_han_or_kana_character_not_counting_lengthening_marks(text):
    for unit, _ in units(text):
        assert sum(1 for char in unit if is_unspaced(char) and char not in LENGTHENING) <= 1


def test_the_model_reads_chinese_without_the_spaces_between_its_characters():
    assert unspaced("我 们 用 Python 三 点 一 一。 “你 好”") == "我们用 Python 三点一一。“你好”"
    assert unspaced("plain English text") == "plain English text"
