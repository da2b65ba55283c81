"""Score any list of cues against the written rules of captioning: Netflix's Timed Text Style Guide (English: at
most 42 characters a line and 2 lines, 5/6 s to 7 s on screen, at most 20 characters a second, 2 frames between
cues, lines broken at natural points) and the BBC's subtitle guidelines (never split an article from its noun or
a preposition from its phrase; prefer a bottom-heavy two-line shape). Pure: cues in, a report out.

The limits come from the layout (`max_chars_per_line` narrowed to what the style's font fits in the frame,
`max_lines`, `max_words_per_cue`, `min_duration_s`, `max_duration_s`, `allow_overlap`); the guides give the rest
(`MIN_GAP_S`, and the language's reading speed, `reading_speed_for`: 20 characters a second, 9 in Chinese, 4 in
Japanese). `RULES` lists every rule. Hard rules are ones a caption builder must never break. Soft rules are the
guides' preferences, each exception counted:
- the rules about breaks, line shape and grouping are reported only where a nearby alternative within the hard
  limits would have kept them (a function word that could share a line with the next word, another line break
  that fits, a neighbour a lone word could share its cue with), so each exception points at a better choice;
- the timing rules (`TIMING_RULES`) are reported as measured: the speech's pace decides them as much as the
  cutting does;
- a word wider than a line is a soft exception (`word_too_wide`): no break can help it.
Word lists come from `subtitles.break_words`; a language without one gets the other rules.
Chinese and Japanese lines are measured as written: no space before a glued word (`TimedWord.glued`).
In scripts, a cue's words must all be one speaker's (`speaker_change`), and a change of speaker ends a phrase
like a sentence end.

    report = check_captions(cues, layout, audio_duration_s=12.5)
    report.hard_count, report.soft_count, report.count("one_word_cue")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from subtitles.break_words import BreakWords, break_words_for, ends_sentence
from subtitles.cues import (
    BREAK_COST,
    MAX_CHARS_PER_SECOND,
    MIN_GAP_S,
    PAUSE_BREAK_S,
    Cue,
    SubtitleLayout,
    TimedWord,
    break_kind,
    display_width,
    line_text,
    line_width_limit,
    reading_characters,
    reading_speed_for,
)

TIME_SLACK_S = 0.005  # times are shown in centiseconds: half of one is no exception

# rule name: (hard, what breaks it)
RULES: dict[str, tuple[bool, str]] = {
    "line_length": (True, "a line of several words is wider than the line limit (display columns)"),
    "line_count": (True, "a cue has more lines than max_lines"),
    "max_words": (True, "a cue has more words than max_words_per_cue"),
    "max_duration": (True, "a cue is on screen longer than max_duration_s (a single word spoken longer excepted)"),
    "order": (True, "a cue is empty, ends before it starts, starts before the previous one, or its words go back"),
    "overlap": (True, "a cue starts before the previous one ends (unless the layout allows overlap)"),
    "past_audio_end": (True, "a cue ends after the audio"),
    "speaker_change": (True, "a cue holds words of more than one speaker"),
    "word_too_wide": (False, "a single word is wider than a line (no break can help)"),
    "min_duration": (False, "a cue is on screen less than min_duration_s"),
    "reading_speed": (
        False,
        "a cue asks for more than the language's reading speed (letters, digits and spaces; reading_speed_for)",
    ),
    "gap": (False, "less than MIN_GAP_S (two frames) between a cue and the next"),
    "break_after_function_word": (
        False,
        "a line or cue ends on an article, preposition, conjunction or possessive inside a sentence",
    ),
    "break_misses_punctuation": (
        False,
        "a line break is not after punctuation, though a break after punctuation in the same lines would fit",
    ),
    "line_shape": (
        False,
        "two lines are unbalanced (one under half the other) or top-heavy (the top longer by over a third of a "
        "line), though another break would fit with a better shape",
    ),
    "one_line_fits": (False, "the text is on several lines though it fits on one"),
    "one_word_cue": (False, "a cue of one word, though its sentence has others it could share a cue with"),
    "sentence_split": (False, "a cue ends mid-sentence, though the rest of the sentence would fit in it"),
}
# Soft rules the speech's own pace decides as much as the cutting does: fast speech reads fast, and words
# spoken with no pause between them leave no gap between their cues.
TIMING_RULES = frozenset({"min_duration", "reading_speed", "gap"})


@dataclass(frozen=True)
class CaptionLimits:
    """The numbers the rules are checked against."""

    max_chars_per_line: int  # display columns (CJK and emoji count two)
    max_lines: int
    max_words_per_cue: int | None
    min_duration_s: float
    max_duration_s: float
    allow_overlap: bool = False
    max_chars_per_second: float = MAX_CHARS_PER_SECOND
    min_gap_s: float = MIN_GAP_S

    @classmethod
    def from_layout(cls, layout: SubtitleLayout, language: str | None = None) -> CaptionLimits:
        """The layout's limits, and the reading speed of `language` (the layout's when None)."""
        return cls(
            max_chars_per_line=line_width_limit(layout),
            max_lines=layout.max_lines,
            max_words_per_cue=layout.max_words_per_cue,
            min_duration_s=layout.min_duration_s,
            max_duration_s=layout.max_duration_s,
            allow_overlap=layout.allow_overlap,
            max_chars_per_second=reading_speed_for(layout.language if language is None else language),
        )


@dataclass(frozen=True)
class Violation:
    rule: str  # a key of RULES
    hard: bool
    cue_index: int  # 0-based, in the list checked
    detail: str


@dataclass(frozen=True)
class CaptionReport:
    cue_count: int
    violations: tuple[Violation, ...]

    @property
    def hard_count(self) -> int:
        return sum(1 for violation in self.violations if violation.hard)

    @property
    def soft_count(self) -> int:
        return sum(1 for violation in self.violations if not violation.hard)

    def count(self, rule: str) -> int:
        return sum(1 for violation in self.violations if violation.rule == rule)

    def counts_by_rule(self) -> dict[str, int]:
        return {rule: self.count(rule) for rule in RULES}


def check_captions(
    cues: Sequence[Cue],
    layout: SubtitleLayout,
    audio_duration_s: float | None = None,
    language: str | None = None,
    limits: CaptionLimits | None = None,
) -> CaptionReport:
    """Every violation of the rules in `cues`, in cue order, for text in `language` (the layout's when None).
    `limits` replaces the layout's and guides' limits."""
    language = layout.language if language is None else language
    limits = limits or CaptionLimits.from_layout(layout, language)
    context = _Context(cues, limits, break_words_for(language), audio_duration_s)
    if any(not cue.lines or not all(cue.lines) for cue in cues):
        empty = next(index for index, cue in enumerate(cues) if not cue.lines or not all(cue.lines))
        return CaptionReport(len(cues), (_violation("order", empty, "a cue or one of its lines has no words"),))
    violations = [
        *_sequence_violations(context),
        *(violation for index in range(len(cues)) for violation in _cue_violations(context, index)),
    ]
    violations.sort(key=lambda violation: violation.cue_index)
    return CaptionReport(len(cues), tuple(violations))


class _Context:
    """The cues with what several rules need: each word's place in the text and where phrases end."""

    def __init__(
        self, cues: Sequence[Cue], limits: CaptionLimits, words: BreakWords, audio_duration_s: float | None
    ) -> None:
        self.cues = cues
        self.audio_duration_s = audio_duration_s
        self.limits = limits
        self.break_words = words
        self.words: list[TimedWord] = [word for cue in cues for line in cue.lines for word in line]
        self.first_word: list[int] = []  # index in self.words of each cue's first word
        position = 0
        for cue in cues:
            self.first_word.append(position)
            position += sum(len(line) for line in cue.lines)
        self.phrase_ends = [self._ends_phrase(index) for index in range(len(self.words))]

    def _ends_phrase(self, index: int) -> bool:
        """Whether a sentence ends after this word, a long pause follows it, or another speaker does: no cue
        should run on."""
        if index + 1 >= len(self.words):
            return True
        word, following = self.words[index], self.words[index + 1]
        return (
            ends_sentence(word.text, following.text, self.break_words)
            or following.start_s - word.end_s >= PAUSE_BREAK_S
            or following.speaker != word.speaker
        )

    def phrase_around(self, index: int) -> tuple[int, int]:
        """The span [first, end) of words in the phrase holding word `index`."""
        first = index
        while first > 0 and not self.phrase_ends[first - 1]:
            first -= 1
        end = index
        while not self.phrase_ends[end]:
            end += 1
        return first, end + 1

    def fits_one_cue(self, words: Sequence[TimedWord]) -> bool:
        """Whether these words could be one cue within the hard limits, with no line ending on a function word."""
        limits = self.limits
        if limits.max_words_per_cue is not None and len(words) > limits.max_words_per_cue:
            return False
        if len(words) > 1 and words[-1].end_s - words[0].start_s > limits.max_duration_s:
            return False
        if _fits_line(words, limits.max_chars_per_line):
            return True
        return limits.max_lines > 1 and any(
            _fits_line(words[:cut], limits.max_chars_per_line)
            and not self.break_words.function_word_kind(words[cut - 1].text)
            and len(_wrapped(words[cut:], limits.max_chars_per_line)) <= limits.max_lines - 1
            for cut in range(1, len(words))
        )

    def break_cost(self, words: Sequence[TimedWord], cut: int) -> float:
        """How good a break between words[cut - 1] and words[cut] is (the segmenter's own scale: 0 is best)."""
        return BREAK_COST[break_kind(words[cut - 1], words[cut], self.break_words)]


def _violation(rule: str, cue_index: int, detail: str) -> Violation:
    return Violation(rule, RULES[rule][0], cue_index, detail)


def _width(line: Sequence[TimedWord]) -> int:
    return display_width(line_text(line))


def _fits_line(words: Sequence[TimedWord], max_width: int) -> bool:
    return len(words) == 1 or _width(words) <= max_width


def _wrapped(words: Sequence[TimedWord], max_width: int) -> list[list[TimedWord]]:
    """Words filled into lines of at most `max_width` columns; a wider word has a line of its own."""
    lines: list[list[TimedWord]] = []
    for word in words:
        if lines and _width([*lines[-1], word]) <= max_width:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def _sequence_violations(context: _Context) -> Iterator[Violation]:
    limits, audio_duration_s = context.limits, context.audio_duration_s
    for index, cue in enumerate(context.cues):
        if cue.end_s < cue.start_s - TIME_SLACK_S:
            yield _violation("order", index, f"ends at {cue.end_s:.3f} s, before it starts ({cue.start_s:.3f} s)")
        words = cue.words
        if any(after.start_s < before.start_s for before, after in zip(words, words[1:], strict=False)):
            yield _violation("order", index, "its words are not in time order")
        if audio_duration_s is not None and cue.end_s > audio_duration_s + TIME_SLACK_S:
            detail = f"ends at {cue.end_s:.3f} s, the audio at {audio_duration_s:.3f} s"
            yield _violation("past_audio_end", index, detail)
        if index == 0:
            continue
        previous = context.cues[index - 1]
        if cue.start_s < previous.start_s:
            yield _violation("order", index, f"starts at {cue.start_s:.3f} s, before the previous cue")
        gap_s = cue.start_s - previous.end_s
        if gap_s < -TIME_SLACK_S and not limits.allow_overlap:
            yield _violation("overlap", index, f"starts {-gap_s:.3f} s before the previous cue ends")
        elif -TIME_SLACK_S <= gap_s < limits.min_gap_s - 1e-9:
            yield _violation("gap", index - 1, f"{max(gap_s, 0.0):.3f} s before the next cue")


def _cue_violations(context: _Context, index: int) -> Iterator[Violation]:
    yield from _speaker_violations(context, index)
    yield from _line_violations(context, index)
    yield from _timing_violations(context, index)
    yield from _break_violations(context, index)
    yield from _grouping_violations(context, index)


def _speaker_violations(context: _Context, index: int) -> Iterator[Violation]:
    speakers = list(dict.fromkeys(word.speaker for word in context.cues[index].words))
    if len(speakers) > 1:
        yield _violation("speaker_change", index, f"words of {len(speakers)} speakers: {speakers}")


def _line_violations(context: _Context, index: int) -> Iterator[Violation]:
    cue, limits = context.cues[index], context.limits
    max_width = limits.max_chars_per_line
    if len(cue.lines) > limits.max_lines:
        yield _violation("line_count", index, f"{len(cue.lines)} lines (at most {limits.max_lines})")
    if limits.max_words_per_cue is not None and len(cue.words) > limits.max_words_per_cue:
        yield _violation("max_words", index, f"{len(cue.words)} words (at most {limits.max_words_per_cue})")
    for line in cue.lines:
        width = _width(line)
        if width > max_width and len(line) > 1:
            yield _violation("line_length", index, f"{line_text(line)!r}: {width} columns (at most {max_width})")
        elif width > max_width:
            yield _violation("word_too_wide", index, f"{line_text(line)!r}: {width} columns (at most {max_width})")
    if len(cue.lines) > 1 and _width(cue.words) <= max_width:
        yield _violation("one_line_fits", index, f"{len(cue.lines)} lines of {_width(cue.words)} columns in all")
    if len(cue.lines) == 2 and _bad_shape(cue.words, len(cue.lines[0]), max_width):
        better = _better_shaped_cut(context, cue.words, len(cue.lines[0]))
        if better is not None:
            top, bottom = (_width(line) for line in cue.lines)
            yield _violation(
                "line_shape", index, f"lines of {top} and {bottom} columns; a break after {better!r} fits better"
            )


def _better_shaped_cut(context: _Context, words: Sequence[TimedWord], current: int) -> str | None:
    """Another break of the two lines that fits with a good shape and is no worse a break, if there is one."""
    max_width = context.limits.max_chars_per_line
    for cut in _other_cuts_that_fit(words, current, max_width):
        if context.break_cost(words, cut) <= context.break_cost(words, current):
            if not _bad_shape(words, cut, max_width):
                return words[cut - 1].text
    return None


def _missed_punctuation(context: _Context, words: Sequence[TimedWord], current: int) -> str | None:
    """A break after punctuation that would fit instead of the current one (not making the shape bad)."""
    max_width = context.limits.max_chars_per_line
    if context.break_cost(words, current) == BREAK_COST["clause"]:
        return None
    shape_was_bad = _bad_shape(words, current, max_width)
    for cut in _other_cuts_that_fit(words, current, max_width):
        if context.break_cost(words, cut) == BREAK_COST["clause"]:
            if shape_was_bad or not _bad_shape(words, cut, max_width):
                return words[cut - 1].text
    return None


def _bad_shape(words: Sequence[TimedWord], cut: int, max_width: int) -> bool:
    """Unbalanced (the shorter line under half the longer) or top-heavy (by over a third of a line)."""
    top, bottom = _width(words[:cut]), _width(words[cut:])
    return min(top, bottom) < max(top, bottom) / 2 or top - bottom > max_width / 3


def _other_cuts_that_fit(words: Sequence[TimedWord], current: int, max_width: int) -> Iterator[int]:
    """Other places to break `words` into two lines that both fit."""
    for cut in range(1, len(words)):
        if cut != current and _fits_line(words[:cut], max_width) and _fits_line(words[cut:], max_width):
            yield cut


def _timing_violations(context: _Context, index: int) -> Iterator[Violation]:
    cue, limits = context.cues[index], context.limits
    duration_s = cue.end_s - cue.start_s
    spoken_s = cue.words[-1].end_s - cue.start_s
    # A single word spoken for longer cannot be split; a minimum above the maximum is the layout's own doing.
    allowed_s = max(limits.max_duration_s, limits.min_duration_s, spoken_s if len(cue.words) == 1 else 0.0)
    if duration_s > allowed_s + TIME_SLACK_S:
        yield _violation("max_duration", index, f"{duration_s:.2f} s on screen (at most {limits.max_duration_s} s)")
    audio_ended = context.audio_duration_s is not None and cue.end_s >= context.audio_duration_s - TIME_SLACK_S
    if duration_s < limits.min_duration_s - TIME_SLACK_S and not audio_ended:
        yield _violation("min_duration", index, f"{duration_s:.2f} s on screen (at least {limits.min_duration_s} s)")
    words = cue.words
    characters = reading_characters(words)
    if duration_s > 0 and characters / duration_s > limits.max_chars_per_second + 1e-9:
        yield _violation(
            "reading_speed", index, f"{characters} characters in {duration_s:.2f} s: {characters / duration_s:.1f}/s"
        )


def _break_violations(context: _Context, index: int) -> Iterator[Violation]:
    cue = context.cues[index]
    for line_index, line in enumerate(cue.lines[:-1]):
        following = cue.lines[line_index + 1]
        if _avoidable_function_word_end(context, line[-1], following[0]):
            kind = context.break_words.function_word_kind(line[-1].text)
            yield _violation("break_after_function_word", index, f"line break after the {kind} {line[-1].text!r}")
        better = _missed_punctuation(context, [*line, *following], len(line))
        if better is not None:
            yield _violation(
                "break_misses_punctuation", index, f"line break after {line[-1].text!r}, not after {better!r}"
            )
    last = context.first_word[index] + len(cue.words) - 1
    if not context.phrase_ends[last] and _avoidable_function_word_end(context, cue.words[-1], context.words[last + 1]):
        kind = context.break_words.function_word_kind(cue.words[-1].text)
        yield _violation("break_after_function_word", index, f"cue ends on the {kind} {cue.words[-1].text!r}")


def _avoidable_function_word_end(context: _Context, word: TimedWord, following: TimedWord) -> bool:
    """A line or cue ends on a function word, though it and the next word would fit on one line together."""
    limits = context.limits
    if not context.break_words.function_word_kind(word.text) or limits.max_words_per_cue == 1:
        return False
    return _width([word, following]) <= limits.max_chars_per_line


def _grouping_violations(context: _Context, index: int) -> Iterator[Violation]:
    cue = context.cues[index]
    first = context.first_word[index]
    last = first + len(cue.words) - 1
    phrase_first, phrase_end = context.phrase_around(first)
    if len(cue.words) == 1 and phrase_end - phrase_first > 1 and context.limits.max_words_per_cue != 1:
        if any(context.fits_one_cue(pair) for pair in _neighbour_pairs(context, first, phrase_first, phrase_end)):
            yield _violation("one_word_cue", index, f"{cue.words[0].text!r} alone")
    if not context.phrase_ends[last]:
        rest = context.words[last + 1 : context.phrase_around(last)[1]]
        if context.fits_one_cue([*cue.words, *rest]):
            yield _violation("sentence_split", index, f"the last {len(rest)} words of its sentence would fit in it")


def _neighbour_pairs(context: _Context, index: int, phrase_first: int, phrase_end: int) -> list[list[TimedWord]]:
    """The word with the word before it and with the word after it, where those are in its phrase."""
    pairs = []
    if index - 1 >= phrase_first:
        pairs.append(context.words[index - 1 : index + 1])
    if index + 1 < phrase_end:
        pairs.append(context.words[index : index + 2])
    return pairs
