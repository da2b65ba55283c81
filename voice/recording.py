"""A caller's own recording, for align and transcribe jobs: fetched through the same guards as a reference clip,
with longer limits, its header probed before a byte is decoded.

    fetch_recording(source, work_dir, url_policy, bucket) → the file, as sent
    decode_recording(path, rate_hz) → Recording: mono float32 at the aligner's rate, and what the file is
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import ffmpeg
from common.errors import VoiceError
from storage import Storage
from voice import VoiceSource
from voice.clip import fetch_clip
from voice.fetch import PUBLIC_ONLY, AddressPolicy

MAX_RECORDING_BYTES = 500 * 2**20
MAX_RECORDING_S = 2 * 3600.0
MIN_RECORDING_S = 0.2


@dataclass(frozen=True)
class Recording:
    path: Path  # the file as the caller sent it
    samples: np.ndarray  # mono float32
    sample_rate_hz: int
    codec: str  # of its audio stream, as ffprobe names it (pcm_s16le, mp3, aac, opus, ...)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz


def fetch_recording(
    source: VoiceSource, work_dir: Path, url_policy: AddressPolicy = PUBLIC_ONLY, bucket: Storage | None = None
) -> Path:
    """The recording's bytes (base64, a guarded URL or the worker's bucket) in `work_dir`, at most 500 MiB."""
    return fetch_clip(source, work_dir, url_policy, bucket, max_bytes=MAX_RECORDING_BYTES, file_name="recording")


def decode_recording(path: Path, sample_rate_hz: int, field: str = "audio") -> Recording:
    """Probe the header (over two hours is refused unread), then decode to mono float32 at `sample_rate_hz`."""
    if path.stat().st_size == 0:
        raise VoiceError(f"{field}: the recording is empty")
    try:
        header = ffmpeg.probe(path)
        if header.duration_s > MAX_RECORDING_S:
            hours = MAX_RECORDING_S / 3600
            raise VoiceError(f"{field}: the recording is {header.duration_s / 60:.0f} min long; at most {hours:g} h")
        samples = ffmpeg.decode_mono(path, sample_rate_hz, MAX_RECORDING_S)
    except ffmpeg.UnreadableAudio as error:
        raise VoiceError(f"{field}: the recording {error}") from None
    if len(samples) < MIN_RECORDING_S * sample_rate_hz:
        raise VoiceError(f"{field}: the recording holds less than {MIN_RECORDING_S} s of audio")
    if not np.isfinite(samples).all():
        raise VoiceError(f"{field}: the recording could not be decoded to audio samples")
    return Recording(path, samples, sample_rate_hz, header.codec)


# The file the caller sent, stored back as it is: a name and content type by its audio codec.
PASSTHROUGH = {"mp3": ("mp3", "audio/mpeg"), "flac": ("flac", "audio/flac"), "vorbis": ("ogg", "audio/ogg"),
               "opus": ("ogg", "audio/ogg"), "aac": ("m4a", "audio/mp4"), "alac": ("m4a", "audio/mp4")}  # fmt: skip


def passthrough_type(codec: str) -> tuple[str, str]:
    """The extension and content type to store a recording under, as it was sent."""
    if codec.startswith("pcm_"):
        return "wav", "audio/wav"
    return PASSTHROUGH.get(codec, ("bin", "application/octet-stream"))
