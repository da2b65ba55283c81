"""A caller's own recording (up to hours) and its transcript → when each word is spoken, and where the two disagree.

An aligner places the words of a span it is told holds them. In a caller's recording nobody knows which text is
where, and the text may not match the audio everywhere (a sentence skipped, an aside that is not in the script).
So the aligner's model first listens to the whole recording without the text (`Aligner.recognize`), and the words
it hears are matched to the transcript's (`alignment.anchors`): each run of matched words (ANCHOR_RUN or more
in a row) is an anchor, a place where text and audio agree.

1. Between two anchors the transcript's words and the speech must roughly fit each other at the recording's
   speaking rate (characters per second of speech). Text that would take more than MISFIT_RATIO times the speech
   there (and MISFIT_S more) was not said: it is flagged and reported with where it should have been. Speech that
   much beyond the text matched none of it: it is left out and reported.
2. The recording is cut into regions of about REGION_S at anchors: in a silence between two anchored words that
   follow each other in both the text and the audio (else between any two such words), and around what did not
   match.
3. Each region is aligned whole, then again phrase by phrase between its long pauses (`_one_span`), as the words
   an engine speaks are.

An aligner that cannot listen (PocketSphinx), or a recording in which nothing heard matches, gives no anchors: a
recording up to ONE_SPAN_S is then one region, a longer one is cut at pauses in proportion to its speech.

Bounded: the model hears the recording once, window by window, and each region is aligned on its own (at most
ONE_SPAN_S of audio: its emissions and its CTC path); besides that, a few bytes per 10 ms frame and per word.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from alignment import AlignedWord, Aligner, HeardWord, TextSpan, fill_missing_times
from alignment.anchors import match_words

log = logging.getLogger(__name__)

FRAME_S = 0.01
PHRASE_PAUSE_S = 0.5  # a region is aligned again phrase by phrase between pauses at least this long
ONE_SPAN_S = 60.0  # the longest region aligned as one span (alignment.MAX_SPAN_S is 90 s)
REGION_S = 30.0  # regions are cut at anchors about this long …
MIN_REGION_S = 10.0  # … and, where there is a choice, at least this long
ANCHOR_RUN = 2  # a word heard once may match by chance (a misheard "a"); this many in a row, in both, do not
MISFIT_RATIO = 2.0  # text needing this many times the speech between two anchors was not said (or the reverse) …
MISFIT_S = 1.0  # … with this much to spare: a word or two misheard is not a mismatch
MIN_PAUSE_S = 0.25  # a silence at least this long is a pause (shorter ones are inside words: stops, breaths)
ABSOLUTE_SILENCE_DB = -60.0  # frames quieter than this are silence in any recording (dBFS)
MIN_SPEECH_MARGIN_DB = 6.0  # speech is at least this far above the noise floor
SPEECH_RANGE_DB = 25.0  # … and frames this far below the speech level are silence
MIN_SEGMENT_S = 10.0
MAX_SEGMENT_S = 30.0
BREAK_S = 0.1  # silence between two words that makes a clean cut
UNMATCHED_SPEECH_S = 1.0  # left-out audio with at least this much speech is reported
DITHER = 3e-3  # digital silence (exact zeros) gets noise this loud: PocketSphinx cannot align across it
SENTENCE_ENDS = frozenset(".!?…。！？")
CLOSING = "\"')]}»”’」』"
MAX_WARNINGS = 20


@dataclass(frozen=True)
class RecordingAlignment:
    """Every word of the transcript timed in the recording, the segments it was cut into, and what to know."""

    words: list[AlignedWord]  # one per input word, in order (interpolated=True where not found)
    spans: tuple[TextSpan, ...]  # the segments the recording was cut into, each with the words timed inside it
    warnings: list[str]  # e.g. where the text and the audio do not match


def align_recording(
    samples: np.ndarray,
    rate_hz: int,
    words: Sequence[str],
    aligner: Aligner,
    language: str,
    characters: bool = False,
) -> RecordingAlignment:
    """Time each of `words` (the transcript's units: whitespace words, or single characters for Chinese, already
    normalized for speech) in `samples` (mono, any length) with `aligner`.

    Every word comes back, in order. Words that were not found in the audio are timed between their neighbours,
    flagged `interpolated`, and a warning says which and where; speech that matched no text is reported too.
    """
    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be positive, not {rate_hz}")
    if any(not word or len(word.split()) != 1 for word in words):
        raise ValueError("each word must be a non-empty string without whitespace")
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"samples must be mono (one dimension), not of shape {audio.shape}")
    words = list(words)
    voicing = Voicing.of(audio, rate_hz)
    segments = voicing.segments()
    found: list[AlignedWord | None] = [None] * len(words)
    if not words or voicing.speech_s(0.0, voicing.duration_s) == 0:
        plan = _Plan([], [], [])
    else:
        heard = aligner.recognize(audio, rate_hz, language) or []
        plan = _Planner(words, heard, voicing).plan()
    for piece in plan.regions:
        first, last = int(piece.start_s * rate_hz), int(piece.end_s * rate_hz)
        timed = _one_span(audio[first:last], rate_hz, words[piece.first : piece.last], aligner, language, characters)
        for offset, word in enumerate(timed):
            found[piece.first + offset] = None if word.interpolated else _shifted(word, first / rate_hz)
    timed_words = _filled(words, found, voicing.duration_s)
    return RecordingAlignment(timed_words, _spans(timed_words, segments), _warnings(words, timed_words, plan, voicing))


def _one_span(
    audio: np.ndarray, rate_hz: int, words: Sequence[str], aligner: Aligner, language: str, characters: bool
) -> list[AlignedWord]:
    """A region short enough to align whole: one pass over all of it, then phrase by phrase between its pauses;
    every word placed by the aligner or flagged."""
    duration_s = len(audio) / rate_hz
    dithered = _dithered(audio)
    span = TextSpan(" ".join(words), 0.0, duration_s)
    coarse = aligner.align(dithered, rate_hz, [span], language, characters)
    # A first pass over the whole places each word roughly; then each phrase is aligned again in the speech
    # between the long pauses around it (one span lets a word slide into a pause), its boundary moved to the
    # nearest sentence end when the first pass put it a few words off.
    pauses = [(start, end) for start, end in Voicing.of(audio, rate_hz).pauses if end - start >= PHRASE_PAUSE_S]
    pauses = [(start, end) for start, end in pauses if 0 < start and end < duration_s]
    middles = [(word.start_s + word.end_s) / 2 for word in coarse]
    spans: list[TextSpan] = []
    first = 0
    for phrase in range(len(pauses) + 1):
        begin = pauses[phrase - 1][1] if phrase else 0.0
        end = pauses[phrase][0] if phrase < len(pauses) else duration_s
        if phrase < len(pauses):  # the words before this pause's middle, the boundary snapped to a sentence end
            cut = (pauses[phrase][0] + pauses[phrase][1]) / 2
            last = bisect.bisect(middles, cut)
            if last > first:  # a stretch without words of its own (noise, laughter) takes none by snapping
                last = _snap_to_sentence_end(words, last, first)
        else:
            last = len(words)
        if last > first:
            spans.append(TextSpan(" ".join(words[first:last]), begin, max(end, begin + FRAME_S)))
            first = last
    timed = aligner.align(dithered, rate_hz, spans, language, characters) if len(spans) > 1 else coarse
    # A phrase the second pass could not fit keeps what the first pass found.
    return [
        placed if again.interpolated and not placed.interpolated else again
        for again, placed in zip(timed, coarse, strict=True)
    ]


def _snap_to_sentence_end(words: Sequence[str], first: int, floor: int, reach: int = 3) -> int:
    """`first`, or the nearest index within `reach` words of it, after `floor`, that starts a sentence."""
    candidates = [i for i in range(max(floor + 1, first - reach), min(len(words), first + reach + 1))]
    ends = [i for i in candidates if words[i - 1].rstrip(CLOSING)[-1:] in SENTENCE_ENDS]
    return min(ends, key=lambda i: abs(i - first)) if ends else first


class Voicing:
    """Which 10 ms frames of a recording are speech, by energy, and where its pauses are."""

    def __init__(self, level_db: np.ndarray, duration_s: float) -> None:
        self.level_db = level_db
        self.duration_s = duration_s
        silent = level_db <= _threshold_db(level_db)
        runs = _runs(silent)
        long_enough = round(MIN_PAUSE_S / FRAME_S)
        self.pauses = [
            (start * FRAME_S, min(end * FRAME_S, duration_s)) for start, end in runs if end - start >= long_enough
        ]
        speech = np.ones(len(level_db), dtype=np.bool_)
        for start, end in runs:
            if end - start >= long_enough:
                speech[start:end] = False
        self._speech_frames = np.concatenate([[0], np.cumsum(speech, dtype=np.int32)])
        self._silent_frames = np.concatenate([[0], np.cumsum(silent, dtype=np.int32)])
        self._pause_middles = [(start + end) / 2 for start, end in self.pauses]

    @classmethod
    def of(cls, audio: np.ndarray, rate_hz: int) -> Voicing:
        frame = max(1, round(FRAME_S * rate_hz))
        count = -(-len(audio) // frame)
        power = np.empty(count, dtype=np.float64)
        block = frame * 6000  # a minute of frames at a time: no copy of the whole recording
        for first in range(0, len(audio), block):
            piece = audio[first : first + block].astype(np.float64)
            whole = len(piece) // frame * frame
            at = first // frame
            power[at : at + whole // frame] = np.mean(piece[:whole].reshape(-1, frame) ** 2, axis=1)
            if whole < len(piece):
                power[at + whole // frame] = np.mean(piece[whole:] ** 2)
        level_db = (10 * np.log10(power + 1e-12)).astype(np.float32)
        return cls(level_db, len(audio) / rate_hz)

    def speech_s(self, start_s: float, end_s: float) -> float:
        """Seconds of speech between two times."""
        first = min(max(int(start_s / FRAME_S), 0), len(self.level_db))
        last = min(max(int(end_s / FRAME_S), first), len(self.level_db))
        return float(self._speech_frames[last] - self._speech_frames[first]) * FRAME_S

    def silence_s(self, start_s: float, end_s: float) -> float:
        """Seconds of silent frames between two times, however short each silence."""
        first = min(max(int(start_s / FRAME_S), 0), len(self.level_db))
        last = min(max(int(end_s / FRAME_S), first), len(self.level_db))
        return float(self._silent_frames[last] - self._silent_frames[first]) * FRAME_S

    def pauses_between(self, start_s: float, end_s: float) -> list[tuple[float, float]]:
        """The pauses whose middle lies in (start, end]."""
        first = bisect.bisect_right(self._pause_middles, start_s)
        last = bisect.bisect_right(self._pause_middles, end_s)
        return self.pauses[first:last]

    def cut_near(self, target_s: float, earliest_s: float, latest_s: float) -> float:
        """A cut in (earliest, latest]: the middle of the pause nearest `target_s`, or failing one the quietest
        moment, or the end of the recording when it comes first."""
        if latest_s >= self.duration_s:
            return self.duration_s
        pauses = self.pauses_between(earliest_s, latest_s)
        if pauses:
            start, end = min(pauses, key=lambda pause: abs((pause[0] + pause[1]) / 2 - target_s))
            return (start + end) / 2
        return self.quietest(earliest_s, latest_s)

    def quietest(self, start_s: float, end_s: float) -> float:
        first = min(int(start_s / FRAME_S) + 1, len(self.level_db) - 1)
        last = max(min(int(end_s / FRAME_S), len(self.level_db)), first + 1)
        levels = self.level_db[first:last]
        smooth = np.convolve(levels, np.ones(5, dtype=np.float32) / 5, mode="same") if len(levels) >= 5 else levels
        return (first + int(np.argmin(smooth))) * FRAME_S

    def segments(self) -> list[tuple[float, float]]:
        """The recording cut into pieces of at most MAX_SEGMENT_S at its longest pauses (tiling it)."""
        cuts = [0.0]
        while self.duration_s - cuts[-1] > MAX_SEGMENT_S:
            earliest, latest = cuts[-1] + MIN_SEGMENT_S, cuts[-1] + MAX_SEGMENT_S
            overlapping = [pause for pause in self.pauses if pause[1] > earliest and pause[0] < latest]
            if overlapping:
                start, end = max(overlapping, key=lambda pause: min(pause[1], latest) - max(pause[0], earliest))
                cuts.append(min(max((start + end) / 2, earliest), latest))
            else:
                cuts.append(self.quietest(earliest, latest))
        cuts.append(self.duration_s)
        return [(start, end) for start, end in zip(cuts, cuts[1:], strict=False) if end > start]


def _threshold_db(level_db: np.ndarray) -> float:
    """Between the noise floor and the speech level, and never below ABSOLUTE_SILENCE_DB."""
    if len(level_db) == 0:
        return ABSOLUTE_SILENCE_DB
    floor, loud = (float(value) for value in np.percentile(level_db, [5, 95]))
    # Never within SPEECH_RANGE_DB of the speech level either: a recording almost without pauses has its floor there.
    return max(
        ABSOLUTE_SILENCE_DB, min(floor + max(MIN_SPEECH_MARGIN_DB, 0.3 * (loud - floor)), loud - SPEECH_RANGE_DB)
    )


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist(), strict=True))


@dataclass(frozen=True)
class _Region:
    """Words [first, last) are spoken in [start_s, end_s)."""

    first: int
    last: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class _Plan:
    regions: list[_Region]  # each at most ONE_SPAN_S long, in order
    missing: list[tuple[int, int]]  # words [first, last) that are not in the audio
    unmatched: list[tuple[float, float]]  # speech that matched none of the text


@dataclass(frozen=True)
class _Cut:
    """A place between two anchored words where a region may end: at `time_s`, before word `index`."""

    time_s: float
    index: int
    silent: bool


class _Planner:
    """Walks the anchors in order and cuts the recording and the text into regions (module docstring, 1 and 2)."""

    def __init__(self, words: list[str], heard: list[HeardWord], voicing: Voicing) -> None:
        self.words, self.heard, self.voicing = words, heard, voicing
        self.cumulative = np.concatenate([[0], np.cumsum([len(word) + 1 for word in words])])  # characters
        self.rate = float(self.cumulative[-1]) / max(voicing.speech_s(0.0, voicing.duration_s), FRAME_S)
        self.regions: list[_Region] = []
        self.missing: list[tuple[int, int]] = []
        self.unmatched: list[tuple[float, float]] = []
        self.start_s, self.first = 0.0, 0  # where the region being built begins
        self.cuts: list[_Cut] = []  # where it may end

    def plan(self) -> _Plan:
        pairs = _in_runs(match_words([word.text for word in self.heard], self.words), ANCHOR_RUN)
        anchors = [(-1, -1), *pairs, (len(self.heard), len(self.words))]  # the recording's ends anchor too
        for (heard_a, word_a), (heard_b, word_b) in zip(anchors, anchors[1:], strict=False):
            self._between(heard_a, word_a, heard_b, word_b)
        self._close(self.voicing.duration_s, len(self.words))
        return _Plan(self.regions, self.missing, self.unmatched)

    def _between(self, heard_a: int, word_a: int, heard_b: int, word_b: int) -> None:
        """What lies between two anchors: a mismatch (cut around it), or a place to cut, or neither."""
        a_end, b_start = self._end(heard_a), self._start(heard_b)
        speech_s = self.voicing.speech_s(a_end, b_start)
        text_s = self._chars(word_a + 1, word_b) / self.rate
        if text_s > MISFIT_RATIO * speech_s + MISFIT_S or speech_s > MISFIT_RATIO * text_s + MISFIT_S:
            after_a = self._cut_between(a_end, self._start(heard_a + 1))
            before_b = max(self._cut_between(self._end(heard_b - 1), b_start), after_a)
            self._close(after_a, word_a + 1)
            if word_b > word_a + 1:
                self.missing.append((word_a + 1, word_b))
            if self.voicing.speech_s(after_a, before_b) >= UNMATCHED_SPEECH_S:
                self.unmatched.append((after_a, before_b))
            self.start_s, self.first = before_b, word_b
        elif heard_b == heard_a + 1 and word_b == word_a + 1 and heard_a >= 0 and heard_b < len(self.heard):
            silent = self.voicing.silence_s(a_end, b_start) >= BREAK_S
            self._consider(_Cut(self._cut_between(a_end, b_start), word_b, silent))

    def _consider(self, cut: _Cut) -> None:
        """Once the region would grow past REGION_S, end it at the last silent cut (else the last cut) so far."""
        if cut.time_s - self.start_s > REGION_S and self.cuts:
            silent = [past for past in self.cuts if past.silent and past.time_s - self.start_s >= MIN_REGION_S]
            chosen = (silent or self.cuts)[-1]
            later = [past for past in self.cuts if past.time_s > chosen.time_s]
            self._close(chosen.time_s, chosen.index)
            self.start_s, self.first, self.cuts = chosen.time_s, chosen.index, later
        self.cuts.append(cut)

    def _close(self, end_s: float, last: int) -> None:
        """End the region being built at `end_s` after word `last` (a long one in pieces, at most ONE_SPAN_S)."""
        start_s, first = self.start_s, self.first
        self.cuts = []
        while end_s - start_s > ONE_SPAN_S and first < last:  # no anchors: cut at pauses, text by its share
            cut_s = self.voicing.cut_near(start_s + REGION_S, start_s + MIN_REGION_S, start_s + REGION_S + MIN_REGION_S)
            share = self.voicing.speech_s(start_s, cut_s) / max(self.voicing.speech_s(start_s, end_s), FRAME_S)
            wanted = self.cumulative[first] + share * self._chars(first, last)
            index = min(int(np.searchsorted(self.cumulative, wanted)), last)
            index = _snap_to_sentence_end(self.words, index, first) if first < index < last else index
            if index > first:
                self.regions.append(_Region(first, index, start_s, cut_s))
            start_s, first = cut_s, index
        if last > first:
            self.regions.append(_Region(first, last, start_s, max(end_s, start_s + FRAME_S)))

    def _end(self, heard: int) -> float:
        return 0.0 if heard < 0 else self.heard[heard].end_s

    def _start(self, heard: int) -> float:
        return self.voicing.duration_s if heard >= len(self.heard) else self.heard[heard].start_s

    def _cut_between(self, end_s: float, start_s: float) -> float:
        """The quietest moment between one heard word's end and the next one's start."""
        if start_s - end_s < 3 * FRAME_S:
            return min(max((end_s + start_s) / 2, 0.0), self.voicing.duration_s)
        return self.voicing.quietest(end_s, start_s)

    def _chars(self, first: int, last: int) -> float:
        return float(self.cumulative[max(last, first)] - self.cumulative[first])


def _in_runs(pairs: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The pairs that belong to a run of at least `length` pairs following each other in both lists."""
    kept: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    for pair in [*pairs, (-2, -2)]:  # the sentinel ends the last run
        if run and pair == (run[-1][0] + 1, run[-1][1] + 1):
            run.append(pair)
            continue
        if len(run) >= length:
            kept += run
        run = [pair]
    return kept


