"""A caller's own recording (up to hours) and its transcript → when each word is spoken, and where the two disagree.

A recording up to ONE_SPAN_S is aligned whole, then again phrase by phrase between its long pauses. Longer ones:
an `Aligner` takes spans whose text is known. In a caller's recording nobody knows which text is where, and the
text may not match the audio everywhere (a sentence skipped, an aside that is not in the script). The recording is
walked from start to end in windows of about WINDOW_S, each starting where the last confirmed word ended:

1. Voice activity: each 10 ms frame is speech or silence by its energy (a threshold between the recording's noise
   floor and its speech level); a silence of at least MIN_PAUSE_S is a pause. The recording is cut into segments
   of at most MAX_SEGMENT_S at its longest pauses (a stretch without one at its quietest point); windows end at
   pauses too, so that no word is cut.
2. Coarse placement: text is laid over speech at the speaking rate (characters per second of speech): at first
   the whole recording's, then more and more the rate of what has been aligned.
3. A window is aligned with fewer words than its speech should hold (SUPPLY_RATIO): an aligner places every word
   it is given, so a word given that is not in the window would be forced onto other speech, while speech without
   text is left over at the window's end. Its last TAIL_WORDS are not kept (they may have absorbed that speech);
   the next window starts where the last kept word ends.
4. Each window is checked against the audio before it is kept: most words placed (not interpolated), the model's
   scores where it has them, and no word nor gap between words holding more speech than its text can take. A
   window that fails is retried with half the words; when a short one fails too, text and audio disagree there,
   and the walk resynchronises: it tries nearby (audio, text) positions, smallest skip first (a sentence missing
   from the audio, speech missing from the text), then positions further on along the proportional map. Skipped
   text is flagged and reported with where it should have been; skipped speech is reported.

Bounded: one window at a time is aligned (≤ WINDOW_MAX_S of audio: its emissions and its CTC path), besides a few
bytes per 10 ms frame; about 1.5 times the recording's length is aligned in all, mismatches cost a few more windows
each, and the walk stops after BUDGET_FACTOR times the recording's length.
"""

from __future__ import annotations

import bisect
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from alignment import AlignedWord, Aligner, TextSpan, fill_missing_times

log = logging.getLogger(__name__)

FRAME_S = 0.01
PHRASE_PAUSE_S = 0.5  # a short recording is aligned again phrase by phrase between pauses at least this long
ONE_SPAN_S = 60.0  # a recording up to this long is aligned whole, as one span (alignment.MAX_SPAN_S is 90 s)
MIN_PAUSE_S = 0.25  # a silence at least this long is a pause (shorter ones are inside words: stops, breaths)
ABSOLUTE_SILENCE_DB = -60.0  # frames quieter than this are silence in any recording (dBFS)
MIN_SPEECH_MARGIN_DB = 6.0  # speech is at least this far above the noise floor
SPEECH_RANGE_DB = 25.0  # … and frames this far below the speech level are silence
MIN_SEGMENT_S = 10.0
MAX_SEGMENT_S = 30.0
WINDOW_S = 30.0  # the speech a window aims to hold
WINDOW_MAX_S = 45.0  # well under alignment.MAX_SPAN_S
SUPPLY_RATIO = 0.8  # a window gets the words for this share of its speech
TAIL_WORDS = 3  # a window's last words are aligned for context, not kept
MIN_WORDS = 12  # the fewest words a window is tried with: with fewer, wrong text fits too easily
PROBE_WORDS = 16  # words a resynchronising probe aligns: enough that wrong text rarely fits
PLACED_RATIO = 0.6  # of a window's kept words at least this share must be placed by the aligner
MIN_MEDIAN_SCORE = 0.15  # for aligners with scores (wav2vec2: mean character probability)
ABSORB_MIN_S = 0.6  # a word, or a gap between words, may hold this much speech whatever its text
ABSORB_RATIO = 3.0  # … or this many times the speech its text takes at the speaking rate
PRIOR_S = 20.0  # seconds of speech the recording's overall rate counts for against what was aligned
FINAL_SLACK = 1.25  # the rest of the text is aligned in one window when its speech fits this many times over
RESYNC_AUDIO_S = 60.0  # how far ahead a resynchronisation looks for the audio …
RESYNC_WORDS = 120  # … and for the text
RESYNC_PROBES = 12
JUMP_S = 30.0  # then it looks further along the proportional map, this far apart
JUMPS = 6
JUMP_PROBES = 6
BUDGET_FACTOR = 4.0  # at most this many times the recording's length is aligned …
BUDGET_EXTRA_S = 120.0  # … plus this
UNMATCHED_SPEECH_S = 1.0  # skipped audio with at least this much speech is reported
DITHER = 3e-3  # digital silence (exact zeros) gets noise this loud: PocketSphinx cannot align across it
CLAUSE_ENDS = frozenset(".,;:!?…。，、；：！？")
SENTENCE_ENDS = frozenset(".!?…。！？")  # a reader pauses after these: text placed across none is misplaced
BREAK_S = 0.1  # silence that counts as a break between two words
SQUEEZED_RATIO = 0.4  # a word shorter than this share of its text's speech is squeezed …
SQUEEZED_SHARE = 0.2  # … and a window with more than this share of them squeezed is misplaced
CLOSING = "\"')]}»”’」』"
FALLBACK_CLAUSE_WORDS = 8  # text without punctuation: resynchronise at every eighth word
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
    duration_s = len(audio) / rate_hz
    voicing = Voicing.of(audio, rate_hz)
    if words and duration_s <= ONE_SPAN_S and voicing.speech_s(0.0, duration_s) > 0:
        return _one_span(audio, rate_hz, words, aligner, language, characters)  # the exact path engines take
    segments = voicing.segments()
    walk = _Walk(audio, rate_hz, list(words), aligner, language, characters, voicing)
    if words and voicing.speech_s(0.0, duration_s) > 0:
        walk.run()
    return walk.result(segments)


