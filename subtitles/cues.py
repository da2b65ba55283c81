"""Group timed words into lines and cues (what is on screen together), and time each cue on screen.

Segmentation follows the caption guides (Netflix's Timed Text Style Guide, the BBC's subtitle guidelines). Words
are first cut into phrases: a cue never spans a sentence end or a pause of `PAUSE_BREAK_S`, so text never
lingers over silence (a sentence ends at . ! ? … or 。！？, closing quotes allowed, unless the word is a title
such as "Dr." or the next word carries on in lower case). Within each phrase, dynamic programming over the break
points picks the cue breaks and line breaks of least total cost. In `word` mode each word is a cue.

Limits it keeps (a layout that breaks one is never chosen while another exists):
- lines hold at most `max_chars_per_line` display columns (CJK and emoji count two, combining marks none, a space
  one), fewer if the style's font is too large for that many to fit the frame (`line_width_limit`); a word
  wider than that has a line of its own;
- a cue holds at most `max_lines` lines and `max_words_per_cue` words, and its words span at most
  `max_duration_s` (a single word spoken for longer stays whole);
- text stays on one line when it fits;
- a cue gets a centisecond of its own before the next one starts (else the two are shown together).

Costs it trades against each other (the soft rules `subtitles.checker` scores): a break after an article,
preposition, conjunction or possessive is expensive, after a pronoun, auxiliary, negation or title less so,
before a conjunction, preposition, pronoun or auxiliary cheap, after punctuation free, and a pause makes any
break cheaper; a bad break between cues costs twice a bad line break. A one-word cue, a cue on screen less than
`min_duration_s`, reading faster than the language allows (`reading_speed_for`), a cue break with no pause of
`MIN_GAP_S`, unbalanced or top-heavy lines, and every cue break inside a sentence cost something too. A cue never
has more words than fit its lines, so the search is linear in the number of words. The word lists are per
language (`subtitles.break_words`).

Chinese and Japanese: each character is a word of its own (Latin words and numbers whole, punctuation attached:
`common.text.units`), and a word written with no space before it is `glued`. Lines, cues and every format join
words with a space only before a word that is not glued; widths and reading speeds count only those spaces. A
line may break between any two characters, best after punctuation, hardly ever before a Japanese small kana (っ,
ゃ: `SMALL_KANA`), never inside a Latin word (it is one word). There are no break-word lists for these languages;
their reading speeds are the guides' own (`READING_SPEEDS_CPS`).

On screen (`place_cues`), a cue stays at least `min_duration_s`, but never into the next cue (unless
`allow_overlap`) and never past the end of the audio; cues close together are chained two frames apart.

Scripts: each word may carry its `speaker`. A cue never spans two speakers: a change of speaker ends a phrase
like a sentence end, in every mode, and a cue with no centisecond of its own is never shown with another speaker's.
A cue that starts a speaker's turn (`starts_turn`) shows `Label: ` before its words in SRT, and in ASS with
`name_prefix`; its first line is measured with that prefix, so it still fits.
"""

from __future__ import annotations

import math
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal

from common.text import join_units
from subtitles.break_words import BreakWords, break_words_for, ends_clause, ends_sentence, language_key
from subtitles.styles import (
    CAPITAL_WIDTH_RATIO,
    GLYPH_WIDTH_RATIO,
    MIN_COLUMNS,
    PRESETS,
    SpeakerLook,
    Style,
    columns_that_fit,
)
from subtitles.timing import end_limit_centiseconds, to_centiseconds

# Japanese small kana never start a line (kinsoku shori, JIS X 4051): they end the sound before them.
SMALL_KANA = tuple("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿｧｨｩｪｫｬｭｮｯ")
PAUSE_BREAK_S = 0.7  # a silence this long ends a cue
SOFT_PAUSE_S = 0.25  # a silence this long is a good place for a line break
MAX_CHARS_PER_SECOND = 20.0  # Netflix's adult reading speed (letters, digits and spaces)
# Netflix's adult reading speeds where a character says much more than a letter (Han, kana), by language.
READING_SPEEDS_CPS = {"zh": 9.0, "yue": 9.0, "ja": 4.0}
# The guides' line length where it is not English's 42: 16 Chinese and 13 Japanese characters, two columns each.
LINE_COLUMNS = {"zh": 32, "yue": 32, "ja": 26}
DEFAULT_LINE_COLUMNS = 42
MIN_GAP_S = 2 / 24  # two frames at 24 fps between cues, so the eye sees a new cue arrive
CHAIN_S = 0.5  # a gap up to this long (12 frames) is closed to MIN_GAP_S: cues are chained
MIN_CUE_S = 0.02  # chaining never leaves a cue shorter than this (two centiseconds)


