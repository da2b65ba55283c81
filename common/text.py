"""Units of text for scripts written without spaces between words (Chinese, Japanese).

The worker times, chunks and captions text as a sequence of units. In most languages a unit is a
whitespace-separated word. Han characters and kana are each a unit of their own, as WhisperX aligns them and as
karaoke lights them; a run of other letters and digits inside such text (`Python`, `3.11`) stays one unit.
Punctuation belongs to the unit before it (`码。`), an opening mark to the unit after it (`“你`).

Internally a text of units is written with a space between every two units, so everything downstream splits it
with `str.split()`. Whether the writer put a space there is kept as `glued` (no space before the unit), so that
captions and results show the text as it was written:

    units("我们用 Python 3.11。")  → [("我", False), ("们", True), ("用", True), ("Python", False), ("3.11。", False)]
    join_units(...)               → "我们用 Python 3.11。"
    unspaced("我 们 用 Python")    → "我们用 Python"   (what a speech model reads)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Languages whose text has no spaces between words: their units are characters (WhisperX aligns them so).
LANGUAGES_WITHOUT_SPACES = frozenset({"zh", "ja", "yue"})
OPENING = "“‘«‹([{¿¡「『（【〈《〔"  # not the ASCII quotes, which close as often as they open
LENGTHENING = "々ーゝゞヽヾ"  # iteration and length marks: said with the character before them


def is_unspaced(char: str) -> bool:
    """A character of a script written without spaces between words: Han (CJK ideographs) or kana."""
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions B and later
        or (0x3040 <= code <= 0x30FF and char not in "゠・")  # hiragana, katakana (not their two punctuation marks)
        or 0x31F0 <= code <= 0x31FF  # katakana phonetic extensions
        or 0xFF66 <= code <= 0xFF9F  # half-width katakana
        or char in "々〆"  # iteration marks
    )


def _is_mark(char: str) -> bool:
    """Punctuation or a symbol that belongs to a neighbouring unit rather than being said on its own."""
    return unicodedata.category(char)[0] in "PS"


def has_unspaced(text: str) -> bool:
    return any(is_unspaced(char) for char in text)


def units(text: str) -> list[tuple[str, bool]]:
    """The text's units in order, each with `glued`: True when it follows the previous unit without a space."""
    result: list[tuple[str, bool]] = []
    for word in text.split():
        pieces = _word_units(word) if has_unspaced(word) else [word]
        result += [(piece, index > 0) for index, piece in enumerate(pieces)]
    return result


def _word_units(word: str) -> list[str]:
    """A space-free word of mixed text in units: each unspaced character, each run of other letters and digits
    (with the marks inside it: `3.11`), marks attached to the unit before, opening marks to the unit after. A sign
    or currency symbol before a digit opens the number (`-5`, `¥3`), and so does any mark with no unit before it."""
    pieces: list[str] = []
    pending = ""  # marks waiting for the unit they open
    for index, char in enumerate(word):
        continues_run = bool(pieces) and not pending and _in_run(pieces[-1], char)
        opens_number = (char in "-−+" or unicodedata.category(char) == "Sc") and word[index + 1 : index + 2].isdigit()
        if char in LENGTHENING and pieces and not pending:
            pieces[-1] += char
        elif continues_run:
            pieces[-1] += char
        elif char in OPENING or opens_number or (_is_mark(char) and (pending or not pieces)):
            pending += char
        elif _is_mark(char):
            pieces[-1] += char
        else:
            pieces.append(pending + char)
            pending = ""
    if pending:
        if pieces:
            pieces[-1] += pending
        else:
            pieces.append(pending)
    return pieces


def _in_run(piece: str, char: str) -> bool:
    """Whether `char` continues `piece` as a run of letters and digits (not a unit of an unspaced script)."""
    return not is_unspaced(char) and not any(is_unspaced(c) for c in piece)


def join_units(pieces: Iterable[tuple[str, bool]]) -> str:
    """The units as written: a space before each unit that is not glued to the one before."""
    return "".join((text if glued or index == 0 else " " + text) for index, (text, glued) in enumerate(pieces))


# Han, kana, CJK punctuation and full-width forms: a space between two of these is not said.
_UNSPACED_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_QUOTES = "“”‘’"  # Chinese text uses the curly quotes too: unspaced next to a character, spaced in English
_SPACE_BETWEEN_UNSPACED = re.compile(
    rf"(?<=[{_UNSPACED_CLASS}])\s+(?=[{_UNSPACED_CLASS}{_QUOTES}])|(?<=[{_UNSPACED_CLASS}{_QUOTES}])\s+(?=[{_UNSPACED_CLASS}])"
)


def unspaced(text: str) -> str:
    """The text with the spaces between two characters of unspaced scripts (and their punctuation) removed:
    what a speech model trained on written Chinese or Japanese reads. Spaces around Latin words stay."""
    return _SPACE_BETWEEN_UNSPACED.sub("", text)


# Punctuation that stands alone between words ("there — and", "wait ... what", a spaced quotation mark) is not
# spoken: a "word" made only of these has nothing for an aligner to place, and a text of nothing else says nothing.
UNSPOKEN_CATEGORIES = frozenset({"Pd", "Ps", "Pe", "Pi", "Pf"})  # dashes, brackets, opening and closing quotes
UNSPOKEN_MARKS = frozenset(".,;:!?…'\"·¡¿、。，！？；：")


def is_unspoken(word: str) -> bool:
    """Whether `word` is punctuation alone, which no voice speaks (`—`, `...`, `"`)."""
    return all(char in UNSPOKEN_MARKS or unicodedata.category(char) in UNSPOKEN_CATEGORIES for char in word)