def _one_span(
    audio: np.ndarray, rate_hz: int, words: Sequence[str], aligner: Aligner, language: str, characters: bool
) -> RecordingAlignment:
    """A recording short enough to align whole: one pass over all of it, then phrase by phrase between its
    pauses; every word placed by the aligner or flagged."""
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
    for region in range(len(pauses) + 1):
        begin = pauses[region - 1][1] if region else 0.0
        end = pauses[region][0] if region < len(pauses) else duration_s
        if region < len(pauses):  # the words before this pause's middle, the boundary snapped to a sentence end
            cut = (pauses[region][0] + pauses[region][1]) / 2
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
    timed = [
        placed if again.interpolated and not placed.interpolated else again
        for again, placed in zip(timed, coarse, strict=True)
    ]
    missing = [index for index, word in enumerate(timed) if word.interpolated]
    warnings = []
    if missing:
        shown = " ".join(words[missing[0] : missing[0] + 4])
        warnings.append(
            f"{len(missing)} of {len(words)} words were not found in the audio (the first: word {missing[0] + 1}, "
            f"'{shown}…'); they are timed between their neighbours"
        )
    # The segments reported tile the recording: each phrase reaches to the middle of the pauses around it.
    ends = [(span.end_s + following.start_s) / 2 for span, following in zip(spans, spans[1:], strict=False)]
    ends.append(duration_s)
    tiles = tuple(
        TextSpan(span.text, ends[index - 1] if index else 0.0, ends[index]) for index, span in enumerate(spans)
    )
    return RecordingAlignment(timed, tiles, warnings)


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

    def time_after_speech(self, start_s: float, speech_s: float) -> float:
        """The time by which `speech_s` seconds of speech have been heard from `start_s` (the end if never)."""
        first = min(max(int(start_s / FRAME_S), 0), len(self.level_db))
        wanted = self._speech_frames[first] + speech_s / FRAME_S
        last = int(np.searchsorted(self._speech_frames, wanted, side="left"))
        return min(max(last * FRAME_S, start_s), self.duration_s)

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
class _Step:
    """A kept window: the walk goes on from `time_s` and word `index`."""

    time_s: float
    index: int


