"""The voice library: reference clips saved under a name, with their transcript, for later jobs.

Kept where the results go: under `voices/<name>/` in the bucket, or in the volume's app folder when no bucket is
configured. A clip is prepared once, when it is saved (decoded, trimmed, cut to F5's useful length,
transcribed when sent without a transcript: `voice.stage`), and stored as prepared, so a saved voice always
works and its transcript always matches it.

    voices/<name>/clip       the prepared clip: 32-bit float WAV, mono, 24 kHz (used exactly as prepared)
    voices/<name>/voice.json {"name", "text", "transcribed", "duration_s", "bytes", "sha256", "saved_at"}
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ffmpeg
from common.errors import VoiceError
from storage import Storage
from voice import ReferenceVoice

PREFIX = "voices"
STORED_RATE_HZ = 24_000  # F5-TTS's rate: a saved clip is used as it is stored


@dataclass(frozen=True)
class SavedVoice:
    clip_path: Path  # where `load` wrote the stored clip
    transcript: str


class VoiceLibrary:
    def __init__(self, store: Storage) -> None:
        self._store = store

    def save(self, name: str, prepared: ReferenceVoice, transcribed: bool) -> dict[str, Any]:
        """Store a prepared clip under `name` (replacing one saved before); returns its record."""
        with tempfile.TemporaryDirectory(prefix="f5voice-") as scratch:
            stored = Path(scratch) / "prepared.wav"
            ffmpeg.encode_exact(prepared.samples, prepared.sample_rate_hz, stored)
            data = stored.read_bytes()
        record = {
            "name": name,
            "text": prepared.transcript,
            "transcribed": transcribed,
            "duration_s": round(prepared.duration_s, 3),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "saved_at": round(time.time(), 3),
        }
        self._store.put_bytes(f"{PREFIX}/{name}/clip", data, "application/octet-stream")
        self._store.put_bytes(f"{PREFIX}/{name}/voice.json", json.dumps(record).encode(), "application/json")
        return record

    def load(self, name: str, destination: Path) -> SavedVoice:
        """Write the saved clip to `destination`. VoiceError if there is no such voice."""
        raw = self._store.get_bytes(f"{PREFIX}/{name}/voice.json")
        data = self._store.get_bytes(f"{PREFIX}/{name}/clip")
        if raw is None or data is None:
            raise VoiceError(f"there is no saved voice named {name!r} (voice.list shows the saved ones)")
        destination.write_bytes(data)
        return SavedVoice(destination, str(json.loads(raw)["text"]))

    def list(self) -> list[dict[str, Any]]:
        records = []
        for key in self._store.list_keys(f"{PREFIX}/"):
            if key.endswith("/voice.json"):
                raw = self._store.get_bytes(key)
                if raw is not None:
                    records.append(json.loads(raw))
        return sorted(records, key=lambda record: record["name"])

    def delete(self, name: str) -> bool:
        keys = self._store.list_keys(f"{PREFIX}/{name}/")
        self._store.delete_keys(keys)
        return bool(keys)
