"""Split text into chunks that each fit one F5-TTS generation window, never inside a unit.

The text is units (`common.text`) with a space between every two: whitespace words, and in Chinese or Japanese
single characters, a Latin word or a number among them staying whole. F5's own `chunk_text` splits after CJK
punctuation even without a following space, which can cut a word in two; the aligner and the subtitles need every
chunk to hold whole units, so chunks here are built from whole units only: sentences first, then clauses, then
single units (a word, or a Chinese character) when a clause alone is over the budget. Sizes are counted in UTF-8
bytes of the text as the model reads it (`common.text.unspaced`: no spaces between Chinese characters), as F5
estimates durations.
"""

from __future__ import annotations

import re

from common.text import unspaced

CLOSING = "\"'”’)]）」』》〉】"  # a sentence or clause still ends after these: 。” ends a sentence
SENTENCE_END = re.compile(rf"[.!?。！？…][{re.escape(CLOSING)}]*$")
CLAUSE_END = re.compile(rf"[,;:，；：、][{re.escape(CLOSING)}]*$")


def chunk_text(text: str, max_bytes: int) -> list[str]:
    """Chunks of at most `max_bytes` as the model reads them (unless one unit alone is longer), preferring sentence
    then clause ends.

    Invariant: `" ".join(chunks).split() == text.split()`.
    """
    words = text.split()
    chunks: list[str] = []
    current: list[str] = []
    for index, word in enumerate(words):
        current.append(word)
        following = words[index + 1] if index + 1 < len(words) else None
        if following is None:
            break
        size = _size(current)
        next_size = _size([*current, following])
        if next_size > max_bytes or (SENTENCE_END.search(word) and _fits_more(size, max_bytes)):
            cut = _best_cut(current, max_bytes) if next_size > max_bytes else len(current)
            chunks.append(" ".join(current[:cut]))
            current = current[cut:]
    if current:
        chunks.append(" ".join(current))
    return chunks


def _size(words: list[str]) -> int:
    """UTF-8 bytes of the words as the model reads them: spaced, but not between Chinese characters."""
    return len(unspaced(" ".join(words)).encode("utf-8"))


def _fits_more(size: int, max_bytes: int) -> bool:
    # End the chunk at a sentence once it is at least half full; short sentences are packed together.
    return size >= max_bytes // 2


def _best_cut(words: list[str], max_bytes: int) -> int:
    """Where to end a full chunk: after the last sentence end, else the last clause end, else all of it."""
    for pattern in (SENTENCE_END, CLAUSE_END):
        for index in range(len(words) - 1, 0, -1):
            if pattern.search(words[index - 1]) and _size(words[:index]) >= max_bytes // 3:
                return index
    return len(words)
