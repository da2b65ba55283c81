"""Text normalization: what the user wrote → what is said, keeping a map from spoken units back to written ones.

F5-TTS reads digits and symbols badly, and the aligner can only place letters; both get the spoken form. The
subtitles show the user's own words, timed by the spoken units that stand for them: `TextMap.written_of[i]` is
the written unit behind spoken unit `i`.

Text is handled as units (`common.text.units`), in every language: whitespace words, except that each Han or kana
character is a unit of its own (punctuation attached) and a Latin word or number inside such text stays whole.
Text without Han or kana is split at whitespace exactly as before. `TextMap.glued` keeps where the writer put no
space, so `TextMap.written_text` is the text as written.

English is normalized fully (numbers, decimals, currency, percentages, ordinals, years, times, ISO dates,
common abbreviations and symbols). Chinese (zh, zh-CN, …) gets numbers, decimals, percentages, currency, dates,
times, ranges and digit strings read in Mandarin; each reading is said one character a unit, every one of them
standing for the written unit it reads (`2024` → 二 零 二 四). Other languages (Japanese included) get plain numbers
spelled by num2words where it knows the language, said one unit a character where that is Han, and are otherwise
left as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from alignment import AlignedWord
from common.text import join_units, units

CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
              "£": ("pound", "pounds", "penny", "pence")}  # fmt: skip
ABBREVIATIONS = {
    # Only unambiguous ones: "No." and "St." read differently by context, so they are left to the engine.
    "dr.": "doctor", "mr.": "mister", "mrs.": "missus", "ms.": "miz", "prof.": "professor", "vs.": "versus",
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "approx.": "approximately", "jr.": "junior",
    "sr.": "senior",
}  # fmt: skip
SYMBOLS = {"&": "and", "+": "plus", "=": "equals", "@": "at", "%": "percent", "#": "number", "×": "times"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip

LEADING = re.compile(r"^[\"'“‘(\[«¡¿]+")
TRAILING = re.compile(r"[\"'”’)\]».,;:!?…]+$")
NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$")
# Longer spoken words (a pasted hash or URL, a long run of Chinese without spaces) are said in pieces of at most
# this many UTF-8 bytes, so that no chunk of text outgrows a speech model's window: about 13 s of speech.
MAX_WORD_BYTES = 200
PIECE_ENDS = frozenset(".!?,;:。！？，；：、…")  # a piece ends after the last of these that fits, if any


@dataclass(frozen=True)
class TextMap:
    """The written units, the spoken units, and for each spoken unit the index of the written unit it stands for.

    `glued[i]` is True when written unit `i` follows the one before it with no space between them (`们` in 我们).
    Left empty, it is filled with False for every written unit: a text split at whitespace.
    """

    written: tuple[str, ...]
    spoken: tuple[str, ...]
    written_of: tuple[int, ...]
    glued: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if not self.glued:
            object.__setattr__(self, "glued", (False,) * len(self.written))
        elif len(self.glued) != len(self.written):
            raise ValueError(f"{len(self.glued)} glued flags for {len(self.written)} written units")

    @property
    def spoken_text(self) -> str:
        """The spoken units with a space between every two: what the engines are given."""
        return " ".join(self.spoken)

    @property
    def written_text(self) -> str:
        """The text as written, its whitespace made single spaces: units glued where the writer put no space."""
        return join_units(zip(self.written, self.glued, strict=True))

    @classmethod
    def join(cls, maps: Sequence[TextMap]) -> TextMap:
        """Several texts said one after another, as one map (the first unit of each is not glued to the last)."""
        written: list[str] = []
        spoken: list[str] = []
        owners: list[int] = []
        glued: list[bool] = []
        for part in maps:
            owners += [len(written) + owner for owner in part.written_of]
            written += part.written
            spoken += part.spoken
            glued += [False, *part.glued[1:]] if part.written else []
        return cls(written=tuple(written), spoken=tuple(spoken), written_of=tuple(owners), glued=tuple(glued))

    def with_words_at_most(self, max_bytes: int = MAX_WORD_BYTES) -> TextMap:
        """This map with each spoken word over `max_bytes` cut into pieces that all stand for the same written word
        (so the subtitles still show it whole): after punctuation where there is some, else between characters
        (never before a combining mark)."""
        spoken: list[str] = []
        owners: list[int] = []
        for word, owner in zip(self.spoken, self.written_of, strict=True):
            pieces = _pieces(word, max_bytes)
            spoken += pieces
            owners += [owner] * len(pieces)
        return replace(self, spoken=tuple(spoken), written_of=tuple(owners))

    def written_words(self, spoken: Sequence[AlignedWord]) -> list[AlignedWord]:
        """The user's words, each timed from the first to the last spoken word that stands for it."""
        groups: list[list[AlignedWord]] = [[] for _ in self.written]
        for word, owner in zip(spoken, self.written_of, strict=True):
            groups[owner].append(word)
        return [_written_word(text, parts) for text, parts in zip(self.written, groups, strict=True)]