def _filled(words: list[str], found: list[AlignedWord | None], duration_s: float) -> list[AlignedWord]:
    """Every word: as found, or timed between its neighbours (and flagged, unless it is punctuation alone)."""
    whole = TextSpan("", 0.0, duration_s)
    starts = [None if word is None else word.start_s for word in found]
    ends = [None if word is None else word.end_s for word in found]
    times = fill_missing_times(words, starts, ends, whole)
    return [
        AlignedWord(text, start, end, None, flagged) if placed is None else replace(placed, start_s=start, end_s=end)
        for text, placed, (start, end, flagged) in zip(words, found, times, strict=True)
    ]


def _warnings(words: list[str], timed: list[AlignedWord], plan: _Plan, voicing: Voicing) -> list[str]:
    """Where the text and the audio disagree: every flagged word is named here, in a stretch or in the count."""
    if not words:
        return []
    if voicing.speech_s(0.0, voicing.duration_s) == 0:
        return [f"no speech was found in the recording: its {len(words)} words are spread evenly over it"]
    warnings = []
    for first, last in plan.missing[:MAX_WARNINGS]:
        start_s = timed[first - 1].end_s if first > 0 else 0.0
        end_s = timed[last].start_s if last < len(timed) else voicing.duration_s
        warnings.append(
            f"{_words_named(words, first, last)} not found in the audio (around {_clock(start_s)}–{_clock(end_s)})"
        )
    if len(plan.missing) > MAX_WARNINGS:
        warnings.append(f"… and {len(plan.missing) - MAX_WARNINGS} more stretches of text not found in the audio")
    skipped = {index for first, last in plan.missing for index in range(first, last)}
    unplaced = [index for index, word in enumerate(timed) if word.interpolated and index not in skipped]
    if unplaced:
        shown = " ".join(words[unplaced[0] : unplaced[0] + 4])
        warnings.append(
            f"{len(unplaced)} of {len(words)} words could not be placed in the speech around them (the first: word "
            f"{unplaced[0] + 1}, '{shown}…'); they are timed between their neighbours"
        )
    for start_s, end_s in plan.unmatched[:MAX_WARNINGS]:
        warnings.append(f"speech at {_clock(start_s)}–{_clock(end_s)} matched none of the text")
    return warnings


