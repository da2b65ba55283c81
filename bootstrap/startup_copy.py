"""A local copy of what start-up reads, unpacked from one archive on the volume.

Importing the worker's libraries opens ~6,000 files and makes over 100,000 file-system calls; on a network
volume each metadata call is a round trip, so start-up is latency-bound (54 s at 1 ms per call, 9 s from local
disk; BENCHMARKS.md).
When an environment is built, its smoke import runs under a recorder that lists every file it touches: opened,
listed, or only looked up (`os.path.isdir` and friends: transformers scans ~2,000 files of its model folders
that way at import, each a round trip through a link). The archive `startup-pack.tar.gz`, published inside the
environment, then holds:

- a copy of every touched file under COPY_MAX_BYTES (Python sources, bytecode, small extension modules, package
  metadata, `.pth` files): ~340 MB in ~10,900 files for the full worker; every touched folder is a real folder;
- for everything else (large CUDA libraries, untouched files, untouched directories as a whole) a symbolic link
  to the published environment on the volume, so the copy is complete and any later import still works.

At start the bootstrap unpacks it to local disk with one sequential read (`tar`, or `tarfile` without it) and
hands over to the local copy's interpreter. Nothing is ever written into the published environment afterwards,
and a missing or broken archive only means running from the volume, as before.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from pathlib import Path

from bootstrap import log

# json, shutil, subprocess and tarfile are imported where they are used: the fast path (a copy already
# unpacked) must stay a few milliseconds.

PACK_NAME = "startup-pack.tar.gz"
UNPACKED_MARKER = ".unpacked"
COPY_MAX_BYTES = 4 * 1024 * 1024  # larger files (CUDA libraries) are mapped in pieces: a link reads only those

# Run by the new environment's interpreter around the smoke import: prints the files it touched, as JSON.
RECORDER_HEAD = """
import json as _json, os as _os, sys as _sys
_touched = set()
def _audit(event, args):
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
        _touched.add(_os.fsdecode(args[0]))
_sys.addaudithook(_audit)
_stat = _os.stat
def _recording_stat(path, *args, **kwargs):  # os.path.isdir/isfile/exists and pathlib: no audit event
    if isinstance(path, (str, bytes, _os.PathLike)):
        _touched.add(_os.fsdecode(path))
    return _stat(path, *args, **kwargs)
_os.stat = _recording_stat
"""
RECORDER_TAIL = """
for _module in list(_sys.modules.values()):
    for _attribute in ("__file__", "__cached__"):
        _path = getattr(_module, _attribute, None)
        if isinstance(_path, str):
            _touched.add(_path)
with open("/proc/self/maps") as _maps:  # shared libraries the dynamic loader opened behind Python's back
    for _line in _maps:
        _fields = _line.split()
        if len(_fields) >= 6 and _fields[5].startswith("/"):
            _touched.add(_fields[5])
print("\\n" + _json.dumps(sorted(_touched)))
"""


def recorder_code(smoke_imports: str) -> str:
    return RECORDER_HEAD + smoke_imports + "\n" + RECORDER_TAIL


def touched_files(recorder_output: str, env_dir: Path) -> set[str]:
    """The recorded paths that exist inside `env_dir` (files and folders), relative to it."""
    import json

    listed = json.loads(recorder_output.strip().splitlines()[-1])
    root = os.path.realpath(env_dir)
    inside = set()
    for path in listed:
        real = os.path.realpath(path)
        if real.startswith(root + os.sep) and os.path.exists(real):
            inside.add(os.path.relpath(real, root))
    return inside


def write_pack(env_dir: Path, touched: Iterable[str], pack: Path, link_root: Path) -> tuple[int, int]:
    """Write the archive for `env_dir` (being built), whose links point into `link_root` (where it will be
    published). Returns (files copied, bytes copied)."""
    import tarfile

    touched = set(touched)
    copied = {rel for rel in touched if _small(env_dir / rel)} | _always_copied(env_dir)
    looked_at_dirs = {rel for rel in touched if (env_dir / rel).is_dir()}
    needed_dirs = {str(parent) for rel in copied | looked_at_dirs for parent in Path(rel).parents if str(parent) != "."}
    needed_dirs |= looked_at_dirs
    count = size = 0
    # gzip at level 1: the volume's throughput, not the CPU, limits unpacking (sources and bytecode shrink ~3×).
    # GNU format: names longer than 100 bytes.
    with tarfile.open(pack, "w:gz", compresslevel=1, format=tarfile.GNU_FORMAT) as archive:
        pending = [""]
        while pending:
            folder = pending.pop()
            for entry in sorted(os.scandir(env_dir / folder), key=lambda item: item.name):
                rel = os.path.join(folder, entry.name)
                if rel == PACK_NAME:
                    continue
                if entry.is_symlink():
                    archive.add(entry.path, arcname=rel)  # the environment's own links (bin/python) as they are
                elif entry.is_dir() and rel in needed_dirs:
                    archive.add(entry.path, arcname=rel, recursive=False)
                    pending.append(rel)
                elif entry.is_file() and rel in copied:
                    archive.add(entry.path, arcname=rel)
                    count, size = count + 1, size + entry.stat().st_size
                else:
                    link = tarfile.TarInfo(rel)
                    link.type, link.linkname = tarfile.SYMTYPE, str(link_root / rel)
                    archive.addfile(link)
    return count, size


def local_environment(env_dir: Path, local_root: Path) -> Path | None:
    """The local copy of the published `env_dir`, unpacked first if needed; None to run from the volume.

    Named by the key and the environment's path, since its links point there."""
    local = local_root / f"{env_dir.name}-{zlib.crc32(str(env_dir.absolute()).encode()):08x}"
    if (local / UNPACKED_MARKER).exists():
        return local
    pack = env_dir / PACK_NAME
    if not pack.is_file():
        return None
    import shutil
    import subprocess
    import tarfile

    staging = local_root / f".tmp-{env_dir.name}-{os.urandom(4).hex()}"
    try:
        staging.mkdir(parents=True)
        _unpack(pack, staging)
        (staging / UNPACKED_MARKER).touch()
        try:
            staging.rename(local)
        except OSError:
            if not (local / UNPACKED_MARKER).exists():  # not another process's finished copy: a real failure
                raise
        return local
    except (OSError, tarfile.TarError, subprocess.CalledProcessError) as error:
        log.warning(f"could not make a local copy of the environment ({error}); running it from the volume")
        return None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _unpack(pack: Path, destination: Path) -> None:
    import shutil
    import subprocess
    import tarfile

    tar = shutil.which("tar")
    if tar is not None and shutil.which("gzip") is not None:  # C, in two processes, one sequential read
        command = [tar, "-x", "-z", "-f", str(pack), "-C", str(destination)]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603
        return
    with tarfile.open(pack) as archive:
        archive.extractall(destination)  # noqa: S202 (our own archive, written at build time)


def _small(path: Path) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.stat().st_size < COPY_MAX_BYTES
    except OSError:
        return False


def _always_copied(env_dir: Path) -> set[str]:
    """Read before any recorder can run, or by metadata lookups at any time: the interpreter's configuration,
    bin/, the .pth files at the top of site-packages, and every package's dist-info."""
    chosen = set()
    site_packages = next(iter(env_dir.glob("lib/python3*/site-packages")), None)
    folders = [env_dir, env_dir / "bin"]
    if site_packages is not None:
        folders += [site_packages, *site_packages.glob("*.dist-info")]
    for folder in folders:
        for entry in folder.iterdir() if folder.is_dir() else ():
            if _small(entry):
                chosen.add(str(entry.relative_to(env_dir)))
    return chosen