@dataclass(frozen=True)
class TimedWord:
    text: str
    start_s: float
    end_s: float
    speaker: str | None = None  # scripts: the key of who says it (`SpeakerLook.name`)
    glued: bool = False  # written with no space before it: most units of Chinese and Japanese (`common.text`)


@dataclass(frozen=True)
class SubtitleLayout:
    mode: Literal["karaoke", "highlight", "word", "line"] = "karaoke"
    karaoke_tag: Literal["k", "kf", "ko"] = "kf"
    max_chars_per_line: int = 42
    max_lines: int = 2
    max_words_per_cue: int | None = None  # short-video captions show a few words at a time (e.g. 3)
    uppercase: bool = False  # shown in capitals (the files' words and timings are unchanged)
    highlight_scale: float = 1.0  # highlight mode: the spoken word grows to this size and back (1: no pop)
    language: str = "en"  # whose words are bad places for a break (`subtitles.break_words`)
    min_duration_s: float = 0.6
    max_duration_s: float = 7.0
    allow_overlap: bool = False
    resolution: tuple[int, int] = (1920, 1080)
    style: Style = field(default_factory=lambda: PRESETS["classic"])
    speakers: tuple[SpeakerLook, ...] = ()  # scripts: each speaker's label and style (`speaker_looks`)
    name_prefix: bool = False  # scripts: ASS starts each speaker's turn with `Label: `

    @property
    def labels(self) -> dict[str, str]:
        """Each known speaker's shown name by key."""
        return {look.name: look.label for look in self.speakers}


@dataclass(frozen=True)
class Cue:
    """Words shown together, as lines, from the first word's start until `end_s` (at least the last word's end)."""

    lines: tuple[tuple[TimedWord, ...], ...]
    end_s: float

    @property
    def words(self) -> tuple[TimedWord, ...]:
        return tuple(word for line in self.lines for word in line)

    @property
    def start_s(self) -> float:
        return self.lines[0][0].start_s

    @property
    def text(self) -> str:
        return "\n".join(line_text(line) for line in self.lines)

    @property
    def speaker(self) -> str | None:
        """Who says the cue: its first word's speaker (a cue never spans two)."""
        return self.lines[0][0].speaker


def line_text(words: Iterable[TimedWord]) -> str:
    """Words as written on one line: a space before each word but the first, unless the word is glued."""
    return join_units((word.text, word.glued) for word in words)


def label_of(speaker: str, labels: Mapping[str, str] | None) -> str:
    """The name shown for a speaker: its label, else its key."""
    return (labels or {}).get(speaker) or speaker


def starts_turn(speaker: str | None, previous: str | None) -> bool:
    """Whether a cue (or word) said by `speaker` after one said by `previous` starts a speaker's turn."""
    return speaker is not None and speaker != previous


def turn_starts(cues: Sequence[Cue]) -> list[bool]:
    """For each cue, whether it starts a speaker's turn: it has a speaker, not the previous cue's."""
    return [starts_turn(cue.speaker, cues[index - 1].speaker if index else None) for index, cue in enumerate(cues)]


def prefix_text(label: str) -> str:
    """What precedes the words of a cue that starts a speaker's turn."""
    return f"{label}: "


def display_width(text: str) -> int:
    """Columns the text takes on screen: wide (CJK, emoji) characters count 2, combining marks 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        wide = unicodedata.east_asian_width(char) in ("W", "F") or ord(char) >= 0x1F000
        width += 2 if wide else 1
    return width


def line_width_limit(layout: SubtitleLayout) -> int:
    """The layout's line limit in columns, or fewer when the font is too large for that many to fit the frame
    (capitals are wider: about 0.72 of the font size in DejaVu Sans Bold against 0.62 for mixed text)."""
    fit = columns_that_fit(layout.style, layout.resolution)
    if layout.uppercase:
        fit = max(MIN_COLUMNS, int(fit * GLYPH_WIDTH_RATIO / CAPITAL_WIDTH_RATIO))
    return min(layout.max_chars_per_line, fit)


def reading_length(text: str) -> int:
    """Characters a reader reads in a word, as the guides count them: letters and digits (CJK: each character);
    punctuation does not count. Spaces between words, where the text has them, are counted by the caller."""
    return sum(1 for char in text if char.isalnum())


def reading_characters(words: Sequence[TimedWord]) -> int:
    """Characters a reader reads in a cue: its words' (`reading_length`) and the spaces between them."""
    return sum(reading_length(word.text) for word in words) + sum(not word.glued for word in words[1:])


