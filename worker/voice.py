"""The reference voice: fetched from the job's source, probed, decoded to mono at the model's rate, prepared.

Preparing a clip (`prepare_reference`) makes it what F5-TTS conditions on best: silence trimmed from both ends,
cut to at most `REFERENCE_MAX_S` at a pause (between two words of the transcript when one is given, so the
transcript is cut with it), a transcript made by speech recognition when none is given, and the loudness F5 was
trained with.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alignment import AlignedWord
from tts import ReferenceVoice
from tts.dsp import set_rms, silent_runs, speech_bounds
from worker import audio
from worker.contract import VoiceInput
from worker.errors import InvalidInput, VoiceError
from worker.fetch import PUBLIC_ONLY, AddressPolicy, FetchFailed, FetchRefused, fetch_to_file

if TYPE_CHECKING:
    from storage import Storage
    from worker.voices import VoiceLibrary

MAX_VOICE_BYTES = 30 * 1024 * 1024
MIN_VOICE_S = 0.5
MAX_VOICE_S = 60.0  # longer clips are refused from their header; up to this they are cut to REFERENCE_MAX_S
# F5-TTS conditions on at most ~12 s (its own preprocessing clips there): a longer reference takes the time of
# every chunk's window and does not sound more like the speaker.
REFERENCE_MAX_S = 12.0
REFERENCE_MIN_CUT_S = 3.0  # a cut never leaves less than this
# Without a way to cut the transcript too, a clip up to this long is used whole (F5 still works, chunks shrink).
UNCUT_MAX_S = 20.0

# What preparing a clip may use: a forced aligner (clip, rate, transcript → word times) to cut a clip and its
# transcript together, and speech recognition (clip, rate → transcript) for clips sent without one.
AlignFn = Callable[[np.ndarray, int, str], list[AlignedWord]]
TranscribeFn = Callable[[np.ndarray, int], str]


@dataclass(frozen=True)
class ClipTools:
    align: AlignFn | None = None
    transcribe: TranscribeFn | None = None


def load_voice(
    voice: VoiceInput,
    work_dir: Path,
    sample_rate_hz: int,
    url_policy: AddressPolicy = PUBLIC_ONLY,
    library: VoiceLibrary | None = None,
    bucket: Storage | None = None,
) -> ReferenceVoice:
    """Fetch the clip into `work_dir` (or take a saved one), check it, and decode it to mono float32."""
    if voice.name:
        if library is None:
            raise InvalidInput("voice.name", "this worker has no voice library")
        clip_path = work_dir / "voice-clip"
        saved_text = library.load(voice.name, clip_path)
        return decode_clip(clip_path, voice.text or saved_text, sample_rate_hz)
    return decode_clip(fetch_clip(voice, work_dir, url_policy, bucket), voice.text or "", sample_rate_hz)


def fetch_clip(
    voice: VoiceInput, work_dir: Path, url_policy: AddressPolicy = PUBLIC_ONLY, bucket: Storage | None = None
) -> Path:
    """The clip's bytes from base64, a guarded download or the worker's bucket, in a file in `work_dir`."""
    clip_path = work_dir / "voice-clip"
    if voice.base64:
        clip_path.write_bytes(_decode_base64(voice.base64))
    elif voice.s3_key:
        if bucket is None or bucket.name != "s3":
            raise InvalidInput("voice.s3_key", "this worker has no S3 bucket configured; send base64 or url")
        data = bucket.get_bytes(voice.s3_key)
        if data is None:
            raise VoiceError(f"voice.s3_key {voice.s3_key!r} is not in the bucket")
        if len(data) > MAX_VOICE_BYTES:
            raise VoiceError(f"voice.s3_key is larger than {MAX_VOICE_BYTES // 2**20} MiB")
        clip_path.write_bytes(data)
    elif voice.url:
        try:
            fetch_to_file(voice.url, clip_path, MAX_VOICE_BYTES, url_policy)
        except FetchRefused as refused:
            raise InvalidInput("voice.url", str(refused)) from None
        except FetchFailed as failed:
            raise VoiceError(f"voice.url {failed}") from None
    else:  # the contract guarantees a source
        raise InvalidInput("voice", "give exactly one of base64, url, s3_key or name")
    return clip_path


def decode_clip(clip_path: Path, transcript: str, sample_rate_hz: int) -> ReferenceVoice:
    """Probe the header first (a two-hour file is refused unread), then decode to mono float32."""
    if clip_path.stat().st_size == 0:
        raise VoiceError("the voice clip is empty")
    header = audio.probe(clip_path)
    if header.duration_s > MAX_VOICE_S:
        raise VoiceError(f"the voice clip is {header.duration_s:.1f} s long; use a clip of 3 to 12 s")
    samples = audio.decode_mono(clip_path, sample_rate_hz, MAX_VOICE_S)
    if len(samples) < MIN_VOICE_S * sample_rate_hz:
        raise VoiceError(f"the voice clip holds less than {MIN_VOICE_S} s of audio; use a clip of 3 to 12 s")
    if not np.isfinite(samples).all() or float(np.abs(samples).max()) == 0.0:
        raise VoiceError("the voice clip is silent")
    return ReferenceVoice(samples=samples, sample_rate_hz=sample_rate_hz, transcript=transcript.strip())


def _decode_base64(data: str) -> bytes:
    try:
        payload = data.partition(",")[2] if data.startswith("data:") else data
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("voice.base64", "is not valid base64") from None
    if len(raw) > MAX_VOICE_BYTES:
        raise InvalidInput("voice.base64", f"the clip is larger than {MAX_VOICE_BYTES // 2**20} MiB")
    return raw


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
