"""The voice library: reference clips saved under a name, with their transcript, for later jobs.

Kept where the results go: under `voices/<name>/` in the bucket, or in the volume's app folder when no bucket is
configured. A saved clip is checked (probed and decoded) before it is stored, so a saved voice always works.

    voices/<name>/clip       the clip as sent (any format ffmpeg reads)
    voices/<name>/voice.json {"name", "text", "duration_s", "bytes", "sha256", "saved_at"}
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from storage import Storage
from worker.contract import VoiceInput
from worker.errors import VoiceError
from worker.fetch import PUBLIC_ONLY, AddressPolicy
from worker.voice import decode_clip, fetch_clip

PREFIX = "voices"
CHECK_RATE_HZ = 16_000  # decoding at any rate proves the clip works


class VoiceLibrary:
    def __init__(self, store: Storage) -> None:
        self._store = store

    def save(
        self,
        name: str,
        voice: VoiceInput,
        work_dir: Path,
        policy: AddressPolicy = PUBLIC_ONLY,
        bucket: Storage | None = None,
    ) -> dict[str, Any]:
        clip = fetch_clip(voice, work_dir, policy, bucket)
        decoded = decode_clip(clip, voice.text or "", CHECK_RATE_HZ)  # refuses anything that would not work
        data = clip.read_bytes()
        record = {
            "name": name,
            "text": decoded.transcript,
            "duration_s": round(decoded.duration_s, 3),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "saved_at": round(time.time(), 3),
        }
        self._store.put_bytes(f"{PREFIX}/{name}/clip", data, "application/octet-stream")
        self._store.put_bytes(f"{PREFIX}/{name}/voice.json", json.dumps(record).encode(), "application/json")
        return record

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