def line_columns_for(language: str) -> int:
    """The guides' longest line for the language, in display columns (`LINE_COLUMNS`; others: English's 42)."""
    return LINE_COLUMNS.get(language_key(language), DEFAULT_LINE_COLUMNS)


def reading_speed_for(language: str) -> float:
    """The most characters a second a reader of the language reads (`READING_SPEEDS_CPS`; others: English's)."""
    return READING_SPEEDS_CPS.get(language_key(language), MAX_CHARS_PER_SECOND)


def _is_lone_mark(text: str) -> bool:
    return not any(char.isalnum() for char in text)


# --- Costs of the soft rules (a break at punctuation costs nothing; units are arbitrary but comparable) ---

BREAK_COST = {
    "clause": 0.0,  # after punctuation
    "before_phrase": 1.5,  # before a conjunction, preposition, pronoun or auxiliary
    "plain": 3.0,
    "binding": 7.0,  # after a pronoun, auxiliary, negation, degree word or title
    "function": 20.0,  # after an article, preposition, conjunction or possessive: the guides say never
    "before_mark": 20.0,  # a lone dash or quote, or a Japanese small kana, would start the next line
}
PAUSE_DISCOUNT = 2.0  # a pause of SOFT_PAUSE_S makes any break that much better
CUE_BREAK_COST = 8.0  # every cue break inside a sentence: a sentence on one screen beats a perfect shape
CUE_BREAK_WEIGHT = 2.0  # a bad break between cues costs twice a bad line break: the next screen loses the context
NO_GAP_COST = 2.0  # a cue break where the speech leaves no MIN_GAP_S
ONE_WORD_CUE_COST = 30.0
SHORT_CUE_COST = 6.0  # plus up to 10 more as the cue falls short of min_duration_s
FAST_READING_COST = 2.0  # plus 20 per 100% over MAX_CHARS_PER_SECOND (speech sets the pace; cues only smooth it)
UNBALANCED_COST = 4.0  # the shorter line under half the longer (plus up to 4 more)
TOP_HEAVY_COST = 3.0  # the top line longer than the bottom by over a third of a line
TOP_LONGER_COST = 1.5  # per line width the top line is longer: the bottom-heavy shape is preferred
UNEVEN_COST = 1.0  # per line width the lines differ: between equally good breaks, the more even lines
NO_CENTISECOND_COST = 1e4  # the cue would have no centisecond of its own and be joined to the next anyway


def break_kind(word: TimedWord, following: TimedWord, words: BreakWords) -> str:
    """What kind of break lies between two words of a sentence (a key of `BREAK_COST`)."""
    if ends_clause(word.text, words):
        return "clause"
    if _is_lone_mark(following.text) or following.text.startswith(SMALL_KANA):
        return "before_mark"
    if words.function_word_kind(word.text):
        return "function"
    if words.binds_to_next(word.text):
        return "binding"
    if words.opens_phrase(following.text):
        return "before_phrase"
    return "plain"


def build_cues(words: Sequence[TimedWord], layout: SubtitleLayout, audio_duration_s: float | None = None) -> list[Cue]:
    """Cues in time order; every word appears in exactly one cue, in order."""
    groups: list[list[list[TimedWord]]]  # cues, each a list of lines
    if layout.mode == "word":
        groups = [[[word]] for word in words]
    else:
        groups = _Segmenter(words, layout, audio_duration_s, break_words_for(layout.language)).cues()
    return place_cues(groups, layout, audio_duration_s)


