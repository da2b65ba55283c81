"""The audio stage: the take as the file the caller asked for. Loudness target first, then ffmpeg encodes.

write_audio(samples, rate_hz, AudioOutput(...), folder) → (AudioFile, warnings)
with_loudness(samples, rate_hz, AudioOutput(...)) → (samples, what is left to encode, warnings): the loudness
    target applied once to a take that is then written whole and in pieces (output.split)
level_voices(parts, voices, rate_hz) → the parts, each voice brought to the same loudness (a script's speakers)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from audio.loudness import level_voices
from common import ffmpeg
from common.ffmpeg import AudioFormat

__all__ = ["AudioFile", "AudioOutput", "level_voices", "with_loudness", "write_audio"]


@dataclass(frozen=True)
class AudioOutput:
    """What the caller asked for: container and codec, sample rate (None: the engine's), loudness target."""

    format: AudioFormat = "wav"
    sample_rate_hz: int | None = None
    loudness_lufs: float | None = None


@dataclass(frozen=True)
class AudioFile:
    path: Path
    format: AudioFormat
    sample_rate_hz: int  # as written, which opus may force to 48 kHz
    content_type: str


def write_audio(
    samples: np.ndarray, rate_hz: int, output: AudioOutput, folder: Path, stem: str = "speech"
) -> tuple[AudioFile, list[str]]:
    """Encode mono float `samples` to `folder/<stem>.<format>`; warnings say where a loudness target was not
    reached."""
    samples, output, warnings = with_loudness(samples, rate_hz, output)
    path = folder / f"{stem}.{output.format}"
    out_rate_hz = ffmpeg.output_rate_hz(output.format, output.sample_rate_hz, rate_hz)
    ffmpeg.encode(samples, rate_hz, path, output.format, out_rate_hz)
    return AudioFile(path, output.format, out_rate_hz, ffmpeg.CONTENT_TYPES[output.format]), warnings


def with_loudness(samples: np.ndarray, rate_hz: int, output: AudioOutput) -> tuple[np.ndarray, AudioOutput, list[str]]:
    """The samples at the output's loudness target, the output left to encode them (no target), and a warning
    where the target was not reached."""
    if output.loudness_lufs is None:
        return samples, output, []
    from audio.loudness import normalize_loudness

    written_at_hz = ffmpeg.output_rate_hz(output.format, output.sample_rate_hz, rate_hz)
    samples, note = normalize_loudness(samples, rate_hz, output.loudness_lufs, written_at_hz=written_at_hz)
    return samples, replace(output, loudness_lufs=None), [note] if note else []
