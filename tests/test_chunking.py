"""Text chunking for F5-TTS: whole units only, within the byte budget as the model reads the text, preferring
sentence ends, then clause ends; Chinese cut between characters only when a clause alone is over the budget."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from common.text import unspaced
from tests.test_normalize_zh import chinese_text
from tts.chunking import SENTENCE_END, chunk_text
from tts.f5 import F5Synthesizer
from tts.normalize import as_written, normalize
from voice import ReferenceVoice

REFERENCE_TRANSCRIPT = "大家好，今天我想和你们聊一聊怎样用好每一天的时间。"  # about what a 6 s clip says


def model_bytes(chunk: str) -> int:
    return len(unspaced(chunk).encode("utf-8"))


def f5_budget_bytes(reference_s: float) -> int:
    voice = ReferenceVoice(np.zeros(int(reference_s * 24_000), np.float32), 24_000, REFERENCE_TRANSCRIPT)
    return F5Synthesizer._chunk_budget_bytes(voice, speed=1.0)


@given(text=st.text(max_size=400), max_bytes=st.integers(min_value=10, max_value=300))
def test_chunks_hold_every_word_in_order_and_fit_the_budget(text, max_bytes):
    chunks = chunk_text(text, max_bytes)
    assert " ".join(chunks).split() == text.split()
    for chunk in chunks:
        assert chunk and chunk == chunk.strip()
        assert model_bytes(chunk) <= max_bytes or len(chunk.split()) == 1


def test_chunks_end_at_sentences_when_they_can():
    text = "One short sentence. Another one here. A third sentence follows. And a fourth to finish."
    assert chunk_text(text, 45) == [
        "One short sentence. Another one here.",
        "A third sentence follows.",
        "And a fourth to finish.",
    ]


def test_a_long_sentence_is_cut_at_a_clause_then_between_words():
    text = "This sentence has a clause, then it keeps going and going without any further punctuation at all"
    chunks = chunk_text(text, 40)
    assert chunks[0] == "This sentence has a clause,"
    assert all(len(chunk.encode()) <= 40 for chunk in chunks)


def test_a_word_without_spaces_is_never_split_even_over_the_budget():
    assert chunk_text("你好，世界。再见！", 6) == ["你好，世界。再见！"]


def test_a_2000_character_chinese_text_is_said_in_chunks_within_a_6_s_references_budget_ending_at_sentences():
    text_map = normalize(chinese_text(2000), "zh")
    budget = f5_budget_bytes(6.0)
    chunks = chunk_text(text_map.spoken_text, budget)

    assert " ".join(chunks).split() == list(text_map.spoken)
    assert all(model_bytes(chunk) <= budget for chunk in chunks)
    assert all(SENTENCE_END.search(chunk) for chunk in chunks)  # every sentence is far shorter than the budget
    assert all(model_bytes(chunk) >= budget // 3 for chunk in chunks[:-1])  # no needlessly short chunks


def test_chinese_is_measured_without_the_spaces_between_its_characters():
    sentence = "我们沿着河边慢慢地走着，看着远处的山、近处的水和田野里金黄色的庄稼，心里觉得很安静，也很满足，一直走到太阳下山了才回家。"
    paragraph = normalize(sentence * 6, "zh").spoken_text  # 360 characters, 1,080 bytes as the model reads them
    chunks = chunk_text(paragraph, 200)
    # One whole sentence each, 180 bytes; with the 59 spaces between its units counted, each would be cut at a clause.
    assert [unspaced(chunk) for chunk in chunks] == [sentence] * 6
    assert [model_bytes(chunk) for chunk in chunks] == [180] * 6


def test_a_chinese_sentence_over_the_budget_is_cut_at_its_clause_then_between_characters():
    clause = "我们在河边慢慢地走着看着远处的山和近处的水"  # 21 characters, 63 bytes, no punctuation
    sentence = normalize(f"{clause}，{clause * 3}。", "zh").spoken_text
    chunks = chunk_text(sentence, 120)
    assert unspaced(chunks[0]) == f"{clause}，"  # at the clause end, though 19 more characters would fit
    assert [model_bytes(chunk) for chunk in chunks] == [66, 120, 72]  # then 40 characters, cut between two
    assert "".join(unspaced(chunk) for chunk in chunks) == f"{clause}，{clause * 3}。"


def test_a_latin_word_or_a_number_in_chinese_is_never_cut():
    text = as_written("我们用Python 3.11写代码，" * 8, "zh").spoken_text
    for budget in range(20, 80):
        words = [word for chunk in chunk_text(text, budget) for word in chunk.split()]
        assert words.count("Python") == words.count("3.11") == 8