def place_cues(
    groups: Sequence[Sequence[Sequence[TimedWord]]], layout: SubtitleLayout, audio_duration_s: float | None = None
) -> list[Cue]:
    """Words already grouped into cues (each a list of lines), timed on screen: each cue from its first word's
    start until `cue_end_s`; a cue that would have no centisecond of its own is shown with the one before, when
    the same speaker says both."""
    end_limit = audio_duration_s if audio_duration_s is not None else float("inf")
    limit_cs = end_limit_centiseconds(audio_duration_s) if audio_duration_s is not None else None
    cues: list[Cue] = []
    for index, lines in enumerate(groups):
        following = groups[index + 1][0][0].start_s if index + 1 < len(groups) else None
        words = [word for line in lines for word in line]
        end = cue_end_s(words[0].start_s, words[-1], following, layout, end_limit, reading_characters(words))
        cue = Cue(lines=tuple(tuple(line) for line in lines), end_s=end)
        previous = cues[-1] if cues else None
        no_room = to_centiseconds(previous.end_s) <= to_centiseconds(previous.start_s) if previous else False
        too_late = limit_cs is not None and to_centiseconds(cue.start_s) >= limit_cs
        if previous is not None and (no_room or too_late) and previous.speaker == cue.speaker:
            # No centisecond of its own for one of them (words with no duration, or at the audio's very end):
            # show them together. Never two speakers' words: then each keeps its own cue, and ASS gives the one
            # with no centisecond its own (it may share one with its neighbour).
            joined = previous.lines[:-1] + (previous.lines[-1] + cue.lines[0],) + cue.lines[1:]
            cue = Cue(lines=joined, end_s=max(previous.end_s, cue.end_s))
            cues.pop()
        cues.append(cue)
    return cues


def cue_end_s(
    start_s: float,
    last: TimedWord,
    next_start_s: float | None,
    layout: SubtitleLayout,
    end_limit_s: float,
    characters: int = 0,
) -> float:
    """When a cue leaves the screen: at least `min_duration_s` after it starts, after its `last` word, and after
    the time its `characters` take to read at the language's reading speed (a cue said faster than it can be read
    stays on into the silence after it, up to `max_duration_s`); never after `end_limit_s` (the audio's end).
    Unless `allow_overlap`, never into the next cue, and cues are chained as the guides ask: a cue whose next one
    starts within `CHAIN_S` of it stays until `MIN_GAP_S` before that one (but not past `max_duration_s`), so the
    eye sees a new cue arrive instead of a flicker. For words spoken back to back, that is up to two frames before
    the last word ends, never before the middle of it: the word is still lit while it is heard (karaoke's fill
    completes by the cue's end)."""
    readable_s = min(characters / reading_speed_for(layout.language), layout.max_duration_s)
    end = max(last.end_s, start_s + layout.min_duration_s, start_s + MIN_CUE_S, start_s + readable_s)
    if next_start_s is not None and not layout.allow_overlap:
        if next_start_s - end <= CHAIN_S:
            longest = start_s + max(layout.max_duration_s, last.end_s - start_s)
            heard = (last.start_s + last.end_s) / 2
            end = min(max(next_start_s - MIN_GAP_S, heard, start_s + MIN_CUE_S), longest)
        end = min(end, next_start_s)
    return min(end, end_limit_s)


