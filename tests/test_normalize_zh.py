"""Chinese normalization: numbers, dates, times, money and percentages read in Mandarin, in place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.normalize import normalize


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        # Integers: 万/亿 grouping, one 零 for a gap of zeros, 十 not 一十 at the start.
        ("0", "零"),
        ("10", "十"),
        ("12", "十二"),
        ("20", "二十"),
        ("105", "一百零五"),
        ("110", "一百一十"),
        ("1005", "一千零五"),
        ("1010", "一千零一十"),
        ("10010", "一万零一十"),
        ("100000", "十万"),
        ("110000", "十一万"),
        ("1100000", "一百一十万"),
        ("100100000", "一亿零一十万"),
        ("123456789", "一亿二千三百四十五万六千七百八十九"),
        ("1000000000000", "一万亿"),
        ("1,234", "一千二百三十四"),
        ("-5", "负五"),
        ("温度-5度", "温度负五度"),
        # Decimals and percentages.
        ("3.14", "三点一四"),
        ("0.5", "零点五"),
        ("50%", "百分之五十"),
        ("3.5%", "百分之三点五"),
        ("50％", "百分之五十"),
        ("-2%", "负百分之二"),
        # Money: the unit after the amount, not twice.
        ("¥3.5", "三点五元"),
        ("$3.50", "三点五美元"),
        ("¥3.00", "三元"),
        ("¥3.05", "三点零五元"),
        ("$1.50-2.50", "一点五到二点五美元"),
        ("￥20", "二十元"),
        ("¥3.5元", "三点五元"),
        ("¥3块", "三块"),
        ("£2镑", "二镑"),
        ("$5", "五美元"),
        ("€2", "二欧元"),
        ("£1,000", "一千英镑"),
        ("价格是¥3.5元，共12个。", "价格是三点五元，共十二个。"),
        # Dates: a year before 年 digit by digit, months and days as numbers.
        ("2024年3月5日", "二零二四年三月五日"),
        ("2024-03-05", "二零二四年三月五日"),
        ("2024/3/5", "二零二四年三月五日"),
        ("学了3年", "学了三年"),
        # Times.
        ("14:30", "十四点三十分"),
        ("9:05", "九点零五分"),
        ("14:00", "十四点"),
        ("2:00", "两点"),
        ("8：15", "八点十五分"),
        ("14:30:15", "十四点三十分十五秒"),
        # Ordinals, and 两 for a lone 2 that counts something.
        ("第3", "第三"),
        ("第2个", "第二个"),
        ("2个苹果", "两个苹果"),
        ("12个", "十二个"),
        ("2月", "二月"),
        # Digit strings with a leading zero, and full-width digits.
        ("010", "零一零"),
        ("电话010-12345678", "电话零一零-一二三四五六七八"),
        ("００７", "零零七"),
        ("共１２个", "共十二个"),
        ("１２％", "百分之十二"),
        # Ranges: 到 between the ends, the unit or 百分之 with each as written; a chain of dashes is no range.
        ("3-5个", "三到五个"),
        ("3~5天", "三到五天"),
        ("3～5天", "三到五天"),
        ("1.5-2小时", "一点五到二小时"),
        ("10-20%", "百分之十到百分之二十"),
        ("10%-20%", "百分之十到百分之二十"),
        ("5%-3%", "百分之五-百分之三"),  # no range (falling), and no minus after a percent sign
        ("5元-10元", "五元-十元"),
        ("3个-5个", "三个-五个"),
        ("$3-5", "三到五美元"),
        ("¥3-5元", "三到五元"),
        ("2023-2024年", "二零二三到二零二四年"),
        ("3-5月", "三到五月"),
        ("1-2-3", "一-二-三"),
        ("范围3-5.", "范围三到五."),
        ("100-200人", "一百到二百人"),
        ("1-2个", "一到两个"),
        ("2-3天", "两到三天"),
        ("2-3月", "二到三月"),  # months are named, not counted
        ("3-5kg", "三到五kg"),
        ("£3-5镑", "三到五镑"),
        ("9:00-17:00", "九点-十七点"),  # times keep their own reading
        ("比分3-2", "比分三-二"),  # a higher number first is no range
        ("12-01", "十二-零一"),
        ("热线400-8888", "热线四百-八千八百八十八"),
        # Mixed with spaces and Latin words.
        ("我有 3 个苹果", "我有 三 个苹果"),
        ("F5-TTS很好", "F五-TTS很好"),
    ],
)
def test_chinese_is_said_as_documented(written, spoken):
    assert normalize(written, "zh").spoken_text == spoken


@pytest.mark.parametrize("language", ["zh", "zh-cn", "zh-CN", "zh-TW"])
def test_every_chinese_code_is_normalized(language):
    assert normalize("共12个", language).spoken_text == "共十二个"


@pytest.mark.parametrize("text", ["今天天气很好。", "你好，世界！", "我爱 北京 天安门", "“引号”（括号）"])
def test_text_without_numbers_is_said_as_written(text):
    text_map = normalize(text, "zh")
    assert text_map.spoken == text_map.written == tuple(text.split())


def test_each_written_run_is_one_spoken_word_mapped_back_to_it():
    text = "我有 3 个苹果，价格是¥3.5元。 2024-03-05 见"
    text_map = normalize(text, "zh")
    assert text_map.written == tuple(text.split())
    assert text_map.written_of == tuple(range(len(text_map.written)))
    pairs = [(text_map.spoken[i], text_map.written[owner]) for i, owner in enumerate(text_map.written_of)]
    assert pairs == [
        ("我有", "我有"),
        ("三", "3"),
        ("个苹果，价格是三点五元。", "个苹果，价格是¥3.5元。"),
        ("二零二四年三月五日", "2024-03-05"),
        ("见", "见"),
    ]


def test_other_languages_are_untouched():
    assert normalize("2 tickets", "en").spoken_text == "two tickets"
    assert normalize("12个", "ja").spoken_text == "12个"


NUMERALS = dict(zip("零一二三四五六七八九", range(10), strict=True))
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}


def parse_chinese_integer(said: str) -> int:
    """An independent reader of Chinese numerals, for the round trip: 一亿零一十万 → 100100000."""
    total = section = digit = 0
    for char in said:
        if char in NUMERALS:
            digit = NUMERALS[char]
        elif char in SMALL_UNITS:
            section += (digit or 1) * SMALL_UNITS[char]  # a bare 十 is one ten
            digit = 0
        elif char == "万":
            section = (section + digit) * 10**4
            digit = 0
        elif char == "亿":  # 亿 closes everything before it, 万 included (一万亿)
            total = (total + section + digit) * 10**8
            section = digit = 0
        else:
            raise ValueError(f"not a Chinese numeral: {char!r}")
    return total + section + digit


@given(st.integers(min_value=0, max_value=10**12))
def test_integers_are_read_back_to_themselves(number):
    said = normalize(str(number), "zh").spoken_text
    assert set(said) <= set("零一二三四五六七八九十百千万亿")
    assert parse_chinese_integer(said) == number


@given(st.text(max_size=80) | st.text(alphabet="0123456789０１２３,.:-%％¥$年月日第个 价", max_size=40))
def test_any_text_keeps_one_spoken_word_per_written_word(text):
    text_map = normalize(text, "zh")
    assert text_map.written == tuple(text.split())
    assert text_map.written_of == tuple(range(len(text_map.written)))
    assert all(word and not any(c.isspace() for c in word) for word in text_map.spoken)
    assert not any(c in "0123456789０１２３" for word in text_map.spoken for c in word)
