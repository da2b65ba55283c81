"""A caller's own recording, for align and transcribe jobs: fetched through the same guards as a reference clip,
with longer limits, its header probed before a byte is decoded.

    fetch_recording(source, work_dir, url_policy, bucket) → the file, as sent
    decode_recording(path, rate_hz) → Recording: mono float32 at the aligner's rate, and what the file is
    store_as_sent(recording, work_dir) → the file for the result: as sent, or its audio stream alone
"""

from __future__ import annotations

import os
import shutil
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
    header: ffmpeg.AudioProbe  # what the file is: its container, first audio stream, and whether it holds a picture

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz


@dataclass(frozen=True)
class StoredRecording:
    path: Path
    extension: str  # also the result's `format`
    content_type: str


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
    return Recording(path, samples, sample_rate_hz, header)


# Files stored back exactly as sent: one audio stream alone (cover art aside) in a container players know by its
# extension.
AS_SENT = {"wav": ("wav", "audio/wav"), "mp3": ("mp3", "audio/mpeg"), "flac": ("flac", "audio/flac"),
           "ogg": ("ogg", "audio/ogg")}  # fmt: skip
MP4_FAMILY, MATROSKA_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"
# From anything else (a video, several audio streams, a .mkv, a .mov of PCM) the first audio stream is copied out,
# unchanged, into the container its codec plays in: codec → (ffmpeg muxer, extension, content type). Other codecs
# are encoded as FLAC, losslessly.
WAV_PCM = ("pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le")
COPIED_INTO = {"aac": ("mp4", "m4a", "audio/mp4"), "alac": ("mp4", "m4a", "audio/mp4"),
               "mp3": ("mp3", "mp3", "audio/mpeg"), "opus": ("ogg", "ogg", "audio/ogg"),
               "vorbis": ("ogg", "ogg", "audio/ogg"), "flac": ("flac", "flac", "audio/flac"),
               **dict.fromkeys(WAV_PCM, ("wav", "wav", "audio/wav"))}  # fmt: skip
ENCODED_AS = ("flac", "flac", "audio/flac")


def store_as_sent(recording: Recording, work_dir: Path) -> StoredRecording:
    """The recording for a result that did not ask for `audio_output`: the file as sent where it is audio a player
    opens by its name, else its audio stream alone, copied out (or encoded losslessly where no container fits)."""
    header = recording.header
    kept = None if header.has_picture or header.audio_streams > 1 else _as_sent_type(recording)
    if kept is not None:
        extension, content_type = kept
        path = work_dir / f"recording.{extension}"  # the same bytes under a name with their extension
        try:
            os.link(recording.path, path)
        except OSError:  # a filesystem without hard links
            shutil.copyfile(recording.path, path)
        return StoredRecording(path, extension, content_type)
    if header.codec in COPIED_INTO:
        muxer, extension, content_type = COPIED_INTO[header.codec]
        path = work_dir / f"recording.{extension}"
        try:
            ffmpeg.copy_audio(recording.path, path, muxer)
            return StoredRecording(path, extension, content_type)
        except ffmpeg.UnreadableAudio:  # a stream that container does not take as it is: encoded below
            pass
    muxer, extension, content_type = ENCODED_AS
    path = work_dir / f"recording.{extension}"
    try:
        ffmpeg.copy_audio(recording.path, path, muxer, codec="flac")
    except ffmpeg.UnreadableAudio as error:
        raise VoiceError(f"audio: the recording {error}") from None
    return StoredRecording(path, extension, content_type)


def _as_sent_type(recording: Recording) -> tuple[str, str] | None:
    header = recording.header
    if header.container in AS_SENT:
        return AS_SENT[header.container]
    if header.container == MP4_FAMILY and header.codec in ("aac", "alac"):
        return "m4a", "audio/mp4"
    if header.container == MATROSKA_FAMILY and header.codec in ("opus", "vorbis"):
        with recording.path.open("rb") as file:
            if b"webm" in file.read(64):  # the EBML header's DocType: webm, not matroska (.mkv)
                return "webm", "audio/webm"
    return None
