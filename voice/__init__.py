"""The voice stage: a reference voice from the job → a prepared clip that a synthesizer conditions on.

    VoiceSource ──(voice.stage.VoiceStage.prepare)──▶ ReferenceVoice

A source is exactly one of: the clip itself (base64), an http(s) URL fetched through guards (`voice.fetch`),
a key in the worker's own bucket, or the name of a voice saved in the library (`voice.library`). Preparing
(`voice.prepare`) probes and decodes it (`voice.clip`), trims silence, cuts a long clip at a pause (with its
transcript), transcribes a clip sent without one (`voice.transcriber`, cached by the clip's hash) and levels it.

This module holds only the stage's types, so other stages can name them without importing the stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from alignment import AlignedWord

__all__ = ["AlignFn", "ReferenceVoice", "TranscribeFn", "Transcriber", "VoiceSource"]


@dataclass(frozen=True)
class VoiceSource:
    """Where a reference clip comes from (exactly one of base64, url, s3_key, name) and what is said in it; or,
    for engines that speak in their own voices, which one (`espeak`: an eSpeak NG voice such as "en+f3")."""

    base64: str | None = None
    url: str | None = None
    s3_key: str | None = None
    name: str | None = None
    espeak: str | None = None
    text: str | None = None  # the clip's transcript; None: transcribe it (a saved voice brings its own)
    language: str | None = None  # spoken in the clip, when it differs from the text's
    field: str = field(default="voice", compare=False)  # where the job gave it, for error messages


@dataclass(frozen=True)
class ReferenceVoice:
    """A decoded reference clip and what is said in it."""

    samples: np.ndarray  # mono float32
    sample_rate_hz: int
    transcript: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz


# A forced aligner for one clip (samples, rate, transcript → word times): cuts a long clip and its transcript
# together. Speech recognition for one clip (samples, rate → transcript).
AlignFn = Callable[[np.ndarray, int, str], list[AlignedWord]]
TranscribeFn = Callable[[np.ndarray, int], str]


class Transcriber(Protocol):
    """Speech recognition for clips sent without a transcript (voice.transcriber.WhisperTranscriber)."""

    name: str

    @property
    def languages(self) -> tuple[str, ...]: ...

    def transcribe(self, samples: np.ndarray, rate_hz: int, language: str | None = None) -> str: ...

    def transcribe_recording(
        self, samples: np.ndarray, rate_hz: int, language: str | None = None
    ) -> tuple[str, str]: ...
