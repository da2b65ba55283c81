"""Chinese normalization: numbers, dates, times, money and percentages read in Mandarin, in place, said one
character a unit, each reading standing for the written unit it reads."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.text import LENGTHENING, is_unspaced, units
from tts.normalize import as_written, normalize

# Varied Chinese: sentence and clause punctuation, quotes, numbers, dates, times, money, a percentage, a range and a
# Latin word with a version number.
SENTENCES = [
    "今天的天气很好，我们一起去公园散步。",
    "这家店的咖啡要¥28元一杯，比上个月贵了15%！",
    "会议在2024年3月5日下午3:30开始，请大家准时参加。",
    "他说：“学习Python 3.11不难，只要每天练习。”",
    "你知道从北京到上海要坐几个小时的高铁吗？",
    "春天来了，花开了，鸟儿在树上唱歌。",
    "请把这份文件发给张经理、李老师和王同学。",
    "这本书一共有320页，我已经读完了一半。",
    "每天跑3-5公里，坚持了2年，体重减了10%。",
    "河边有三座老磨坊；每一座都有自己的故事！",
]


def chinese_text(characters: int) -> str:
    """At least `characters` characters of the sentences above, in a varying order, as one paragraph."""
    text, index = "", 0
    while len(text) < characters:
        text += SENTENCES[index * 7 % len(SENTENCES)]
        index += 1
    return text


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
        ("我有 3 个苹果", "我有三个苹果"),
        ("F5-TTS很好", "F五-TTS很好"),
    ],
)
def test_chinese_is_said_as_documented(written, spoken):
    assert "".join(normalize(written, "zh").spoken) == spoken


@pytest.mark.parametrize("language", ["zh", "zh-cn", "zh-CN", "zh-TW"])
def test_every_chinese_code_is_normalized(language):
    assert normalize("共12个", language).spoken == ("共", "十", "二", "个")


@pytest.mark.parametrize("text", ["今天天气很好。", "你好，世界！", "我爱 北京 天安门", "“引号”（括号）"])
def test_text_without_numbers_is_said_as_written_one_character_a_unit(text):
    text_map = normalize(text, "zh")
    assert text_map.spoken == text_map.written == tuple(unit for unit, _ in units(text))
    assert text_map.written_text == text


def test_each_reading_is_said_one_character_a_unit_for_the_written_unit_it_reads():
    text = "我有 3 个苹果，价格是¥3.5元。 2024-03-05 见"
    text_map = normalize(text, "zh")
    pairs = [(text_map.spoken[i], text_map.written[owner]) for i, owner in enumerate(text_map.written_of)]
    assert pairs == [
        ("我", "我"), ("有", "有"),
        ("三", "3"),
        ("个", "个"), ("苹", "苹"), ("果，", "果，"), ("价", "价"), ("格", "格"), ("是", "是"),
        ("三", "¥3.5"), ("点", "¥3.5"), ("五", "¥3.5"),
        ("元。", "元。"),
        ("二", "2024-03-05"), ("零", "2024-03-05"), ("二", "2024-03-05"), ("四", "2024-03-05"),
        ("年", "2024-03-05"), ("三", "2024-03-05"), ("月", "2024-03-05"), ("五", "2024-03-05"), ("日", "2024-03-05"),
        ("见", "见"),
    ]  # fmt: skip
    assert text_map.glued == (False, True, False, False, True, True, True, True, True, True, True, False, False)


def test_a_currency_said_by_a_money_reading_is_timed_with_its_amount():
    text_map = normalize("只要¥3", "zh")
    assert text_map.spoken == ("只", "要", "三", "元")
    assert [text_map.written[owner] for owner in text_map.written_of] == ["只", "要", "¥3", "¥3"]


def test_a_2000_character_text_is_said_one_character_a_unit_and_every_written_unit_is_said():
    text = chinese_text(2000)
    text_map = normalize(text, "zh")
    assert text_map.written_text == text
    assert list(text_map.written_of) == sorted(text_map.written_of)
    assert set(text_map.written_of) == set(range(len(text_map.written)))
    for word in text_map.spoken:
        said = "".join(char for char in word if unicodedata.category(char)[0] not in "PS")
        assert (len(said) == 1 and is_unspaced(said)) or re.fullmatch("[A-Za-z]+", said), word
    assert "Python" in text_map.spoken and "3.11" in text_map.written


def test_a_latin_word_and_a_number_in_chinese_stay_whole_and_the_number_is_read_in_chinese():
    text = "我们用 Python 3.11 写代码"
    text_map = normalize(text, "zh")
    assert text_map.written == ("我", "们", "用", "Python", "3.11", "写", "代", "码")
    assert text_map.spoken == ("我", "们", "用", "Python", "三", "点", "一", "一", "写", "代", "码")
    assert [text_map.written[owner] for owner in text_map.written_of][3:8] == ["Python"] + ["3.11"] * 4
    assert text_map.written_text == text


def test_without_normalization_chinese_is_still_said_one_character_a_unit():
    text_map = as_written("共12个，好。", "zh")
    assert text_map.spoken == text_map.written == ("共", "12", "个，", "好。")
    assert text_map.written_text == "共12个，好。"


def test_other_languages_do_not_get_mandarin_readings():
    assert normalize("2 tickets", "en").spoken_text == "two tickets"
    assert normalize("2个", "ja").spoken == ("二", "个")  # num2words' Japanese, not 两
    assert normalize("2個", "yue").spoken == ("2", "個")  # num2words has no Cantonese


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
    said = "".join(normalize(str(number), "zh").spoken)
    assert set(said) <= set("零一二三四五六七八九十百千万亿")
    assert parse_chinese_integer(said) == number


@given(st.text(max_size=80) | st.text(alphabet="0123456789０１２３,.:-%％¥$年月日第个 价Python“”（）。，", max_size=40))
def test_any_text_gives_every_written_unit_a_spoken_unit_in_order_and_no_digits(text):
    text_map = normalize(text, "zh")
    assert text_map.written == tuple(unit for unit, _ in units(text))
    assert text_map.written_text == " ".join(text.split())
    assert list(text_map.written_of) == sorted(text_map.written_of)
    assert set(text_map.written_of) == set(range(len(text_map.written)))
    assert all(word and not any(c.isspace() for c in word) for word in text_map.spoken)
    assert all(sum(is_unspaced(c) and c not in LENGTHENING for c in word) <= 1 for word in text_map.spoken)
    assert not any(c in "0123456789０１２３" for word in text_map.spoken for c in word)
