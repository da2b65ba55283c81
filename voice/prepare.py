"""Preparing a decoded clip: what F5-TTS conditions on best.

Silence trimmed from both ends, cut to at most `REFERENCE_MAX_S` at a pause (between two words of the transcript
when one is given, so the transcript is cut with it), a transcript made by speech recognition when none is
given, and the loudness F5 was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignment import AlignedWord
from common.dsp import set_rms, silent_runs, speech_bounds
from common.errors import InvalidInput, VoiceError
from voice import AlignFn, ReferenceVoice, TranscribeFn

# F5-TTS conditions on at most ~12 s (its own preprocessing clips there): a longer reference takes the time of
# every chunk's window and does not sound more like the speaker.
REFERENCE_MAX_S = 12.0
REFERENCE_MIN_CUT_S = 3.0  # a cut never leaves less than this
# Without a way to cut the transcript too, a clip up to this long is used whole (F5 still works, chunks shrink).
UNCUT_MAX_S = 20.0


@dataclass(frozen=True)
class ClipTools:
    """What preparing a clip may use: a forced aligner to cut a clip and its transcript together, and speech
    recognition for clips sent without a transcript."""

    align: AlignFn | None = None
    transcribe: TranscribeFn | None = None


def prepare_reference(voice: ReferenceVoice, tools: ClipTools) -> tuple[ReferenceVoice, list[str]]:
    """Trim, cut, transcribe if needed, and level a decoded clip. Returns the clip and warnings for the caller."""
    rate, warnings = voice.sample_rate_hz, []
    start, end = speech_bounds(voice.samples, rate)
    samples, transcript = voice.samples[start:end], voice.transcript
    if len(samples) > REFERENCE_MAX_S * rate:
        was_s = len(samples) / rate
        if not transcript:
            samples = samples[: cut_at_pause(samples, rate)]
        elif tools.align is not None:
            cut, kept_words = cut_between_words(tools.align(samples, rate, transcript), rate)
            samples, transcript = samples[:cut], " ".join(transcript.split()[:kept_words])
        elif was_s > UNCUT_MAX_S:
            alternative = ", or leave out voice.text to have it transcribed" if tools.transcribe else ""
            raise VoiceError(
                f"the voice clip is {was_s:.1f} s long and this worker cannot cut its transcript for this language: "
                f"send a clip of 3 to {REFERENCE_MAX_S:g} s{alternative}"
            )
        if len(samples) < len(voice.samples[start:end]):
            samples = samples[: speech_bounds(samples, rate)[1]]
            warnings.append(
                f"the voice clip was cut from {was_s:.1f} s to {len(samples) / rate:.1f} s at a pause "
                f"(F5-TTS uses at most {REFERENCE_MAX_S:g} s)"
            )
    if not transcript:
        if tools.transcribe is None:
            raise InvalidInput(
                "voice.text",
                "is required on this worker: it has no speech recognition model to transcribe the clip; "
                "send the words spoken in the clip",
            )
        transcript = tools.transcribe(samples, rate).strip()
        if not transcript:
            raise VoiceError("no speech was recognised in the voice clip; send voice.text with its transcript")
    leveled = set_rms(samples, rate)
    return ReferenceVoice(samples=leveled, sample_rate_hz=rate, transcript=transcript), warnings


def cut_at_pause(samples: np.ndarray, rate_hz: int) -> int:
    """The end sample of the longest stretch ≤ REFERENCE_MAX_S that ends in a pause (middle of the pause).

    Longer pauses are preferred: a 0.3 s pause is a phrase boundary, a 0.1 s one may be inside a word. With no
    pause at all, the clip is cut at REFERENCE_MAX_S.
    """
    limit, floor = int(REFERENCE_MAX_S * rate_hz), int(REFERENCE_MIN_CUT_S * rate_hz)
    for min_pause_s in (0.3, 0.1):
        middles = [
            (a + b) // 2 for a, b in silent_runs(samples, rate_hz, min_pause_s) if floor <= (a + b) // 2 <= limit
        ]
        if middles:
            return middles[-1]
    return limit


def cut_between_words(words: list[AlignedWord], rate_hz: int) -> tuple[int, int]:
    """(end sample, words kept): the cut between two placed words that keeps the most audio ≤ REFERENCE_MAX_S.

    Gaps of 0.3 s or more (phrase boundaries) win over shorter ones; words the aligner could not place give no
    cut point, since their times are guesses.
    """
    candidates: list[tuple[float, float, int]] = []  # (gap, cut time, words kept)
    for index in range(len(words) - 1):
        before, after = words[index], words[index + 1]
        if before.interpolated or after.interpolated:
            continue
        cut_s = (before.end_s + after.start_s) / 2
        if REFERENCE_MIN_CUT_S <= cut_s <= REFERENCE_MAX_S:
            candidates.append((after.start_s - before.end_s, cut_s, index + 1))
    if not candidates:
        raise VoiceError(
            f"the voice clip is longer than {REFERENCE_MAX_S:g} s and no word boundary was found to cut it at: "
            f"send a clip of 3 to {REFERENCE_MAX_S:g} s"
        )
    phrase_ends = [candidate for candidate in candidates if candidate[0] >= 0.3]
    _, cut_s, kept = max(phrase_ends or candidates, key=lambda candidate: candidate[1])
    return int(cut_s * rate_hz), kept
