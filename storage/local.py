"""Results written to a folder on disk (or the volume) when no bucket is configured."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from common.errors import StorageError
from storage import StoredObject
from storage.hashing import sha256_file


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.name = "local"
        self.caller_keys = False  # a folder on the worker: callers cannot put objects there

    def put_file(self, path: Path, key: str, content_type: str, url_expiry_s: int) -> StoredObject:
        destination = (self.root / key).resolve()
        if not destination.is_relative_to(self.root):
            raise StorageError(f"key {key!r} leaves the output folder")
        partial = _partial(destination)
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, partial)
            partial.replace(destination)  # readers never see a half-written file
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise StorageError(f"writing {key} to the output folder failed: {error.strerror or error}") from None
        # Size and hash of what was written, from the source: another writer of the same key may replace it.
        return StoredObject(key=key, url=destination.as_uri(), bytes=path.stat().st_size, sha256=sha256_file(path))

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        destination = self._path(key)
        partial = _partial(destination)
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            partial.replace(destination)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise StorageError(f"writing {key} failed: {error.strerror or error}") from None

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def list_keys(self, prefix: str) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return sorted(
            str(path.relative_to(self.root))
            for path in folder.rglob("*")
            if path.is_file() and path.suffix != ".partial"
        )

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"key {key!r} leaves the output folder")
        return path


def _partial(destination: Path) -> Path:
    """A name of its own for each writer (jobs in flight may write the same key), hidden from listings."""
    return destination.with_name(f"{destination.name}.{os.getpid()}-{threading.get_ident()}.partial")
