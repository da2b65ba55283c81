"""Storage of results: an S3-compatible bucket when one is configured, a local output folder otherwise.

Keys are built by the worker (`<prefix>/<job id>/<name>`); callers get a URL (presigned for S3, `file://` for
the local folder) and the key. The bucket's settings are `storage.config.S3Config`.

Folders the worker fills on its own disk or volume (local results, caches) are kept within a size by
`FolderBound`: the oldest files go first.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

PRESIGN_MAX_S = 7 * 24 * 3600  # S3's own limit for presigned URLs (SigV4)
CACHE_MAX_MB_DEFAULT = 2048  # each bounded folder's size unless WORKER_CACHE_MAX_MB says otherwise
EVICT_TO_FRACTION = 0.9  # evicting below the bound leaves room, so a full folder is not rescanned on every write
RECENT_S = 60.0  # a file this young may belong to a job still storing its results, on any worker: never evicted
UPLOAD_THREADS = 8  # a job's files stored at once: each upload waits on round trips, not on the CPU

__all__ = [
    "CACHE_MAX_MB_DEFAULT",
    "FolderBound",
    "ObjectTooLarge",
    "SmallObject",
    "Storage",
    "StoredObject",
    "folder_bound",
    "object_key",
    "put_files",
]
log = logging.getLogger(__name__)
Name = TypeVar("Name", bound=str)


@dataclass(frozen=True)
class StoredObject:
    key: str
    url: str
    bytes: int
    sha256: str


class ObjectTooLarge(Exception):
    """An object is larger than the reader takes; `size_bytes` is its size, or what was read when reading stopped."""

    def __init__(self, size_bytes: int) -> None:
        super().__init__(f"{size_bytes} bytes")
        self.size_bytes = size_bytes


@dataclass(frozen=True)
class SmallObject:
    """One of a set of small objects written together (`Storage.put_folder`)."""

    name: str  # within its folder: no slashes
    data: bytes
    content_type: str


class Storage(Protocol):
    name: str
    caller_keys: bool  # callers can put objects under keys they name (a bucket), so jobs may point at them

    def put_file(self, path: Path, key: str, content_type: str, url_expiry_s: int) -> StoredObject: ...

    # Small objects the worker keeps for itself (the voice library).
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    # A set of small objects as the folder `folder/`, so that a reader never sees part of the set. Local storage
    # replaces the folder whole with one rename. S3 cannot rename: the objects are written in the order given, so
    # the last one marks the set complete, and objects of an earlier set stay until the caller deletes them.
    def put_folder(self, folder: str, objects: Sequence[SmallObject]) -> None: ...

    def get_bytes(self, key: str) -> bytes | None: ...

    # An object a caller named (`voice.s3_key`), streamed to `destination`; False if there is none. Its size is
    # asked first: one over `max_bytes` raises ObjectTooLarge before a byte is read (or as soon as reading passes it).
    def download(self, key: str, destination: Path, max_bytes: int) -> bool: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def delete_keys(self, keys: list[str]) -> None: ...


def object_key(prefix: str | None, job_id: str, file_name: str) -> str:
    """`<prefix>/<job id>/<file name>`; the prefix is already validated by the job contract."""
    safe_job_id = "".join(c if c.isalnum() or c in "-_" else "_" for c in job_id)[:128] or "job"
    return "/".join(part for part in (prefix, safe_job_id, file_name) if part)


def put_files(
    storage: Storage,
    files: Mapping[Name, tuple[Path, str]],
    prefix: str | None,
    job_id: str,
    url_expiry_s: int,
    threads: int = UPLOAD_THREADS,
) -> dict[Name, StoredObject]:
    """Store a job's files (name → (path, content type)) under `<prefix>/<job id>/<file name>`, up to `threads`
    at once. Every upload is finished, or has failed, before this returns; the first failure is raised."""

    def put(name: Name, path: Path, content_type: str) -> tuple[Name, StoredObject]:
        return name, storage.put_file(path, object_key(prefix, job_id, path.name), content_type, url_expiry_s)

    if threads <= 1 or len(files) <= 1:
        return dict(put(name, path, content_type) for name, (path, content_type) in files.items())
    with ThreadPoolExecutor(max_workers=min(threads, len(files)), thread_name_prefix="upload") as pool:
        # Each upload runs in the job's context (its log lines keep the job id).
        uploads = [
            pool.submit(contextvars.copy_context().run, put, name, path, content_type)
            for name, (path, content_type) in files.items()
        ]
    return dict(upload.result() for upload in uploads)


@dataclass(frozen=True)
class _CachedFile:
    path: Path
    size_bytes: int
    modified_at: float


class FolderBound:
    """Keeps the files under `folder` within `max_bytes`: after a write, the oldest (by modification time) go first.

    The folder is scanned on the first write and then only when the bytes written since could have crossed the
    bound: a scan of a large folder on a network volume costs seconds. Other workers' writes are seen at the next
    scan, so the folder may pass the bound by what they wrote in between. Never evicted: whatever is under the
    `keep` path of the write (the file itself, or its job's folder), and files younger than `RECENT_S`.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._estimated_bytes: int | None = None

    def written(self, path: Path, keep: Path | None = None) -> list[Path]:
        """Count the file just written at `path` and evict what the bound needs; returns the files evicted."""
        path = path.resolve()
        keep = path if keep is None else keep.resolve()
        with self._lock:
            if self._estimated_bytes is not None:
                self._estimated_bytes += _size_bytes(path)
                if self._estimated_bytes <= self.max_bytes:
                    return []
            files = _files_oldest_first(self.folder)
            total_bytes = sum(file.size_bytes for file in files)
            evicted: list[Path] = []
            target_bytes = int(self.max_bytes * EVICT_TO_FRACTION)
            if total_bytes > self.max_bytes:
                young_since = time.time() - RECENT_S
                for file in files:
                    if total_bytes <= target_bytes:
                        break
                    if file.path.is_relative_to(keep) or file.modified_at > young_since:
                        continue
                    if _evict(file.path, self.folder):
                        total_bytes -= file.size_bytes
                        evicted.append(file.path)
            # A folder that could not go below the target (its files too young to evict) is scanned again only
            # once the bound's last tenth has been written since, not on every write.
            self._estimated_bytes = min(total_bytes, target_bytes)
        if evicted:
            log.info(
                "evicted the %d oldest files from %s to keep it under %d MiB",
                len(evicted),
                self.folder,
                self.max_bytes // 2**20,
            )
        return evicted


_bounds: dict[tuple[Path, int], FolderBound] = {}
_bounds_lock = threading.Lock()


def folder_bound(folder: Path, max_bytes: int) -> FolderBound:
    """The one `FolderBound` of this process for `folder`, shared by everything that writes there."""
    key = (folder.resolve(), max_bytes)
    with _bounds_lock:
        if key not in _bounds:
            _bounds[key] = FolderBound(*key)
        return _bounds[key]


def _size_bytes(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _files_oldest_first(folder: Path) -> list[_CachedFile]:
    files = []
    for directory, _, names in os.walk(folder):
        for name in names:
            path = Path(directory, name)
            try:
                stat = path.stat()
            except OSError:  # evicted or renamed by another worker meanwhile
                continue
            files.append(_CachedFile(path, stat.st_size, stat.st_mtime))
    return sorted(files, key=lambda file: file.modified_at)


def _evict(path: Path, folder: Path) -> bool:
    try:
        path.unlink(missing_ok=True)  # missing: another worker evicted it first, and it is gone all the same
    except OSError:
        return False
    for parent in path.parents:  # a job's folder goes with its last file
        if parent == folder or not parent.is_relative_to(folder):
            break
        try:
            parent.rmdir()
        except OSError:  # not empty, or gone
            break
    return True
