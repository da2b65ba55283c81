"""Text chunking for F5-TTS: whole words only, within the byte budget, preferring sentence ends."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tts.chunking import chunk_text


@given(text=st.text(max_size=400), max_bytes=st.integers(min_value=10, max_value=300))
def test_chunks_hold_every_word_in_order_and_fit_the_budget(text, max_bytes):
    chunks = chunk_text(text, max_bytes)
    assert " ".join(chunks).split() == text.split()
    for chunk in chunks:
        assert chunk and chunk == chunk.strip()
        assert len(chunk.encode("utf-8")) <= max_bytes or len(chunk.split()) == 1


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


def test_cjk_punctuation_without_spaces_never_splits_a_word():
    assert chunk_text("你好，世界。再见！", 6) == ["你好，世界。再见！"]
