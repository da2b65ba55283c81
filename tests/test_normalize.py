"""Text normalization: the spoken form, and the map from each spoken word back to the written one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.text import units
from tts.normalize import TextMap, as_written, normalize


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("2 tickets", "two tickets"),
        ("1,234", "one thousand two hundred and thirty-four"),
        ("3.14", "three point one four"),
        ("$3.50", "three dollars and fifty cents"),
        ("$1", "one dollar"),
        ("€2.01", "two euros and one cent"),
        ("£0.5", "zero pounds and fifty pence"),
        ("50%", "fifty percent"),
        ("21st", "twenty-first"),
        ("3rd", "third"),
        ("In 1990,", "In nineteen ninety,"),
        ("at 3:45.", "at three forty-five."),
        ("at 10:00", "at ten o'clock"),
        ("at 9:05", "at nine oh five"),
        ("on 2024-05-01", "on May first twenty twenty-four"),
        ("Dr. Smith", "Doctor Smith"),
        ("salt vs. pepper", "salt versus pepper"),
        ("fruit, e.g., apples", "fruit, for example, apples"),
        ("rock & roll", "rock and roll"),
        ("F5-TTS", "F five TTS"),
        ("(42)", "(forty-two)"),
        ("Plain words stay.", "Plain words stay."),
        ("No. St. stay", "No. St. stay"),  # ambiguous abbreviations are left to the engine
    ],
)
def test_english_is_said_as_documented(written, spoken):
    assert normalize(written).spoken_text == spoken


def test_each_spoken_word_maps_back_to_the_word_it_stands_for():
    text_map = normalize("I paid $3.50 for 2 tickets.")
    pairs = [(text_map.spoken[i], text_map.written[owner]) for i, owner in enumerate(text_map.written_of)]
    assert pairs == [
        ("I", "I"),
        ("paid", "paid"),
        ("three", "$3.50"),
        ("dollars", "$3.50"),
        ("and", "$3.50"),
        ("fifty", "$3.50"),
        ("cents", "$3.50"),
        ("for", "for"),
        ("two", "2"),
        ("tickets.", "tickets."),
    ]


def test_other_languages_get_their_numbers_and_nothing_else():
    assert normalize("Es kostet 25 Euro, Dr. Weber", "de").spoken_text == "Es kostet fünfundzwanzig Euro, Dr. Weber"
    assert normalize("Il y a 3 chats", "fr").spoken_text == "Il y a trois chats"


@given(st.text(max_size=80))
def test_any_text_keeps_every_written_unit_in_order(text):
    text_map = normalize(text)
    assert text_map.written == tuple(unit for unit, _ in units(text))
    assert text_map.written_text == " ".join(text.split())
    assert len(text_map.spoken) == len(text_map.written_of)
    assert list(text_map.written_of) == sorted(text_map.written_of)
    assert set(text_map.written_of) == set(range(len(text_map.written)))
    assert all(word and not any(c.isspace() for c in word) for word in text_map.spoken)


def test_without_normalization_every_word_is_said_as_written():
    text_map = as_written("In 1990, $5")
    assert text_map.spoken == text_map.written == ("In", "1990,", "$5")


def test_english_text_is_split_at_whitespace_and_nothing_in_it_is_glued():
    text_map = normalize("I paid $3.50, twice.")
    assert text_map.written == ("I", "paid", "$3.50,", "twice.")
    assert text_map.glued == (False, False, False, False)
    assert text_map.written_text == "I paid $3.50, twice."


def test_a_map_built_without_glued_flags_glues_nothing_and_wrong_flags_are_refused():
    assert TextMap(written=("a", "b"), spoken=("a", "b"), written_of=(0, 1)).glued == (False, False)
    with pytest.raises(ValueError, match="glued"):
        TextMap(written=("a", "b"), spoken=("a", "b"), written_of=(0, 1), glued=(False,))


def test_joined_maps_keep_their_glued_units_and_start_each_part_unglued():
    joined = TextMap.join([normalize("我们 好", "zh"), normalize("你们", "zh"), normalize("Hi there", "en")])
    assert joined.written == ("我", "们", "好", "你", "们", "Hi", "there")
    assert joined.glued == (False, True, False, False, True, False, False)
    assert joined.written_text == "我们 好 你们 Hi there"
    assert joined.written_of == (0, 1, 2, 3, 4, 5, 6)


def test_cutting_long_spoken_words_keeps_the_written_units_and_their_glue():
    text_map = normalize("我们说 " + "x" * 30, "zh")
    cut = text_map.with_words_at_most(10)
    assert cut.spoken[:3] == ("我", "们", "说") and "".join(cut.spoken[3:]) == "x" * 30 and len(cut.spoken) == 6
    assert cut.glued == text_map.glued == (False, True, True, False)
    assert cut.written_of == (0, 1, 2, 3, 3, 3)
