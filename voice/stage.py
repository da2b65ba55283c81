"""The voice stage, assembled: sources resolved (library, bucket, URL, base64), clips prepared, voices saved."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import InvalidInput, VoiceError
from storage import CACHE_MAX_MB_DEFAULT, Storage
from voice import AlignFn, ReferenceVoice, TranscribeFn, Transcriber, VoiceSource
from voice.clip import decode_clip, fetch_clip
from voice.fetch import PUBLIC_ONLY, AddressPolicy
from voice.library import STORED_RATE_HZ, VoiceLibrary
from voice.prepare import ClipTools, prepare_reference
from voice.transcriber import TranscriptCache, cached_transcriber


class VoiceStage:
    """Fetches, checks and prepares reference voices, and keeps the voice library.

    `bucket` is where `voice.s3_key` is read from (a storage whose keys callers can name); `library` holds saved
    voices; `transcriber` makes transcripts for clips sent without one, cached in `transcript_cache_dir` (oldest
    evicted past `transcript_cache_max_bytes`).
    """

    def __init__(
        self,
        *,
        url_policy: AddressPolicy = PUBLIC_ONLY,
        bucket: Storage | None = None,
        library: VoiceLibrary | None = None,
        transcriber: Transcriber | None = None,
        transcript_cache_dir: Path | None = None,
        transcript_cache_max_bytes: int = CACHE_MAX_MB_DEFAULT * 2**20,
    ) -> None:
        self.url_policy = url_policy
        self.bucket = bucket
        self.library = library
        self.transcriber = transcriber
        self.transcript_cache_dir = transcript_cache_dir or Path(tempfile.gettempdir()) / "f5tts-transcripts"
        self.transcript_cache_max_bytes = transcript_cache_max_bytes

    def prepare(
        self,
        source: VoiceSource,
        language: str,
        work_dir: Path,
        sample_rate_hz: int,
        aligner_for: Callable[[str], AlignFn | None],
    ) -> tuple[ReferenceVoice, list[str]]:
        """The clip as a synthesizer conditions on it, at `sample_rate_hz`, and warnings for the caller.

        `language` is the job's; the clip's own (`source.language`) wins for cutting and transcribing it. A saved
        voice was prepared when it was saved and is used as stored. `aligner_for(language)` gives what cuts a long
        clip between two words, if anything can.
        """
        if source.name:
            saved = self._library(f"{source.field}.name").load(source.name, work_dir / "voice-clip")
            return decode_clip(saved.clip_path, source.text or saved.transcript, sample_rate_hz), []
        clip_path = fetch_clip(source, work_dir, self.url_policy, self.bucket)
        decoded = decode_clip(clip_path, source.text or "", sample_rate_hz)
        if source.language:
            language, field = source.language, f"{source.field}.language"
        else:
            language, field = language, "language"
        return prepare_reference(decoded, self.clip_tools(language, field, aligner_for(language)))

    def save(
        self,
        name: str,
        source: VoiceSource,
        language: str,
        work_dir: Path,
        aligner_for: Callable[[str], AlignFn | None],
    ) -> dict[str, Any]:
        """Prepare the clip once and keep it under `name`; the record, with the preparation's warnings."""
        library = self._library("action")
        prepared, warnings = self.prepare(source, language, work_dir, STORED_RATE_HZ, aligner_for)
        return {**library.save(name, prepared, transcribed=not source.text), "warnings": warnings}

    def list(self) -> list[dict[str, Any]]:
        return self._library("action").list()

    def delete(self, name: str) -> None:
        if not self._library("action").delete(name):
            raise VoiceError(f"there is no saved voice named {name!r}")

    def clip_tools(self, language: str, field: str, align: AlignFn | None) -> ClipTools:
        """What preparing a clip in `language` (given in the job's `field`) may use: `align`, and cached speech
        recognition for clips without a transcript."""
        transcriber = self.transcriber
        if transcriber is None:
            return ClipTools(align=align)
        if language not in transcriber.languages:
            return ClipTools(align=align, transcribe=_refuse_language(language, field))
        cache = TranscriptCache(self.transcript_cache_dir, transcriber.name, self.transcript_cache_max_bytes)
        return ClipTools(align=align, transcribe=cached_transcriber(transcriber, cache, language))

    def _library(self, field: str) -> VoiceLibrary:
        if self.library is None:
            raise InvalidInput(field, "this worker has no voice library")
        return self.library


def _refuse_language(language: str, field: str) -> TranscribeFn:
    def refuse(samples: np.ndarray, rate_hz: int) -> str:
        raise InvalidInput(
            field,
            f"the speech recognition model does not know {language!r} (it takes Whisper's codes: en, zh, ja, "
            "de, ...); send the clip's words in voice.text, or give its language as one of those codes",
        )

    return refuse
