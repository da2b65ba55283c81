"""A reference clip's bytes from its source, checked and decoded.

The header is probed before anything is decoded, so a two-hour file or a file that is not audio is refused
unread; decoding reads at most `MAX_VOICE_S` of mono float32 at the synthesizer's rate.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import numpy as np

from common import ffmpeg
from common.errors import InvalidInput, VoiceError
from storage import ObjectTooLarge, Storage
from voice import ReferenceVoice, VoiceSource
from voice.fetch import PUBLIC_ONLY, AddressPolicy, FetchFailed, FetchRefused, fetch_to_file

MAX_VOICE_BYTES = 30 * 1024 * 1024
MIN_VOICE_S = 0.5
MAX_VOICE_S = 60.0  # longer clips are refused from their header; up to this they are cut to REFERENCE_MAX_S


def fetch_clip(
    source: VoiceSource,
    work_dir: Path,
    url_policy: AddressPolicy = PUBLIC_ONLY,
    bucket: Storage | None = None,
    max_bytes: int | None = None,
    file_name: str = "voice-clip",
) -> Path:
    """The clip's bytes from base64, a guarded download or the worker's bucket, in `work_dir/file_name`; at most
    `max_bytes` (default MAX_VOICE_BYTES; a caller's recording for an align job may be larger).

    `bucket` is read only when callers can name keys in it (`Storage.caller_keys`)."""
    clip_path, field = work_dir / file_name, source.field
    max_bytes = MAX_VOICE_BYTES if max_bytes is None else max_bytes
    if source.base64:
        clip_path.write_bytes(_decode_base64(source.base64, f"{field}.base64", max_bytes))
    elif source.s3_key:
        if bucket is None or not bucket.caller_keys:
            raise InvalidInput(f"{field}.s3_key", "this worker has no S3 bucket configured; send base64 or url")
        try:
            found = bucket.download(source.s3_key, clip_path, max_bytes)
        except ObjectTooLarge:
            raise VoiceError(f"{field}.s3_key is larger than {max_bytes // 2**20} MiB") from None
        if not found:
            raise VoiceError(f"{field}.s3_key {source.s3_key!r} is not in the bucket")
    elif source.url:
        try:
            fetch_to_file(source.url, clip_path, max_bytes, url_policy)
        except FetchRefused as refused:
            raise InvalidInput(f"{field}.url", str(refused)) from None
        except FetchFailed as failed:
            raise VoiceError(f"{field}.url {failed}") from None
    else:  # the contract guarantees a source
        raise InvalidInput(field, "give exactly one of base64, url, s3_key or name")
    return clip_path


def decode_clip(clip_path: Path, transcript: str, sample_rate_hz: int) -> ReferenceVoice:
    """Probe the header first (a two-hour file is refused unread), then decode to mono float32."""
    if clip_path.stat().st_size == 0:
        raise VoiceError("the voice clip is empty")
    try:
        header = ffmpeg.probe(clip_path)
        if header.duration_s > MAX_VOICE_S:
            raise VoiceError(f"the voice clip is {header.duration_s:.1f} s long; use a clip of 3 to 12 s")
        samples = ffmpeg.decode_mono(clip_path, sample_rate_hz, MAX_VOICE_S)
    except ffmpeg.UnreadableAudio as error:
        raise VoiceError(f"the voice clip {error}") from None
    if len(samples) < MIN_VOICE_S * sample_rate_hz:
        raise VoiceError(f"the voice clip holds less than {MIN_VOICE_S} s of audio; use a clip of 3 to 12 s")
    if not np.isfinite(samples).all() or float(np.abs(samples).max()) == 0.0:
        raise VoiceError("the voice clip is silent")
    return ReferenceVoice(samples=samples, sample_rate_hz=sample_rate_hz, transcript=transcript.strip())


def _decode_base64(data: str, field: str, max_bytes: int) -> bytes:
    try:
        payload = data.partition(",")[2] if data.startswith("data:") else data
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(field, "is not valid base64") from None
    if len(raw) > max_bytes:
        raise InvalidInput(field, f"the clip is larger than {max_bytes // 2**20} MiB")
    return raw
