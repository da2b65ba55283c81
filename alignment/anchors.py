"""Which words a recognizer heard are which words of the transcript: the pairs that anchor a recording to its text.

Recognition gets words wrong, drops some and adds others, and a transcript may have sentences the audio lacks (or
the reverse), so the two word lists are matched as a diff tool matches two versions of a file (patience diff):
words that occur once in each are paired, the longest chain of pairs in the same order in both is kept, and the
stretches between those pairs are matched again the same way. Where no word is unique (a passage read twice),
words that occur the same number of times in both are paired occurrence by occurrence. Small stretches left
without any such word fall back to a longest-common-subsequence match.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Sequence

SMALL_STRETCH = 2_500  # heard × written words: below this a stretch is matched by difflib


def word_key(word: str) -> str:
    """What two spellings of one word share: lower case, letters and digits only ("Harbour," → "harbour")."""
    return "".join(char for char in word.casefold() if char.isalnum())


def match_words(heard: Sequence[str], written: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (heard index, written index) of words with the same key, increasing in both; words whose key is empty
    (punctuation) are never paired."""
    heard_keys = [word_key(word) for word in heard]
    written_keys = [word_key(word) for word in written]
    pairs: list[tuple[int, int]] = []
    stretches = [(0, len(heard_keys), 0, len(written_keys))]
    while stretches:
        h_first, h_last, w_first, w_last = stretches.pop()
        if h_first >= h_last or w_first >= w_last:
            continue
        chain = _chain(heard_keys, written_keys, h_first, h_last, w_first, w_last)
        if not chain:
            if (h_last - h_first) * (w_last - w_first) <= SMALL_STRETCH:
                pairs += _common_subsequence(heard_keys, written_keys, h_first, h_last, w_first, w_last)
            continue
        pairs += chain
        bounds = [(h_first - 1, w_first - 1), *chain, (h_last, w_last)]
        for (h_before, w_before), (h_after, w_after) in zip(bounds, bounds[1:], strict=False):
            stretches.append((h_before + 1, h_after, w_before + 1, w_after))
    return sorted(pairs)


def _chain(heard: list[str], written: list[str], h_first: int, h_last: int, w_first: int, w_last: int
           ) -> list[tuple[int, int]]:  # fmt: skip
    """The longest in-order chain of pairs of words unique in both stretches, else of words as frequent in both."""
    heard_at: dict[str, list[int]] = {}
    for index in range(h_first, h_last):
        if heard[index]:
            heard_at.setdefault(heard[index], []).append(index)
    written_at: dict[str, list[int]] = {}
    for index in range(w_first, w_last):
        if written[index]:
            written_at.setdefault(written[index], []).append(index)
    counts = Counter({key: len(places) for key, places in heard_at.items() if key in written_at})
    for same_count in (lambda key: counts[key] == 1 == len(written_at[key]),
                       lambda key: counts[key] == len(written_at[key])):  # fmt: skip
        candidates = sorted(
            pair for key in counts if same_count(key) for pair in zip(heard_at[key], written_at[key], strict=True)
        )
        if candidates:
            return _longest_increasing(candidates)
    return []


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest sub-list of `pairs` (sorted by their first item, all distinct) whose second items increase."""
    tails: list[int] = []  # tails[k]: the smallest written index ending a chain of k + 1 pairs
    tail_at: list[int] = []  # … and which pair that is
    previous = [-1] * len(pairs)
    for position, (_, written) in enumerate(pairs):
        length = bisect.bisect_left(tails, written)
        if length == len(tails):
            tails.append(written)
            tail_at.append(position)
        else:
            tails[length] = written
            tail_at[length] = position
        previous[position] = tail_at[length - 1] if length else -1
    chain = []
    position = tail_at[-1] if tail_at else -1
    while position >= 0:
        chain.append(pairs[position])
        position = previous[position]
    return chain[::-1]


def _common_subsequence(heard: list[str], written: list[str], h_first: int, h_last: int, w_first: int, w_last: int
                        ) -> list[tuple[int, int]]:  # fmt: skip
    matcher = difflib.SequenceMatcher(None, heard[h_first:h_last], written[w_first:w_last], autojunk=False)
    return [
        (h_first + block.a + offset, w_first + block.b + offset)
        for block in matcher.get_matching_blocks()
        for offset in range(block.size)
        if heard[h_first + block.a + offset]
    ]