def _pieces(word: str, max_bytes: int) -> list[str]:
    pieces: list[str] = []
    rest = word
    while len(rest.encode("utf-8")) > max_bytes:
        fits = len(rest.encode("utf-8")[:max_bytes].decode("utf-8", "ignore"))
        cut = max((i + 1 for i in range(fits) if rest[i] in PIECE_ENDS), default=fits)
        while cut > 1 and unicodedata.category(rest[cut]).startswith("M"):  # a mark stays with its letter
            cut -= 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [*pieces, rest]


def _written_word(text: str, parts: list[AlignedWord]) -> AlignedWord:
    scores = [part.score for part in parts if part.score is not None]
    return AlignedWord(
        text=text,
        start_s=parts[0].start_s,
        end_s=parts[-1].end_s,
        score=sum(scores) / len(scores) if scores else None,
        interpolated=all(part.interpolated for part in parts),
        # Character timings only where the written word is the spoken one.
        chars=parts[0].chars if len(parts) == 1 and text == parts[0].text else None,
    )


def normalize(text: str, language: str = "en") -> TextMap:
    """Split `text` into units and say each; punctuation stays on the spoken units it followed.

    Every written unit has at least one spoken unit, and the spoken units come in the order of the written ones
    they stand for. A spoken unit holds no whitespace; where it holds Han or kana, it is one such character (with
    its punctuation and any length mark), and otherwise it is a run of letters or digits as written (`Python`).
    """
    pieces = units(text)
    written = tuple(unit for unit, _ in pieces)
    if language.split("-")[0].lower() == "zh":
        said = [[reading] if reading else [] for reading in _chinese(text, written)]
    else:
        said = [_say(unit, language) for unit in written]
    spoken: list[str] = []
    owners: list[int] = []
    for index, words in enumerate(said):
        # A reading in Han characters is said one unit a character; a unit said as nothing is said as written.
        said_units = [unit for word in words for unit, _ in units(word)] or [written[index]]
        spoken += said_units
        owners += [index] * len(said_units)
    return TextMap(
        written=written, spoken=tuple(spoken), written_of=tuple(owners), glued=tuple(glued for _, glued in pieces)
    )


def as_written(text: str, language: str = "en") -> TextMap:
    """No normalization: each written unit is said as it is.

    `language` is taken for symmetry with `normalize`: units are the same in every language (text without Han or
    kana is split at whitespace), so that `normalize_text: false` also says Chinese one character a unit.
    """
    pieces = units(text)
    written = tuple(unit for unit, _ in pieces)
    return TextMap(
        written=written,
        spoken=written,
        written_of=tuple(range(len(written))),
        glued=tuple(glued for _, glued in pieces),
    )


def _say(word: str, language: str) -> list[str]:
    lead = LEADING.match(word)
    trail = TRAILING.search(word)
    start = lead.end() if lead else 0
    end = trail.start() if trail and trail.start() >= start else len(word)
    prefix, core, suffix = word[:start], word[start:end], word[end:]
    if not core:
        return [word]
    if language.split("-")[0] == "en":
        try:
            said = _english(core, suffix)
        except (OverflowError, ValueError, NotImplementedError):  # a number num2words cannot say
            said = None
        if said is not None:
            core_words, suffix = said
        else:
            return [word]
    elif NUMBER.match(core):
        number_words = _number_words(core, language)
        if number_words is None:
            return [word]
        core_words = number_words
    else:
        return [word]
    if not core_words:
        return [word]
    if core[0].isupper() and core_words[0][:1].islower():  # "Dr." → "Doctor", as written at a sentence start
        core_words[0] = core_words[0][0].upper() + core_words[0][1:]
    core_words[0] = prefix + core_words[0]
    core_words[-1] = core_words[-1] + suffix
    return core_words


