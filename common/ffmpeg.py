"""Audio in and out through ffmpeg: probe before decoding, decode to mono float, encode the output formats.

ffprobe looks at a file before ffmpeg decodes it, so a non-audio file or a two-hour clip is refused from its
header instead of being decoded into memory. Files that cannot be read raise `UnreadableAudio`, whose message
completes a sentence about the file ("the voice clip " + message), so each caller words its own error.

Clips are untrusted bytes: ffmpeg reads them only through the file and pipe protocols and only with the demuxers
of the audio containers in `CLIP_DEMUXERS`. A playlist (HLS) or a concat list would otherwise make ffmpeg open
the files or URLs it names. An encoder that fails or hangs is a ModelError quoting what ffmpeg said.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from common.errors import ModelError

AudioFormat = Literal["wav", "mp3", "flac", "ogg", "opus"]
FFMPEG_TIMEOUT_S = 120
# The demuxers a clip may be read with (ffmpeg's names: mov reads mp4 and m4a, matroska reads webm).
CLIP_DEMUXERS = ("wav", "mp3", "flac", "ogg", "mov", "mp4", "m4a", "matroska", "webm")
CLIP_CONTAINERS = "wav, mp3, flac, ogg/opus, m4a/mp4/mov or webm/mkv"
_ADDRESS = re.compile(r"^\[\w+ @ 0x[0-9a-f]+\] ")
UNTRUSTED_INPUT = ["-protocol_whitelist", "file,pipe", "-format_whitelist", ",".join(CLIP_DEMUXERS)]
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
# MPEG audio has only these rates; another requested rate is encoded at the next one up (ffmpeg would refuse it).
MP3_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg"}


class UnreadableAudio(Exception):
    """ffmpeg cannot read the file as audio; the message says why, as the end of a sentence."""


@dataclass(frozen=True)
class AudioProbe:
    duration_s: float
    sample_rate_hz: int
    channels: int
    codec: str
    container: str = ""  # as ffprobe names it: "wav", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", ...
    has_picture: bool = False  # a video stream beside the audio (cover art aside)
    audio_streams: int = 1  # this one (the first) and any others


def probe(path: Path) -> AudioProbe:
    """Read the first audio stream's header. Raises UnreadableAudio if there is no decodable audio stream."""
    command = [
        "ffprobe", "-v", "error", *UNTRUSTED_INPUT,
        "-show_entries", "stream=codec_type,codec_name,sample_rate,channels,duration:stream_disposition=attached_pic"
        ":format=duration,format_name",
        "-of", "json", str(path),
    ]  # fmt: skip
    completed = _read(command, "probed")
    if b"not on whitelist" in completed.stderr:
        raise UnreadableAudio(f"is not in an audio container the worker reads ({CLIP_CONTAINERS})")
    info = json.loads(completed.stdout or b"{}") if completed.returncode == 0 else {}
    streams = info.get("streams") or []
    audio = [stream for stream in streams if stream.get("codec_type") == "audio"]
    if not audio and streams:
        kinds = sorted({str(stream.get("codec_type", "data")) for stream in streams})
        raise UnreadableAudio(f"has no audio stream (only {' and '.join(kinds)}): send a file with sound in it")
    if not audio:
        raise UnreadableAudio(f"is not audio that ffmpeg can read ({CLIP_CONTAINERS})")
    stream, container = audio[0], info.get("format", {})
    pictures = [
        other
        for other in streams
        if other.get("codec_type") == "video" and not other.get("disposition", {}).get("attached_pic")
    ]
    duration = stream.get("duration") or container.get("duration")
    try:
        return AudioProbe(
            duration_s=float(duration),
            sample_rate_hz=int(stream["sample_rate"]),
            channels=int(stream["channels"]),
            codec=str(stream.get("codec_name", "")),
            container=str(container.get("format_name", "")),
            has_picture=bool(pictures),
            audio_streams=len(audio),
        )
    except (KeyError, TypeError, ValueError):
        raise UnreadableAudio("has no readable duration or sample rate") from None