def _spans(words: list[AlignedWord], segments: list[tuple[float, float]]) -> tuple[TextSpan, ...]:
    """Each segment with the words that start inside it (the last one also takes any at its end)."""
    if not segments:
        return ()
    texts: list[list[str]] = [[] for _ in segments]
    starts = [start for start, _ in segments]
    for word in words:
        texts[max(bisect.bisect_right(starts, word.start_s) - 1, 0)].append(word.text)
    return tuple(TextSpan(" ".join(text), start, end) for text, (start, end) in zip(texts, segments, strict=True))


def _shifted(word: AlignedWord, offset_s: float) -> AlignedWord:
    chars = None
    if word.chars is not None:
        chars = tuple(replace(c, start_s=c.start_s + offset_s, end_s=c.end_s + offset_s) for c in word.chars)
    return replace(word, start_s=word.start_s + offset_s, end_s=word.end_s + offset_s, chars=chars)


def _dithered(window: np.ndarray) -> np.ndarray:
    """The window with its exact zeros replaced by faint noise (the same each time)."""
    zeros = window == 0.0
    if not zeros.any():
        return window
    noisy = window.copy()
    noisy[zeros] = np.random.default_rng(0).uniform(-DITHER, DITHER, int(zeros.sum())).astype(np.float32)
    return noisy


def _words_named(words: list[str], first: int, last: int) -> str:
    preview = " ".join(words[first : min(last, first + 4)]) + ("…" if last - first > 4 else "")
    if last - first == 1:
        return f"word {first + 1} ({preview!r}) was"
    return f"words {first + 1}–{last} ({preview!r}) were"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, minutes, secs = whole // 3600, whole // 60 % 60, whole % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
