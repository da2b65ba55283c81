"""The voice library: reference clips saved under a name, with their transcript, for later jobs.

Kept where the results go: under `voices/<name>/` in the bucket, or in the volume's app folder when no bucket is
configured. A clip is prepared once, when it is saved (decoded, trimmed, cut to F5's useful length,
transcribed when sent without a transcript: worker/voice.py), and stored as prepared, so a saved voice always
works and its transcript always matches it.

    voices/<name>/clip       the prepared clip: 32-bit float WAV, mono, 24 kHz (used exactly as prepared)
    voices/<name>/voice.json {"name", "text", "transcribed", "duration_s", "bytes", "sha256", "saved_at"}
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from storage import Storage
from worker import audio
from worker.contract import VoiceInput
from worker.errors import VoiceError
from worker.fetch import PUBLIC_ONLY, AddressPolicy
from worker.voice import ClipTools, decode_clip, fetch_clip, prepare_reference

PREFIX = "voices"
STORED_RATE_HZ = 24_000  # F5-TTS's rate: a saved clip is used as it is stored


class VoiceLibrary:
    def __init__(self, store: Storage) -> None:
        self._store = store

    def save(
        self,
        name: str,
        voice: VoiceInput,
        work_dir: Path,
        tools: ClipTools,
        policy: AddressPolicy = PUBLIC_ONLY,
        bucket: Storage | None = None,
    ) -> dict[str, Any]:
        clip = fetch_clip(voice, work_dir, policy, bucket)
        decoded = decode_clip(clip, voice.text or "", STORED_RATE_HZ)  # refuses anything that would not work
        prepared, warnings = prepare_reference(decoded, tools)
        stored = work_dir / "prepared.wav"
        audio.encode_exact(prepared.samples, STORED_RATE_HZ, stored)
        data = stored.read_bytes()
        record = {
            "name": name,
            "text": prepared.transcript,
            "transcribed": not voice.text,
            "duration_s": round(prepared.duration_s, 3),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "saved_at": round(time.time(), 3),
        }
        self._store.put_bytes(f"{PREFIX}/{name}/clip", data, "application/octet-stream")
        self._store.put_bytes(f"{PREFIX}/{name}/voice.json", json.dumps(record).encode(), "application/json")
        return {**record, "warnings": warnings}

    def load(self, name: str, destination: Path) -> str:
        """Write the saved clip to `destination`; returns its transcript. VoiceError if there is no such voice."""
        raw = self._store.get_bytes(f"{PREFIX}/{name}/voice.json")
        data = self._store.get_bytes(f"{PREFIX}/{name}/clip")
        if raw is None or data is None:
            raise VoiceError(f"there is no saved voice named {name!r} (voice.list shows the saved ones)")
        destination.write_bytes(data)
        return str(json.loads(raw)["text"])

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