def copy_audio(source: Path, destination: Path, muxer: str, codec: str = "copy") -> None:
    """The first audio stream of `source`, alone, into `destination` in the `muxer` container: copied as it is,
    or encoded with `codec`. Raises UnreadableAudio if ffmpeg cannot (a codec that container does not hold)."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", *UNTRUSTED_INPUT, "-i", str(source),
        "-map", "0:a:0", "-c:a", codec, "-f", muxer, str(destination),
    ]  # fmt: skip
    completed = _read(command, "copied out")
    if completed.returncode != 0:
        destination.unlink(missing_ok=True)
        raise UnreadableAudio(f"could not be written as {muxer}: {_what_ffmpeg_said(completed.stderr)}")


def decode_mono(path: Path, sample_rate_hz: int, max_duration_s: float) -> np.ndarray:
    """Decode the first audio stream (the one `probe` describes; ffmpeg alone would pick the default or widest)
    to mono float32 at `sample_rate_hz`, reading at most `max_duration_s` of audio."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", *UNTRUSTED_INPUT, "-i", str(path), "-t", f"{max_duration_s:.3f}",
        "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate_hz), "-f", "f32le", "-",
    ]  # fmt: skip
    completed = _read(command, "decoded")
    if completed.returncode != 0:
        raise UnreadableAudio("could not be decoded: " + _what_ffmpeg_said(completed.stderr))
    return np.frombuffer(completed.stdout, dtype=np.float32).copy()


def output_rate_hz(audio_format: AudioFormat, requested_hz: int | None, source_hz: int) -> int:
    """The sample rate the output file will really have."""
    rate = requested_hz or source_hz
    if audio_format == "opus" and rate not in OPUS_RATES_HZ:
        return 48000
    if audio_format == "mp3" and rate not in MP3_RATES_HZ:
        return next((allowed for allowed in MP3_RATES_HZ if allowed > rate), MP3_RATES_HZ[-1])
    return rate


def encode(samples: np.ndarray, sample_rate_hz: int, path: Path, audio_format: AudioFormat, out_rate_hz: int) -> None:
    """Write mono float samples to `path` in `audio_format` at `out_rate_hz`."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", "-",
        "-ar", str(out_rate_hz), *ENCODERS[audio_format], str(path),
    ]  # fmt: skip
    pcm = np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32).tobytes()
    _write(command, pcm, f"the {audio_format} encoder")


def encode_exact(samples: np.ndarray, sample_rate_hz: int, path: Path) -> None:
    """32-bit float WAV: decodes to exactly these samples (the voice library stores prepared clips so)."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", "-",
        "-c:a", "pcm_f32le", "-f", "wav", str(path),
    ]  # fmt: skip
    pcm = np.ascontiguousarray(samples, dtype=np.float32).tobytes()
    _write(command, pcm, "the float WAV writer")


def _read(command: list[str], done: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffprobe or ffmpeg on a clip; one that takes too long is a clip that cannot be read."""
    try:
        return subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise UnreadableAudio(f"could not be {done} within {FFMPEG_TIMEOUT_S} s") from None


def _write(command: list[str], pcm: bytes, writer: str) -> None:
    """Run an ffmpeg that writes the job's audio; raises ModelError if it fails or hangs."""
    try:
        completed = subprocess.run(command, input=pcm, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ModelError(f"{writer} (ffmpeg) did not finish within {FFMPEG_TIMEOUT_S} s") from None
    if completed.returncode != 0:
        raise ModelError(f"{writer} (ffmpeg) failed: {_what_ffmpeg_said(completed.stderr)}")


def _what_ffmpeg_said(stderr: bytes) -> str:
    """What ffmpeg said: its first error (the cause, e.g. "Specified sample rate 9000 is not supported"), and its
    last if that differs, without the component's memory address."""
    lines = [_ADDRESS.sub("", line).strip() for line in stderr.decode("utf-8", "replace").strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "no details from ffmpeg"
    return lines[0] if len(lines) == 1 else f"{lines[0]} ({lines[-1]})"