def _english(core: str, suffix: str) -> tuple[list[str], str] | None:
    """Spoken words for an English token, and the suffix that still follows them (None: leave it as written)."""
    lowered = (core + suffix).lower()
    for abbreviation, expansion in ABBREVIATIONS.items():
        rest = lowered[len(abbreviation) :]
        if lowered.startswith(abbreviation) and not rest.strip(",;:!?"):
            return expansion.split(), suffix[len(suffix) - len(rest) :]
    if core in SYMBOLS:
        return [SYMBOLS[core]], suffix
    if core[0] in CURRENCIES and NUMBER.match(core[1:]):
        return _money(core[0], core[1:]), suffix
    if core.endswith("%") and NUMBER.match(core[:-1]):
        return [*_spell(core[:-1]), "percent"], suffix
    ordinal = re.fullmatch(r"(\d+)(st|nd|rd|th)", core, re.IGNORECASE)
    if ordinal:
        return _num2words(int(ordinal.group(1)), to="ordinal").split(), suffix
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})", core)
    if clock and int(clock.group(1)) < 24 and int(clock.group(2)) < 60:
        hours, minutes = int(clock.group(1)), int(clock.group(2))
        said = _num2words(hours).split()
        if minutes == 0:
            return [*said, "o'clock"], suffix
        return [*said, *(["oh"] if minutes < 10 else []), *_num2words(minutes).split()], suffix
    date = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", core)
    if date and 1 <= int(date.group(2)) <= 12 and 1 <= int(date.group(3)) <= 31:
        day = _num2words(int(date.group(3)), to="ordinal").split()
        return [MONTHS[int(date.group(2)) - 1], *day, *_num2words(int(date.group(1)), to="year").split()], suffix
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", core):  # a bare four-digit number in this range is read as a year
        return _num2words(int(core), to="year").split(), suffix
    if NUMBER.match(core):
        return _spell(core), suffix
    if re.search(r"\d", core) and re.fullmatch(r"[\w'-]+", core):  # F5-TTS → F five TTS
        pieces = re.findall(r"\d+(?:\.\d+)?|[^\d-]+", core)
        said = [word for piece in pieces for word in (_spell(piece) if piece[0].isdigit() else [piece])]
        return said, suffix
    return None


def _money(symbol: str, amount: str) -> list[str]:
    one, many, cent, cents = CURRENCIES[symbol]
    whole, _, fraction = amount.replace(",", "").partition(".")
    units = int(whole)
    said = [*_num2words(units).split(), one if units == 1 else many]
    if fraction:
        hundredths = int((fraction + "00")[:2])
        if hundredths:
            said += ["and", *_num2words(hundredths).split(), cent if hundredths == 1 else cents]
    return said


def _spell(number: str) -> list[str]:
    whole, _, fraction = number.replace(",", "").partition(".")
    said = _num2words(int(whole)).split()
    if fraction:
        said += ["point", *(_num2words(int(digit)) for digit in fraction)]
    return said


def _number_words(number: str, language: str) -> list[str] | None:
    try:
        from num2words import num2words

        value: float | int = float(number.replace(",", "")) if "." in number else int(number.replace(",", ""))
        return str(num2words(value, lang=language.split("-")[0])).split()
    except (NotImplementedError, OverflowError, ValueError):
        return None


def _num2words(value: int, to: str = "cardinal") -> str:
    from num2words import num2words

    return str(num2words(value, to=to, lang="en")).replace(",", "")


# Chinese. Readings are put in place with one regex pass per kind over the whole text, most specific first
# (2024-03-05 is a date before it is three numbers); a pass turns the digits it reads into Chinese, so no later pass
# reads them again. 第3 needs no rule of its own: the number is read and 第 kept. No pattern matches whitespace, so
# a space ends a number as the end of the text would. Each character of the text being rewritten remembers the
# written unit it stands for (`_Traced`), so each reading is said for the unit it reads: the currency a money
# reading says (¥3 → 三元) is part of that reading and timed with the amount; a currency written after the amount
# (¥3元) is not said twice, and keeps its own unit.
ZH_DIGITS = "零一二三四五六七八九"
ZH_CURRENCIES = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
ZH_CURRENCY_WRITTEN = {"元": ("元", "块"), "美元": ("美元",), "欧元": ("欧元",), "英镑": ("英镑", "镑")}  # ¥3元, £3镑
# Standard Mandarin says 两, not 二, for a lone 2 counting something; only common classifiers, never after 第.
ZH_CLASSIFIERS = "个位只本件张条次种岁天人辆台杯块碗双对份部遍"
ZH_AMOUNT = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
# A minus after a digit, letter, % or a unit is a dash (3-5, F5-TTS, 5元-10元), not a sign; after other words it is
# one (温度-5度).
ZH_SIGN = rf"((?<![0-9A-Za-z.%％元块镑{ZH_CLASSIFIERS}])[-−])?"
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

