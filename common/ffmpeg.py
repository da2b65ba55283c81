"""Audio in and out through ffmpeg: probe before decoding, decode to mono float, encode the output formats.

ffprobe looks at a file before ffmpeg decodes it, so a non-audio file or a two-hour clip is refused from its
header instead of being decoded into memory. Files that cannot be read raise `UnreadableAudio`, whose message
completes a sentence about the file ("the voice clip " + message), so each caller words its own error.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

AudioFormat = Literal["wav", "mp3", "flac", "ogg", "opus"]
FFMPEG_TIMEOUT_S = 120
# ffmpeg encoder and container per output format.
ENCODERS: dict[str, list[str]] = {
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "mp3": ["-c:a", "libmp3lame", "-q:a", "2", "-f", "mp3"],
    "flac": ["-c:a", "flac", "-f", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "5", "-f", "ogg"],
    "opus": ["-c:a", "libopus", "-b:a", "96k", "-f", "ogg"],
}
# libopus accepts only these rates; other requested rates are encoded at 48 kHz, as every opus decoder plays it.
OPUS_RATES_HZ = (8000, 12000, 16000, 24000, 48000)
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg"}


class UnreadableAudio(Exception):
    """ffmpeg cannot read the file as audio; the message says why, as the end of a sentence."""


@dataclass(frozen=True)
class AudioProbe:
    duration_s: float
    sample_rate_hz: int
    channels: int
    codec: str


def probe(path: Path) -> AudioProbe:
    """Read the first audio stream's header. Raises UnreadableAudio if there is no decodable audio stream."""
    command = [
        "ffprobe", "-v", "error", "-select_streams", "a:0",
        "-show_entries", "stream=codec_name,sample_rate,channels,duration:format=duration",
        "-of", "json", str(path),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    info = json.loads(completed.stdout or b"{}") if completed.returncode == 0 else {}
    streams = info.get("streams") or []
    if not streams:
        raise UnreadableAudio("is not audio that ffmpeg can read (wav, mp3, flac, ogg, m4a)")
    stream = streams[0]
    duration = stream.get("duration") or info.get("format", {}).get("duration")
    try:
        return AudioProbe(
            duration_s=float(duration),
            sample_rate_hz=int(stream["sample_rate"]),
            channels=int(stream["channels"]),
            codec=str(stream.get("codec_name", "")),
        )
    except (KeyError, TypeError, ValueError):
        raise UnreadableAudio("has no readable duration or sample rate") from None


def decode_mono(path: Path, sample_rate_hz: int, max_duration_s: float) -> np.ndarray:
    """Decode to mono float32 at `sample_rate_hz`, reading at most `max_duration_s` of audio."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-t", f"{max_duration_s:.3f}",
        "-ac", "1", "-ar", str(sample_rate_hz), "-f", "f32le", "-",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise UnreadableAudio("could not be decoded: " + _last_line(completed.stderr))
    return np.frombuffer(completed.stdout, dtype=np.float32).copy()


def output_rate_hz(audio_format: AudioFormat, requested_hz: int | None, source_hz: int) -> int:
    """The sample rate the output file will really have."""
    rate = requested_hz or source_hz
    if audio_format == "opus" and rate not in OPUS_RATES_HZ:
        return 48000
    return rate


def encode(samples: np.ndarray, sample_rate_hz: int, path: Path, audio_format: AudioFormat, out_rate_hz: int) -> None:
    """Write mono float samples to `path` in `audio_format` at `out_rate_hz`."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", "-",
        "-ar", str(out_rate_hz), *ENCODERS[audio_format], str(path),
    ]  # fmt: skip
    pcm = np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32).tobytes()
    completed = subprocess.run(command, input=pcm, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"ffmpeg could not encode {audio_format}: {_last_line(completed.stderr)}")


def encode_exact(samples: np.ndarray, sample_rate_hz: int, path: Path) -> None:
    """32-bit float WAV: decodes to exactly these samples (the voice library stores prepared clips so)."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", "-",
        "-c:a", "pcm_f32le", "-f", "wav", str(path),
    ]  # fmt: skip
    pcm = np.ascontiguousarray(samples, dtype=np.float32).tobytes()
    completed = subprocess.run(command, input=pcm, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"ffmpeg could not write a float WAV: {_last_line(completed.stderr)}")


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else "no details from ffmpeg"
