"""Text normalization: what the user wrote → what is said, keeping a map from spoken words back to written ones.

F5-TTS reads digits and symbols badly, and the aligner can only place letters; both get the spoken form. The
subtitles show the user's own words, timed by the spoken words that stand for them: `TextMap.written_of[i]` is
the written word behind spoken word `i`.

English is normalized fully (numbers, decimals, currency, percentages, ordinals, years, times, ISO dates,
common abbreviations and symbols). Other languages get plain numbers spelled by num2words where it knows the
language, and are otherwise left as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class TextMap:
    """The spoken words, and for each the index of the written word it stands for."""

    written: tuple[str, ...]
    spoken: tuple[str, ...]
    written_of: tuple[int, ...]

    @property
    def spoken_text(self) -> str:
        return " ".join(self.spoken)


def normalize(text: str, language: str = "en") -> TextMap:
    """Split `text` at whitespace and say each word; punctuation stays on the spoken words it followed."""
    written = tuple(text.split())
    spoken: list[str] = []
    owners: list[int] = []
    for index, word in enumerate(written):
        said = _say(word, language) or [word]
        spoken += said
        owners += [index] * len(said)
    return TextMap(written=written, spoken=tuple(spoken), written_of=tuple(owners))


def as_written(text: str) -> TextMap:
    """No normalization: each written word is said as it is."""
    written = tuple(text.split())
    return TextMap(written=written, spoken=written, written_of=tuple(range(len(written))))


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
        core_words = _number_words(core, language)
        if core_words is None:
            return [word]
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