ZH_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?!\d)")
# 3-5个, 3~5天, 3-5kg, 10-20%, $3-5, 2023-2024年: two numbers joined by a dash or tilde, not part of a longer chain
# (1-2-3), of a time (9:00-17:00) or of a fraction (1/2-3).
ZH_RANGE = re.compile(
    r"(?<![0-9A-Za-z.,:：/\-~～–—])([¥￥$€£])?(\d+(?:\.\d+)?)([%％])?[-~～–—](\d+(?:\.\d+)?)([%％])?"
    r"(?![0-9:：/\-~～–—]|\.\d)"
)
UNIT = re.compile(r"[\u3400-\u9fffA-Za-z]")  # a unit or counted thing written after a range
PHONE_MIN_DIGITS = 7  # 010-12345678; 12-01 or 09-10 are read as the numbers they are
ZH_YEAR = re.compile(r"(?<!\d)(\d{4})(?=年)")  # 2024年: a year is read digit by digit; 3年 (three years) is not
ZH_TIME = re.compile(r"(?<!\d)(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?(?!\d)")
ZH_MONEY = re.compile(ZH_SIGN + "([¥￥$€£])" + ZH_AMOUNT)
ZH_PERCENT = re.compile(ZH_SIGN + ZH_AMOUNT + "[%％]")
ZH_TWO = re.compile(rf"(?<![\d.,第\-−])2(?=[{ZH_CLASSIFIERS}])")
ZH_NUMBER = re.compile(ZH_SIGN + ZH_AMOUNT)
ZH_DIGIT = re.compile(r"\d")


def _chinese(text: str, written: Sequence[str]) -> list[str]:
    """What each written unit of `text` says: the text with every number in it read in Mandarin, each reading
    given to the written unit it reads, everything else kept as it is."""
    owners = [-1] * len(text)  # the written unit of each character of the text; -1 for whitespace
    position = 0
    for index, unit in enumerate(written):
        while text[position].isspace():
            position += 1
        owners[position : position + len(unit)] = [index] * len(unit)
        position += len(unit)
    said = _Traced(text.translate(FULL_WIDTH_DIGITS), tuple(owners))
    for pattern, reading in ZH_PASSES:
        said = said.sub(pattern, reading)
    pieces: list[list[str]] = [[] for _ in written]
    for char, owner in zip(said.text, said.owners, strict=True):
        if owner >= 0:
            pieces[owner].append(char)
    return ["".join(piece) for piece in pieces]


@dataclass(frozen=True)
class _Traced:
    """Text being rewritten, with the written unit each of its characters stands for."""

    text: str
    owners: tuple[int, ...]

    def sub(self, pattern: re.Pattern[str], reading: Callable[[re.Match[str]], str]) -> _Traced:
        """`pattern.sub(reading, text)`, each reading standing for the characters it replaced: spread over them in
        order when it replaced several units' characters (no pattern does today: a number is one unit)."""
        text: list[str] = []
        owners: list[int] = []
        done = 0
        for match in pattern.finditer(self.text):
            start, end = match.span()
            said = reading(match)
            replaced = self.owners[start:end]
            text += [self.text[done:start], said]
            owners += self.owners[done:start]
            if said == match.group():
                owners += replaced
            else:
                owners += [replaced[i * len(replaced) // len(said)] for i in range(len(said))]
            done = end
        text.append(self.text[done:])
        owners += self.owners[done:]
        return _Traced("".join(text), tuple(owners))


def _zh_iso_date(match: re.Match[str]) -> str:
    year, month, day = match.groups()
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return match.group()  # not a date: its numbers are read one by one later
    return f"{_zh_digits(year)}年{_zh_integer(int(month))}月{_zh_integer(int(day))}日"


def _zh_range(match: re.Match[str]) -> str:
    """3-5 → 三到五 (with the unit or 百分之 on both ends as written); 010-12345678 is a phone number, digit by
    digit. A dash that is no range keeps its numbers for the later passes: scores (3-2), a higher number first,
    and two bare numbers of three or more digits with nothing after them (400-8888, a phone number)."""
    symbol, low, low_percent, high, percent = match.groups()
    percent = percent or low_percent  # 10%-20% or 10-20%
    digits_only = (low + high).isdigit()
    if digits_only and not percent and len(low + high) >= PHONE_MIN_DIGITS and "0" in (low[0], high[0]):
        return f"{_zh_digits(low)}-{_zh_digits(high)}"
    if float(low) >= float(high) or any(len(part) > 1 and part[0] == "0" and part[1] != "." for part in (low, high)):
        return match.group()
    unit_follows = bool(UNIT.match(match.string, match.end()))  # 个, 人, 天, 米, kg, ...
    if digits_only and not (symbol or percent or unit_follows) and min(len(low), len(high)) >= 3:
        return match.group()
    if match.string.startswith("年", match.end()) and len(low) == len(high) == 4 and digits_only:
        return f"{_zh_digits(low)}到{_zh_digits(high)}"  # years, digit by digit
    if percent:
        return f"百分之{_zh_amount(low)}到百分之{_zh_amount(high)}"
    counts = match.string[match.end() : match.end() + 1] in ZH_CLASSIFIERS  # 1-2个: 一到两个
    if symbol:
        low, high = _without_trailing_zeros(low), _without_trailing_zeros(high)
    said = "到".join("两" if counts and end == "2" else _zh_amount(end) for end in (low, high))
    return said + (_zh_currency_unless_written(symbol, match) if symbol else "")


def _zh_time(match: re.Match[str]) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))  # the pattern requires both
    seconds = int(match.group(3)) if match.group(3) else None
    if hours >= 24 or minutes >= 60 or (seconds is not None and seconds >= 60):
        return match.group()
    said = ("两" if hours == 2 else _zh_integer(hours)) + "点"  # 两点 is two o'clock
    if minutes or seconds:
        said += ("零" if 0 < minutes < 10 else "") + _zh_integer(minutes) + "分"
    if seconds:
        said += _zh_integer(seconds) + "秒"
    return said


