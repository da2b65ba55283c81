"""Storage of results: an S3-compatible bucket when one is configured, a local output folder otherwise.

Keys are built by the worker (`<prefix>/<job id>/<name>`); callers get a URL (presigned for S3, `file://` for
the local folder) and the key. The bucket's settings are `storage.config.S3Config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

PRESIGN_MAX_S = 7 * 24 * 3600  # S3's own limit for presigned URLs (SigV4)

__all__ = ["Storage", "StoredObject", "object_key", "put_files"]
Name = TypeVar("Name", bound=str)


@dataclass(frozen=True)
class StoredObject:
    key: str
    url: str
    bytes: int
    sha256: str


class Storage(Protocol):
    name: str
    caller_keys: bool  # callers can put objects under keys they name (a bucket), so jobs may point at them

    def put_file(self, path: Path, key: str, content_type: str, url_expiry_s: int) -> StoredObject: ...

    # Small objects the worker keeps for itself (the voice library).
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def get_bytes(self, key: str) -> bytes | None: ...

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
) -> dict[Name, StoredObject]:
    """Store a job's files (name → (path, content type)) under `<prefix>/<job id>/<file name>`."""
    return {
        name: storage.put_file(path, object_key(prefix, job_id, path.name), content_type, url_expiry_s)
        for name, (path, content_type) in files.items()
    }
