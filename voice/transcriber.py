"""Speech recognition for reference clips sent without a transcript: faster-whisper, the ASR WhisperX runs on.

The model is a CTranslate2 folder on the volume (`models/asr/<name>/`). A transcript is made once per clip:
`TranscriptCache` keeps it under the clip's hash on the volume, so the same clip sent again (or by another
worker) is not transcribed again; the cache stays within a size, the oldest transcripts evicted first. Voices
saved without a transcript get theirs at save time, stored with them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from storage import CACHE_MAX_MB_DEFAULT, folder_bound
from voice import TranscribeFn, Transcriber

log = logging.getLogger(__name__)

ASR_RATE_HZ = 16_000  # Whisper's input rate


class WhisperTranscriber:
    """A faster-whisper model, loaded once (`voice.Transcriber`)."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: Path, device: str) -> WhisperTranscriber:
        from faster_whisper import WhisperModel

        # int8 on the CPU and float16 on CUDA are CTranslate2's fast, accurate defaults for Whisper.
        compute_type = "float16" if device == "cuda" else "int8"
        model = WhisperModel(str(model_dir), device=device, compute_type=compute_type, local_files_only=True)
        return cls(model, name=f"faster-whisper/{model_dir.name}")

    @property
    def languages(self) -> tuple[str, ...]:
        """The language codes the model knows (Whisper's: en, zh, ja, ...; only en for an English-only one)."""
        return tuple(self._model.supported_languages)

    def transcribe(self, samples: np.ndarray, rate_hz: int, language: str | None = None) -> str:
        """The words spoken in a mono clip. `language` None lets Whisper detect it."""
        clip = _resample(samples, rate_hz, ASR_RATE_HZ)
        with self._lock:
            segments, _ = self._model.transcribe(
                clip, language=language, beam_size=5, condition_on_previous_text=False, without_timestamps=True
            )
            return " ".join(segment.text.strip() for segment in segments).strip()

    def transcribe_recording(self, samples: np.ndarray, rate_hz: int, language: str | None = None) -> tuple[str, str]:
        """What is said in a long recording, and its language (`language`, or Whisper's guess). Whisper's own
        voice activity detection (Silero VAD, in faster-whisper's wheel) skips the silences between phrases."""
        clip = _resample(samples, rate_hz, ASR_RATE_HZ)
        with self._lock:
            segments, info = self._model.transcribe(
                clip, language=language, beam_size=5, vad_filter=True, without_timestamps=True
            )
            text = " ".join(segment.text.strip() for segment in segments).strip()
        return text, str(language or info.language)


class TranscriptCache:
    """Transcripts by clip hash, as small files published with an atomic rename (many workers share them), kept
    within `max_bytes` (WORKER_CACHE_MAX_MB)."""

    def __init__(self, directory: Path, model_name: str, max_bytes: int = CACHE_MAX_MB_DEFAULT * 2**20) -> None:
        self._directory = directory
        self._model_name = model_name
        self._max_bytes = max_bytes

    def key(self, samples: np.ndarray, rate_hz: int, language: str | None) -> str:
        digest = hashlib.sha256(f"{self._model_name}|{rate_hz}|{language}|".encode())
        digest.update(np.ascontiguousarray(samples, dtype=np.float32).tobytes())
        return digest.hexdigest()

    def get(self, key: str) -> str | None:
        try:
            return (self._directory / f"{key}.txt").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # missing, unreadable or damaged: transcribe again
            return None

    def put(self, key: str, transcript: str) -> None:
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            partial = self._directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            partial.write_text(transcript, encoding="utf-8")
            partial.replace(self._directory / f"{key}.txt")
            folder_bound(self._directory, self._max_bytes).written(self._directory / f"{key}.txt")
        except OSError as error:  # a full or read-only volume costs a transcription next time, nothing more
            log.warning("could not cache a transcript on the volume: %s", error.strerror)


def cached_transcriber(transcriber: Transcriber, cache: TranscriptCache, language: str | None) -> TranscribeFn:
    """A (samples, rate) → transcript function that asks the cache first."""

    def transcribe(samples: np.ndarray, rate_hz: int) -> str:
        key = cache.key(samples, rate_hz, language)
        known = cache.get(key)
        if known is not None:
            return known
        transcript = transcriber.transcribe(samples, rate_hz, language)
        if transcript.strip():
            cache.put(key, transcript)
        return transcript

    return transcribe


def _resample(samples: np.ndarray, rate_hz: int, target_hz: int) -> np.ndarray:
    if rate_hz == target_hz:
        return samples.astype(np.float32, copy=False)
    import torch
    import torchaudio.functional

    tensor = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    return torchaudio.functional.resample(tensor, rate_hz, target_hz).numpy()