def _zh_money(match: re.Match[str]) -> str:
    sign, symbol, amount = match.groups()
    return _zh_sign(sign) + _zh_amount(_without_trailing_zeros(amount)) + _zh_currency_unless_written(symbol, match)


def _without_trailing_zeros(amount: str) -> str:
    """$3.50 is said 三点五美元 and ¥3.00 三元: cents written out are not read as digits."""
    return amount.rstrip("0").rstrip(".") if "." in amount else amount


def _zh_currency_unless_written(symbol: str, match: re.Match[str]) -> str:
    """The currency's name, said after the amount, unless the text writes it there too (¥3.5元, £3镑)."""
    unit = ZH_CURRENCIES[symbol]
    return "" if match.string.startswith(ZH_CURRENCY_WRITTEN[unit], match.end()) else unit


def _zh_sign(sign: str | None) -> str:
    return "负" if sign else ""


def _zh_amount(amount: str) -> str:
    """3.14 → 三点一四, 1,234 → 一千二百三十四; a run with a leading zero (010, 007) or too long to be an amount
    (an id, and int() refuses thousands of digits) is read digit by digit."""
    whole, _, fraction = amount.replace(",", "").partition(".")
    if len(whole) > 16 or (len(whole) > 1 and whole[0] == "0" and "," not in amount):
        said = _zh_digits(whole)
    else:
        said = _zh_integer(int(whole))
    return said + ("点" + _zh_digits(fraction) if fraction else "")


def _zh_digits(digits: str) -> str:
    return "".join(ZH_DIGITS[int(digit)] for digit in digits)


def _zh_integer(number: int, leading: bool = True) -> str:
    """Cardinal reading grouped by 万 and 亿: 10010 → 一万零一十, 100000 → 十万."""
    for size, unit in ((10**8, "亿"), (10**4, "万")):
        if number >= size:
            high, low = divmod(number, size)
            said = _zh_integer(high, leading) + unit
            if low:  # a gap of zeros before the rest is said as one 零
                said += ("零" if low < size // 10 else "") + _zh_integer(low, leading=False)
            return said
    return _zh_section(number, leading) if number else "零"


def _zh_section(number: int, leading: bool) -> str:
    """0 < number < 10000; 一十 is said 十 only at the very start (十二, but 一百一十)."""
    said, gap = "", False
    for size, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // size % 10
        if digit:
            said += ("零" if gap and said else "") + ZH_DIGITS[digit] + unit
        gap = not digit
    return said[1:] if leading and said.startswith("一十") else said


# The passes of `_chinese`, in order (defined after the readings they use).
ZH_PASSES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (ZH_ISO_DATE, _zh_iso_date),
    (ZH_RANGE, _zh_range),
    (ZH_YEAR, lambda match: _zh_digits(match.group(1))),
    (ZH_TIME, _zh_time),
    (ZH_MONEY, _zh_money),
    (ZH_PERCENT, lambda match: _zh_sign(match.group(1)) + "百分之" + _zh_amount(match.group(2))),
    (ZH_TWO, lambda _: "两"),
    (ZH_NUMBER, lambda match: _zh_sign(match.group(1)) + _zh_amount(match.group(2))),
    (ZH_DIGIT, lambda match: _zh_digits(match.group())),  # what is left (1.2.3): digit by digit
)
