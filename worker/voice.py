"""The reference voice: fetched from the job's source, probed, decoded to mono at the model's rate."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tts import ReferenceVoice
from worker import audio
from worker.contract import VoiceInput
from worker.errors import InvalidInput, VoiceError
from worker.fetch import PUBLIC_ONLY, AddressPolicy, FetchFailed, FetchRefused, fetch_to_file

if TYPE_CHECKING:
    from storage import Storage
    from worker.voices import VoiceLibrary

MAX_VOICE_BYTES = 30 * 1024 * 1024
MIN_VOICE_S = 0.5
MAX_VOICE_S = 20.0  # F5 conditions on at most ~12 s; longer clips waste the text budget of every chunk


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
        raise VoiceError(f"the voice clip is {header.duration_s:.1f} s long; use a clip of 3 to 15 s")
    samples = audio.decode_mono(clip_path, sample_rate_hz, MAX_VOICE_S)
    if len(samples) < MIN_VOICE_S * sample_rate_hz:
        raise VoiceError(f"the voice clip holds less than {MIN_VOICE_S} s of audio; use a clip of 3 to 15 s")
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
