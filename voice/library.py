"""The voice library: reference clips saved under a name, with their transcript, for later jobs.

Kept where the results go: under `voices/<name>/` in the bucket, or in the volume's app folder when no bucket is
configured. A clip is prepared once, when it is saved (decoded, trimmed, cut to F5's useful length,
transcribed when sent without a transcript: `voice.stage`), and stored as prepared, so a saved voice always
works and its transcript always matches it.

    voices/<name>/clip-<ms>-<sha256>  the prepared clip: 32-bit float WAV, mono, 24 kHz (used exactly as prepared)
    voices/<name>/voice.json          {"name", "text", "transcribed", "duration_s", "bytes", "sha256", "saved_at",
                                       "clip": the clip's file name}

A voice is saved as one set (`Storage.put_folder`): on local storage a folder renamed into place; in a bucket the
clip first and `voice.json` last, so a voice is listed only once it is complete. Each save's clip has a name of its
own, named by its record, so saves of one name at once leave one voice whose clip and record belong together.
Voices saved before clips were named so have a plain `clip`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ffmpeg
from common.errors import VoiceError
from storage import SmallObject, Storage
from voice import ReferenceVoice

log = logging.getLogger(__name__)

PREFIX = "voices"
RECORD_NAME = "voice.json"
CLIP_PREFIX = "clip-"
LEGACY_CLIP_NAME = "clip"
STORED_RATE_HZ = 24_000  # F5-TTS's rate: a saved clip is used as it is stored
PUBLIC_FIELDS = ("name", "text", "transcribed", "duration_s", "bytes", "sha256", "saved_at")
# A save writes its clip and its record seconds apart: a clip older than this that no record names is left over
# from an earlier save (a bucket keeps them; a local folder is replaced whole), never one being saved now.
STALE_CLIP_AGE_S = 3600
# The voice may be saved again while it is read: between its record and its clip (read the new record), or, in a
# local folder, in the instant between the old folder moving aside and the new one taking its place.
LOAD_ATTEMPTS = 3
LOAD_RETRY_PAUSE_S = 0.05


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
        saved_at = time.time()
        sha256 = hashlib.sha256(data).hexdigest()
        clip_name = f"{CLIP_PREFIX}{int(saved_at * 1000)}-{sha256[:16]}"
        record = {
            "name": name,
            "text": prepared.transcript,
            "transcribed": transcribed,
            "duration_s": round(prepared.duration_s, 3),
            "bytes": len(data),
            "sha256": sha256,
            "saved_at": round(saved_at, 3),
            "clip": clip_name,
        }
        self._store.put_folder(
            f"{PREFIX}/{name}",
            [
                SmallObject(clip_name, data, "application/octet-stream"),
                SmallObject(RECORD_NAME, json.dumps(record).encode(), "application/json"),  # last: marks it complete
            ],
        )
        self._remove_stale_clips(name, keep=clip_name)
        return _public(record)

    def load(self, name: str, destination: Path) -> SavedVoice:
        """Write the saved clip to `destination`. VoiceError if there is no such voice."""
        for attempt in range(LOAD_ATTEMPTS):
            if attempt:
                time.sleep(LOAD_RETRY_PAUSE_S)
            record = self._record(name)
            if record is None:
                continue
            data = self._store.get_bytes(f"{PREFIX}/{name}/{record.get('clip', LEGACY_CLIP_NAME)}")
            if data is not None:
                destination.write_bytes(data)
                return SavedVoice(destination, str(record["text"]))
        raise VoiceError(f"there is no saved voice named {name!r} (voice.list shows the saved ones)")

    def list(self) -> list[dict[str, Any]]:
        """Every saved voice's record; a voice whose record is damaged is left out with a warning."""
        records = []
        for key in self._store.list_keys(f"{PREFIX}/"):
            if key.endswith(f"/{RECORD_NAME}"):
                name = key.removeprefix(f"{PREFIX}/").removesuffix(f"/{RECORD_NAME}")
                try:
                    record = self._record(name)
                except VoiceError as error:
                    log.warning("voice library: %s; it is left out of voice.list", error)
                    continue
                if record is not None:
                    records.append(_public(record))
        return sorted(records, key=lambda record: str(record["name"]))

    def delete(self, name: str) -> bool:
        keys = self._store.list_keys(f"{PREFIX}/{name}/")
        self._store.delete_keys(keys)
        return bool(keys)

    def _record(self, name: str) -> dict[str, Any] | None:
        """The voice's record, None if there is none. VoiceError if it is damaged."""
        raw = self._store.get_bytes(f"{PREFIX}/{name}/{RECORD_NAME}")
        if raw is None:
            return None
        try:
            record = json.loads(raw)
        except ValueError:  # not UTF-8, or not JSON
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise VoiceError(f"the saved voice {name!r} is damaged ({RECORD_NAME} is unreadable): save it again")
        return {**record, "name": name}

    def _remove_stale_clips(self, name: str, keep: str) -> None:
        """Clips of earlier saves that a bucket keeps: only those old enough not to be part of a save under way."""
        kept = {keep}
        try:
            current = self._record(name)  # another save's, if it finished after this one
        except VoiceError:
            current = None
        if current is not None:
            kept.add(str(current.get("clip", LEGACY_CLIP_NAME)))
        old_before = time.time() - STALE_CLIP_AGE_S
        stale = [
            key
            for key in self._store.list_keys(f"{PREFIX}/{name}/")
            if (clip := key.rsplit("/", 1)[-1]) not in kept and _clip_saved_at(clip) < old_before
        ]
        self._store.delete_keys(stale)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {field: record.get(field) for field in PUBLIC_FIELDS}


def _clip_saved_at(file_name: str) -> float:
    """When a clip was saved, from its name (`clip-<ms>-<sha256>`); a plain `clip` is the oldest kind. Anything
    else under a voice's folder (its record) is never stale: infinitely recent."""
    if file_name == LEGACY_CLIP_NAME:
        return 0.0
    stamp = file_name.removeprefix(CLIP_PREFIX).split("-", 1)[0]
    if not file_name.startswith(CLIP_PREFIX) or not stamp.isdecimal():
        return float("inf")
    return int(stamp) / 1000