class _Walk:
    def __init__(
        self,
        audio: np.ndarray,
        rate_hz: int,
        words: list[str],
        aligner: Aligner,
        language: str,
        characters: bool,
        voicing: Voicing,
    ) -> None:
        self.audio, self.rate_hz, self.words = audio, rate_hz, words
        self.aligner, self.language, self.characters, self.voicing = aligner, language, characters, voicing
        self.duration_s = voicing.duration_s
        self.cumulative = np.concatenate([[0], np.cumsum([len(word) + 1 for word in words])])  # characters
        self.found: list[AlignedWord | None] = [None] * len(words)
        self.matched = np.zeros(len(words), dtype=np.bool_)  # inside text the audio was found to hold
        self.unmatched_audio: list[tuple[float, float]] = []
        self.clause_starts = _clause_starts(words)
        total_speech_s = voicing.speech_s(0.0, self.duration_s)
        self.overall_rate = float(self.cumulative[-1]) / total_speech_s if total_speech_s > 0 else 15.0
        self.aligned_chars, self.aligned_speech_s = 0.0, 0.0
        self.spent_s, self.budget_s = 0.0, BUDGET_FACTOR * self.duration_s + BUDGET_EXTRA_S
        self.stopped_early = False

    # The walk.

    def run(self) -> None:
        step = _Step(0.0, 0)
        while step.index < len(self.words) and self.voicing.speech_s(step.time_s, self.duration_s) > FRAME_S:
            if self.spent_s > self.budget_s:
                self.stopped_early = True
                return
            advanced = self._advance(step) or self._resync(step)
            if advanced is None:
                return
            step = advanced

    def _advance(self, step: _Step) -> _Step | None:
        """Align the next window from `step`, retried with fewer words; None when even few words do not fit."""
        remaining = len(self.words) - step.index
        speech_left = self.voicing.speech_s(step.time_s, self.duration_s)
        near_end = self.duration_s - step.time_s <= WINDOW_MAX_S
        if near_end and self._chars(step.index, len(self.words)) / self.rate() <= speech_left * FINAL_SLACK:
            # The rest of the text in one window: to the end of the recording, else to a pause after its speech.
            ends = {self.duration_s, self._window_end(step.time_s, step.index, remaining, final=True)}
            for end in sorted(ends, reverse=True):
                if end - step.time_s <= WINDOW_MAX_S:
                    kept = self._try(step, end, remaining, final=True)
                    if kept is not None:
                        return kept
        count = self._words_for(step, WINDOW_S * SUPPLY_RATIO)
        while True:
            count = min(count, remaining)
            end = self._window_end(step.time_s, step.index, count, final=False)
            kept = self._try(step, end, count, final=False)
            if kept is not None or count <= MIN_WORDS:
                return kept
            count = max(MIN_WORDS, count // 2)

    def _resync(self, step: _Step) -> _Step | None:
        """Text and audio disagree at `step`: find where they agree again, smallest skip first, then along the
        proportional map; None when nowhere further on is found (or the budget is spent)."""
        times = [step.time_s] + [
            (start + end) / 2 for start, end in self.voicing.pauses_between(step.time_s, step.time_s + RESYNC_AUDIO_S)
        ]
        indexes = [step.index] + self._clauses_after(step.index, RESYNC_WORDS)
        pairs = sorted(  # smallest skip first: of text missing from the audio, of speech missing from the text
            ((time, index) for time in times for index in indexes if (time, index) != (step.time_s, step.index)),
            key=lambda pair: self._skipped_chars(step, *pair),
        )
        for time, index in pairs[:RESYNC_PROBES]:
            found = self._probe(step, _Step(time, index))
            if found is not None or self.spent_s > self.budget_s:
                return found
        for jump in range(1, JUMPS + 1):
            guess_s = step.time_s + jump * JUMP_S
            if guess_s >= self.duration_s:
                break
            time = self.voicing.cut_near(guess_s, guess_s - JUMP_S / 3, guess_s + JUMP_S / 3)
            share = self.voicing.speech_s(step.time_s, time) / max(
                self.voicing.speech_s(step.time_s, self.duration_s), FRAME_S
            )
            guess = step.index + round(share * (len(self.words) - step.index))
            indexes = [step.index] + sorted(
                self._clauses_after(max(step.index, guess - RESYNC_WORDS // 2), RESYNC_WORDS),
                key=lambda index: abs(index - guess),
            )
            for index in indexes[:JUMP_PROBES]:
                found = self._probe(step, _Step(time, index))
                if found is not None or self.spent_s > self.budget_s:
                    return found
        return None

    def _probe(self, lost: _Step, candidate: _Step) -> _Step | None:
        """Try aligning from `candidate`; if it fits, what lies between `lost` and it was not matched."""
        if candidate.index >= len(self.words) or candidate.time_s >= self.duration_s:
            return None
        remaining = len(self.words) - candidate.index
        final = remaining <= PROBE_WORDS
        count = remaining if final else PROBE_WORDS
        end = self._window_end(candidate.time_s, candidate.index, count, final=final)
        kept = self._try(candidate, end, count, final=final)
        if kept is not None and self.voicing.speech_s(lost.time_s, candidate.time_s) >= UNMATCHED_SPEECH_S:
            self.unmatched_audio.append((lost.time_s, candidate.time_s))
        return kept

    def _try(self, step: _Step, end_s: float, count: int, final: bool) -> _Step | None:
        """Align words [index, index + count) in [time, end); keep them if they fit the audio: all when `final`,
        else those before the last pause ahead of the tail, and for an aligner without scores only once the same
        words, alone from pause to pause, fit again (wrong text rarely fits a window exactly)."""
        aligned = self._align(step.time_s, end_s, step.index, count)
        if aligned is None:
            return None
        keep, next_s = (count, end_s) if final else self._kept_until_pause(aligned[: count - TAIL_WORDS], end_s)
        why = "no word kept" if keep <= 0 else self._misfit(step, aligned[:keep])
        if why is None and not final and all(word.score is None for word in aligned[:keep]):
            again = self._align(step.time_s, next_s, step.index, keep)
            why = "does not fit alone" if again is None else self._misfit(step, again)
            aligned = aligned if again is None else again
        log.debug(
            "window %.2f–%.2f s, words %d+%d%s: %s",
            step.time_s,
            end_s,
            step.index,
            count,
            " (final)" if final else "",
            why or f"kept {keep}",
        )
        if why:
            return None
        for offset, word in enumerate(aligned[:keep]):
            self.found[step.index + offset] = None if word.interpolated else word
        self.matched[step.index : step.index + keep] = True
        self.aligned_chars += self._chars(step.index, step.index + keep)
        self.aligned_speech_s += self.voicing.speech_s(step.time_s, aligned[keep - 1].end_s)
        return _Step(next_s, step.index + keep)

    def _align(self, start_s: float, end_s: float, index: int, count: int) -> list[AlignedWord] | None:
        """Words [index, index + count) aligned in [start, end), in the recording's time; None when there is
        nothing to align."""
        first, last = int(start_s * self.rate_hz), int(end_s * self.rate_hz)
        if count <= 0 or last <= first:
            return None
        window = _dithered(self.audio[first:last])
        self.spent_s += end_s - start_s
        span = TextSpan(" ".join(self.words[index : index + count]), 0.0, len(window) / self.rate_hz)
        aligned = self.aligner.align(window, self.rate_hz, [span], self.language, self.characters)
        return [_shifted(word, first / self.rate_hz) for word in aligned]

    def _kept_until_pause(self, candidates: list[AlignedWord], end_s: float) -> tuple[int, float]:
        """How many of a window's words to keep, and where the next window starts: up to the last pause after a
        placed word and before a placed word (the next window then starts in silence), else up to the last placed
        word."""
        for keep in range(len(candidates) - 1, 0, -1):
            before, after = candidates[keep - 1], candidates[keep]
            if not before.interpolated and not after.interpolated:
                if self.voicing.silence_s(before.end_s, after.start_s) >= BREAK_S:
                    return keep, (before.end_s + after.start_s) / 2
        placed = [index for index, word in enumerate(candidates) if not word.interpolated]
        if not placed:
            return 0, end_s
        return placed[-1] + 1, candidates[placed[-1]].end_s

    def _misfit(self, step: _Step, kept: list[AlignedWord]) -> str | None:
        """Why a window's kept words do not look like the speech they were placed on; None when they do."""
        placed = [word for word in kept if not word.interpolated]
        if len(placed) < PLACED_RATIO * len(kept):
            return f"{len(kept) - len(placed)} of {len(kept)} words not placed"
        scores = [word.score for word in placed if word.score is not None]
        if scores and statistics.median(scores) < MIN_MEDIAN_SCORE:
            return f"median score {statistics.median(scores):.2f}"
        rate = self.rate()
        if not scores:  # forced onto speech that is not theirs, words are squeezed to the fewest frames allowed
            squeezed = sum(word.end_s - word.start_s < SQUEEZED_RATIO * (len(word.text) + 1) / rate for word in placed)
            if squeezed >= 3 and squeezed > SQUEEZED_SHARE * len(placed):
                return f"{squeezed} of {len(placed)} words squeezed"
        for before, after in zip(kept, kept[1:], strict=False):
            if before.interpolated or after.interpolated or before.text.rstrip(CLOSING)[-1:] not in SENTENCE_ENDS:
                continue
            if self.voicing.silence_s(before.end_s - 0.05, after.start_s + 0.05) < BREAK_S:
                return f"no break after {before.text!r} at {before.end_s:.2f} s"
        previous_end, waiting_chars = step.time_s, 0.0
        for offset, word in enumerate(kept):
            chars = float(len(self.words[step.index + offset]) + 1)
            if word.interpolated:  # its speech lies in the gap before the next placed word
                waiting_chars += chars
                continue
            gap_s = self.voicing.speech_s(previous_end, word.start_s)
            if gap_s > ABSORB_MIN_S + ABSORB_RATIO * waiting_chars / rate:
                # Speech the text does not account for: other words, or words not in the text.
                return f"{gap_s:.1f} s of speech before {word.text!r} at {word.start_s:.2f} s"
            inside_s = self.voicing.speech_s(word.start_s, word.end_s)
            if inside_s > max(ABSORB_MIN_S, ABSORB_RATIO * chars / rate):
                return f"{word.text!r} holds {inside_s:.1f} s of speech"  # stretched over the speech of several
            previous_end, waiting_chars = word.end_s, 0.0
        return None

    # Estimates.

    def rate(self) -> float:
        """Characters per second of speech: the recording's, then more and more what was aligned."""
        return (self.aligned_chars + self.overall_rate * PRIOR_S) / (self.aligned_speech_s + PRIOR_S)

    def _chars(self, first: int, last: int) -> float:
        return float(self.cumulative[last] - self.cumulative[first])

    def _words_for(self, step: _Step, speech_s: float) -> int:
        """How many words from `step` take about `speech_s` of speech (at least MIN_WORDS)."""
        wanted = self.cumulative[step.index] + speech_s * self.rate()
        return max(MIN_WORDS, int(np.searchsorted(self.cumulative, wanted, side="right")) - 1 - step.index)

    def _window_end(self, start_s: float, index: int, count: int, final: bool) -> float:
        """Where a window for `count` words from `start_s` ends: at a pause after the speech they should take,
        with room to spare (SUPPLY_RATIO) unless they are the last words."""
        speech_s = self._chars(index, index + count) / self.rate() * (FINAL_SLACK if final else 1 / SUPPLY_RATIO)
        target = self.voicing.time_after_speech(start_s, speech_s)
        latest = min(start_s + WINDOW_MAX_S, max(target + 0.3 * (target - start_s), target + 1.0))
        earliest = max(start_s + 0.5, target - 0.2 * (target - start_s))
        return self.voicing.cut_near(target, min(earliest, latest), latest)

    def _clauses_after(self, index: int, within: int) -> list[int]:
        first = bisect.bisect_right(self.clause_starts, index)
        last = bisect.bisect_right(self.clause_starts, index + within)
        return self.clause_starts[first:last]

    def _skipped_chars(self, step: _Step, time_s: float, index: int) -> float:
        return self.voicing.speech_s(step.time_s, time_s) * self.rate() + self._chars(step.index, index)

    # The result.

    def result(self, segments: list[tuple[float, float]]) -> RecordingAlignment:
        whole = TextSpan("", 0.0, self.duration_s)
        starts = [None if word is None else word.start_s for word in self.found]
        ends = [None if word is None else word.end_s for word in self.found]
        times = fill_missing_times(self.words, starts, ends, whole)
        words = [
            AlignedWord(text, start, end, None, True)
            if flagged or found is None
            else replace(found, start_s=start, end_s=end)
            for text, found, (start, end, flagged) in zip(self.words, self.found, times, strict=True)
        ]
        return RecordingAlignment(words, _spans(words, segments), self._warnings(words))

    def _warnings(self, words: list[AlignedWord]) -> list[str]:
        if not self.words:
            return []
        if self.duration_s == 0 or self.voicing.speech_s(0.0, self.duration_s) == 0:
            return [f"no speech was found in the recording: its {len(words)} words are spread evenly over it"]
        warnings = []
        runs = _runs(~self.matched)
        for first, last in runs[:MAX_WARNINGS]:
            start_s = words[first - 1].end_s if first > 0 else 0.0
            end_s = words[last].start_s if last < len(words) else self.duration_s
            warnings.append(
                f"{_words_named(self.words, first, last)} not found in the audio "
                f"(around {_clock(start_s)}–{_clock(end_s)})"
            )
        if len(runs) > MAX_WARNINGS:
            warnings.append(f"… and {len(runs) - MAX_WARNINGS} more stretches of text not found in the audio")
        for start_s, end_s in self.unmatched_audio[:MAX_WARNINGS]:
            warnings.append(f"speech at {_clock(start_s)}–{_clock(end_s)} matched none of the text")
        if self.stopped_early:
            warnings.append("the text and the audio disagree too often: alignment stopped early")
        return warnings  # the caller adds alignment_warnings, as for any aligner


def _clause_starts(words: list[str]) -> list[int]:
    """Indexes of the words that begin a clause (after punctuation), or every few words in text without any."""
    starts = [index for index in range(1, len(words)) if words[index - 1].rstrip(CLOSING)[-1:] in CLAUSE_ENDS]
    if len(starts) * FALLBACK_CLAUSE_WORDS < len(words):
        starts = sorted(set(starts) | set(range(FALLBACK_CLAUSE_WORDS, len(words), FALLBACK_CLAUSE_WORDS)))
    return starts


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