class _Segmenter:
    """The cue and line breaks of least cost, phrase by phrase. Positions are word indices; a span [i, j) is
    words i..j-1. Widths come from prefix sums, so any span's width costs O(1): this runs for every word."""

    def __init__(
        self, words: Sequence[TimedWord], layout: SubtitleLayout, audio_duration_s: float | None, rules: BreakWords
    ) -> None:
        self.words = words
        self.layout = layout
        self.rules = rules
        self.line_width = line_width_limit(layout)
        self.max_lines = max(1, layout.max_lines)
        self.max_words = layout.max_words_per_cue or len(words) or 1
        self.end_limit_s = audio_duration_s if audio_duration_s is not None else math.inf
        self.limit_cs = end_limit_centiseconds(audio_duration_s) if audio_duration_s is not None else math.inf
        self.max_chars_per_second = reading_speed_for(layout.language)
        widths = [display_width(word.text) + self._prefix_width(index) for index, word in enumerate(words)]
        # A space before each word that is not glued to the one before, unless it starts a line.
        self.spaces = [0 if word.glued else 1 for word in words]
        # All words set on one line: `right[k]` is the column where words[:k] end, `left[k]` where word k starts
        # (after its space). A span [i, j) on a line of its own is right[j] - left[i] columns wide.
        self.right = list(accumulate(map(sum, zip(self.spaces, widths, strict=True)), initial=0))
        self.left = [end + space for end, space in zip(self.right, self.spaces, strict=False)]
        # Columns words take beyond a whole line: such a word gets a line of its own.
        self.overflow = list(accumulate((max(0, width - self.line_width) for width in widths), initial=0))
        # Characters read, likewise: the span [i, j) reads reading[j] - reading[i] - spaces[i].
        read = [reading_length(word.text) for word in words]
        self.reading = list(accumulate(map(sum, zip(self.spaces, read, strict=True)), initial=0))
        self.start_cs = [to_centiseconds(word.start_s) for word in words]
        self.sentence_ends = [
            ends_sentence(word.text, words[index + 1].text if index + 1 < len(words) else None, rules)
            for index, word in enumerate(words)
        ]
        self.after_cost = [self._break_cost(index) for index in range(len(words) - 1)]  # a break after word k
        self._rests_end = -1
        self._rests: dict[tuple[int, int], tuple[float, tuple[int, ...]] | None] = {}
        self.cue_break_cost = [
            CUE_BREAK_WEIGHT * cost
            + CUE_BREAK_COST
            + (NO_GAP_COST if words[index + 1].start_s - words[index].end_s < MIN_GAP_S else 0)
            for index, cost in enumerate(self.after_cost)
        ]

    def _prefix_width(self, index: int) -> int:
        """Columns the name prefix adds before word `index` when it starts a speaker's turn (counted whether or not
        ASS shows it: SRT always does)."""
        speaker = self.words[index].speaker
        if speaker is None or not starts_turn(speaker, self.words[index - 1].speaker if index else None):
            return 0
        return display_width(prefix_text(label_of(speaker, self.layout.labels)))

    def cues(self) -> list[list[list[TimedWord]]]:
        groups: list[list[list[TimedWord]]] = []
        for first, last in self._phrases():
            for start, end in self._best_cues(first, last):
                cuts = self._line_cuts(start, end)
                edges = [start, *cuts, end]
                groups.append([list(self.words[a:b]) for a, b in zip(edges, edges[1:], strict=False)])
        return groups

    def _phrases(self) -> list[tuple[int, int]]:
        """Spans that no cue crosses: sentences, cut again at long pauses and wherever the speaker changes."""
        spans: list[tuple[int, int]] = []
        first = 0
        for index, word in enumerate(self.words):
            following = self.words[index + 1] if index + 1 < len(self.words) else None
            if (
                following is None
                or self.sentence_ends[index]
                or following.start_s - word.end_s >= PAUSE_BREAK_S
                or following.speaker != word.speaker
            ):
                spans.append((first, index + 1))
                first = index + 1
        return spans

    def _break_cost(self, index: int) -> float:
        word, following = self.words[index], self.words[index + 1]
        cost = BREAK_COST[break_kind(word, following, self.rules)]
        if following.start_s - word.end_s >= SOFT_PAUSE_S:
            cost = max(0.0, cost - PAUSE_DISCOUNT)
        return cost

    def _best_cues(self, first: int, last: int) -> list[tuple[int, int]]:
        """The phrase words[first:last] cut into cues of least total cost (dynamic programming over cue ends)."""
        words, left, right, overflow = self.words, self.left, self.right, self.overflow
        capacity = self.max_lines * (self.line_width + 1) - 1  # full lines, a space between each two
        max_s = self.layout.max_duration_s
        best = [0.0] + [math.inf] * (last - first)
        came_from = list(range(first - 1, last))
        for end in range(first + 1, last + 1):
            last_end_s = words[end - 1].end_s
            for start in range(end - 1, first - 1, -1):
                count = end - start
                if count > 1 and (
                    count > self.max_words
                    or right[end] - left[start] - (overflow[end] - overflow[start]) > capacity
                    or last_end_s - words[start].start_s > max_s
                ):
                    break  # an earlier start only adds words, columns and seconds
                if count == 1 or right[end] - left[start] <= self.line_width:
                    lines_cost = 0.0
                else:
                    lines = self._multiline(start, end)
                    if lines is None:
                        continue
                    lines_cost = lines[0]
                cost = best[start - first] + lines_cost + self._cue_cost(start, end, last - first)
                if start > first:
                    cost += self.cue_break_cost[start - 1]
                if cost < best[end - first]:
                    best[end - first], came_from[end - first] = cost, start
        spans: list[tuple[int, int]] = []
        end = last
        while end > first:
            start = came_from[end - first]
            spans.append((start, end))
            end = start
        return spans[::-1]

    def _cue_cost(self, start: int, end: int, phrase_words: int) -> float:
        """The cue's own costs: a lone word, too short on screen, too fast to read, no centisecond of its own."""
        words, layout = self.words, self.layout
        cost = 0.0
        if end - start == 1 and phrase_words > 1 and self.max_words > 1:
            cost += ONE_WORD_CUE_COST
        start_s = words[start].start_s
        following = words[end].start_s if end < len(words) else None
        characters = self.reading[end] - self.reading[start] - self.spaces[start]
        shown_s = cue_end_s(start_s, words[end - 1], following, layout, self.end_limit_s, characters) - start_s
        if following is not None and (
            to_centiseconds(start_s + shown_s) <= self.start_cs[start] or self.start_cs[end] >= self.limit_cs
        ):
            cost += NO_CENTISECOND_COST
        min_s = layout.min_duration_s
        if shown_s < min_s - 0.005:
            cost += SHORT_CUE_COST + 10 * (min_s - shown_s) / min_s
        speed = characters / shown_s if shown_s > 0 else 0.0
        if speed > self.max_chars_per_second:
            cost += FAST_READING_COST + 20 * (speed / self.max_chars_per_second - 1)
        return cost

    def _line_cuts(self, start: int, end: int) -> list[int]:
        """Where the chosen lines of a cue start (after its first); none when it fits on one line."""
        if end - start == 1 or self.right[end] - self.left[start] <= self.line_width:
            return []
        lines = self._multiline(start, end)
        return list(lines[1]) if lines is not None else []

    def _multiline(self, start: int, end: int) -> tuple[float, tuple[int, ...]] | None:
        """The best line breaks in as few lines as fit (2 to max_lines): (cost, where lines 2.. start)."""
        for count in range(2, self.max_lines + 1):
            found = self._two_lines(start, end) if count == 2 else self._lines_of(start, end, count)
            if found is not None:
                return found
        return None

    def _two_lines(self, start: int, end: int) -> tuple[float, tuple[int, ...]] | None:
        left, right, width = self.left, self.right, self.line_width
        # A line fits when it is one word or at most `width` columns: left and right never decrease, so bisect.
        first_fits_until = max(start + 1, bisect_right(right, left[start] + width, start, end + 1) - 1)
        second_fits_from = min(end - 1, bisect_left(left, right[end] - width, start, end))
        best: tuple[float, tuple[int, ...]] | None = None
        for cut in range(max(start + 1, second_fits_from), min(end - 1, first_fits_until) + 1):
            top, bottom = right[cut] - left[start], right[end] - left[cut]
            cost = self.after_cost[cut - 1] + self._shape_cost(top, bottom)
            if best is None or cost < best[0]:
                best = (cost, (cut,))
        return best

    def _lines_of(self, start: int, end: int, count: int) -> tuple[float, tuple[int, ...]] | None:
        """Three or more lines: the first line's end chosen here, the rest recursively (remembered for this end,
        since every start tried for a cue ending here asks for the same rests)."""
        if self._rests_end != end:
            self._rests_end, self._rests = end, {}
        key = (start, count)
        if key not in self._rests:
            self._rests[key] = self._first_line_then_rest(start, end, count)
        return self._rests[key]

    def _first_line_then_rest(self, start: int, end: int, count: int) -> tuple[float, tuple[int, ...]] | None:
        left, right, width = self.left, self.right, self.line_width
        first_fits_until = max(start + 1, bisect_right(right, left[start] + width, start, end + 1) - 1)
        # The other lines hold the rest: at most (count - 1) lines of columns (and the spaces between them), words
        # wider than a line aside.
        rest_columns = (count - 1) * (width + 1) - 1 + self.overflow[end] - self.overflow[start]
        rest_fits_from = max(start + 1, bisect_left(left, right[end] - rest_columns, start, end))
        best: tuple[float, tuple[int, ...]] | None = None
        for cut in range(rest_fits_from, min(end - count + 1, first_fits_until) + 1):
            rest = self._two_lines(cut, end) if count == 3 else self._lines_of(cut, end, count - 1)
            if rest is None:
                continue
            edges = [start, cut, *rest[1], end]
            line_widths = [right[b] - left[a] for a, b in zip(edges, edges[1:], strict=False)]
            cost = self.after_cost[cut - 1] + rest[0]
            if 2 * min(line_widths) < max(line_widths):
                cost += UNBALANCED_COST
            if best is None or cost < best[0]:
                best = (cost, (cut, *rest[1]))
        return best

    def _shape_cost(self, top: int, bottom: int) -> float:
        """Balanced lines and, among those, the bottom-heavy shape (the top line the shorter)."""
        shorter, longer = min(top, bottom), max(top, bottom)
        cost = UNEVEN_COST * (longer - shorter) / self.line_width
        if 2 * shorter < longer:
            cost += UNBALANCED_COST + 8 * (0.5 - shorter / longer)
        if top > bottom:
            cost += TOP_LONGER_COST * (top - bottom) / self.line_width
            if top - bottom > self.line_width / 3:
                cost += TOP_HEAVY_COST
        return cost
