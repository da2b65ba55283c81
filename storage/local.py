"""Results written to a folder on disk (or the volume) when no bucket is configured.

Every write is a private file or folder renamed into place, so a reader never sees half of it. With `max_bytes`
the results (`put_file`) are kept within that size, the oldest evicted first (`storage.FolderBound`).
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

from common.errors import StorageError
from storage import ObjectTooLarge, SmallObject, StoredObject, folder_bound
from storage.hashing import sha256_file

PRIVATE_SUFFIXES = (".partial", ".replaced")  # writes in progress and folders being replaced: never listed
REPLACE_ATTEMPTS = 10  # a folder that other writers keep replacing: give up after this many turns


class LocalStorage:
    def __init__(self, root: Path, max_bytes: int | None = None) -> None:
        """`max_bytes`: keep the results under `root` within this size (None: no bound)."""
        self.root = root.resolve()
        self.name = "local"
        self.caller_keys = False  # a folder on the worker: callers cannot put objects there
        self._bound = None if max_bytes is None else folder_bound(self.root, max_bytes)

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
        if self._bound is not None:
            # A job's files share its folder (`<prefix>/<job id>/`): the ones it stored already stay with it.
            job_folder = destination.parent if destination.parent != self.root else destination
            self._bound.written(destination, keep=job_folder)
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

    def put_folder(self, folder: str, objects: Sequence[SmallObject]) -> None:
        """Write the objects into a private folder and rename it into place: readers see the old set or the new
        one whole (or, while one replaces the other, briefly none)."""
        target = self._path(folder)
        if target == self.root or any(Path(item.name).name != item.name for item in objects):
            raise StorageError(f"{folder!r} is not a folder of plain names under the output folder")
        staging = target.with_name(f"{target.name}.{uuid.uuid4().hex[:12]}.partial")
        replaced: list[Path] = []
        try:
            staging.mkdir(parents=True)
            for item in objects:
                (staging / item.name).write_bytes(item.data)
            _rename_into_place(staging, target, replaced)
        except OSError as error:
            raise StorageError(f"writing {folder} failed: {error.strerror or error}") from None
        finally:
            for path in (staging, *replaced):
                shutil.rmtree(path, ignore_errors=True)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):  # no such object (or replaced just now)
            return None

    def download(self, key: str, destination: Path, max_bytes: int) -> bool:
        source = self._path(key)
        try:
            if not source.is_file():
                return False
            size_bytes = source.stat().st_size
            if size_bytes > max_bytes:
                raise ObjectTooLarge(size_bytes)
            shutil.copyfile(source, destination)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as error:
            raise StorageError(f"reading {key} failed: {error.strerror or error}") from None
        return True

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        pending = [self._path(prefix)]
        while pending:
            directory = pending.pop()
            for name, is_folder in _read_folder(directory) or ():
                if name.endswith(PRIVATE_SUFFIXES):
                    continue
                if is_folder:
                    pending.append(directory / name)
                else:
                    keys.append(str((directory / name).relative_to(self.root)))
        return sorted(keys)

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"key {key!r} leaves the output folder")
        return path


def _rename_into_place(staging: Path, target: Path, replaced: list[Path]) -> None:
    """Rename `staging` to `target`, moving a folder already there aside (into `replaced`, for the caller to
    remove). Two writers may do this at once: each turn one of them wins, and the last one's folder stays."""
    for _ in range(REPLACE_ATTEMPTS):
        try:
            staging.rename(target)  # onto nothing, or an empty folder: atomic
            return
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        aside = target.with_name(f"{target.name}.{uuid.uuid4().hex[:12]}.replaced")
        try:
            target.rename(aside)
        except FileNotFoundError:  # another writer moved it first
            continue
        replaced.append(aside)
    raise OSError(errno.EBUSY, f"other writers kept replacing {target.name}")


def _read_folder(directory: Path) -> list[tuple[str, bool]] | None:
    """The names in `directory` (and whether each is a folder), all of one version of it; None if there is none.

    A folder that `put_folder` replaces is moved aside and then deleted file by file, so a reader that opened it
    just before the move would list part of a set. The folder read is held open (its inode cannot be reused) and
    must still be the one at `directory` after the listing: deletion starts only once it is gone from there."""
    for _ in range(REPLACE_ATTEMPTS):
        try:
            handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise StorageError(f"listing {directory.name} failed: {error.strerror or error}") from None
        try:
            with os.scandir(handle) as entries:
                # A link to a folder is neither a key nor followed (as os.walk does it).
                names = [
                    (entry.name, entry.is_dir(follow_symlinks=False))
                    for entry in entries
                    if not (entry.is_symlink() and entry.is_dir())
                ]
            read = os.fstat(handle)
            try:
                current = os.stat(directory)
            except (FileNotFoundError, NotADirectoryError):  # replaced this instant: read the new one
                continue
            if (current.st_dev, current.st_ino) == (read.st_dev, read.st_ino):
                return names
        except OSError as error:
            raise StorageError(f"listing {directory.name} failed: {error.strerror or error}") from None
        finally:
            os.close(handle)
    raise StorageError(f"{directory.name} kept being replaced while it was listed")


def _partial(destination: Path) -> Path:
    """A name of its own for each writer (jobs in flight may write the same key), hidden from listings."""
    return destination.with_name(f"{destination.name}.{os.getpid()}-{threading.get_ident()}.partial")
