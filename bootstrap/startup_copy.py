"""A local copy of what start-up reads, unpacked from one archive on the volume.

Importing the worker's libraries opens ~6,000 files and makes over 100,000 file-system calls; on a network
volume each metadata call is a round trip, so start-up is latency-bound (54 s at 1 ms per call, 9 s from local
disk; BENCHMARKS.md).
When an environment is built, its smoke import runs under a recorder that lists every path it touches: opened,
listed, or only looked up (`os.path.isdir` and friends: transformers makes ~2,700 such lookups in its ~380 model
folders at import, each a round trip if it went through a link). The archive `startup-pack.tar.gz`, published
inside the environment, then holds:

- a copy of every touched file under COPY_MAX_BYTES (Python sources, bytecode, small extension modules, package
  metadata, `.pth` files): ~340 MB in ~10,900 files for the full worker;
- a real folder for every touched folder and every folder above a touched path, so lookups of names that do not
  exist (the dynamic loader probes `tls/` and `glibc-hwcaps/` beside each library) stay on local disk;
- for everything else (large CUDA libraries, untouched files, untouched folders as a whole) a relative symbolic
  link into PUBLISHED_LINK, so the copy is complete and any later import still works.

At start the bootstrap unpacks it to local disk with one sequential read (`tar`, or `tarfile` without it), points
PUBLISHED_LINK at the environment where this worker sees it (the volume may be mounted elsewhere than where it was
built), and hands over to the local copy's interpreter. Nothing is ever written into the published environment
afterwards, and a missing or broken archive only means running from the volume, as before.
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
PUBLISHED_LINK = ".published-environment"  # in the local copy: a link to the environment on the volume
COPY_MAX_BYTES = 4 * 1024 * 1024  # larger files (CUDA libraries) are mapped in pieces: a link reads only those

# Run by the new environment's interpreter around the smoke import: prints the paths it touched, as JSON.
# Replacing os.stat is seen by everything the smoke import runs (genericpath, pathlib, shutil); only this
# process, which exits right after, ever has it.
RECORDER_HEAD = """
import json as _json, os as _os, sys as _sys
_touched = set()
def _audit(event, args):
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
        _touched.add(_os.path.abspath(_os.fsdecode(args[0])))
_sys.addaudithook(_audit)
_stat = _os.stat
def _recording_stat(path, *args, **kwargs):  # os.path.isdir/isfile/exists and pathlib: no audit event
    if isinstance(path, (str, bytes, _os.PathLike)):
        _touched.add(_os.path.abspath(_os.fsdecode(path)))
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


def touched_paths(recorder_output: str, env_dir: Path) -> set[str]:
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


def write_pack(env_dir: Path, touched: Iterable[str], pack: Path) -> tuple[int, int]:
    """Write the archive for `env_dir` from the `touched` paths (relative to it). A file is copied if touched and
    small; a folder is real if touched or above anything touched or copied; everything else is one link.
    Returns (files copied, bytes copied)."""
    import tarfile

    touched = set(touched)
    copied = {rel for rel in touched if _small(env_dir / rel)} | _always_copied(env_dir)
    needed_dirs = {rel for rel in touched if (env_dir / rel).is_dir()}
    needed_dirs |= {str(parent) for rel in touched | copied for parent in Path(rel).parents if str(parent) != "."}
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
                    link.type, link.linkname = tarfile.SYMTYPE, _link_target(rel)
                    archive.addfile(link)
    return count, size


def local_environment(env_dir: Path, local_root: Path) -> Path | None:
    """The local copy of the published `env_dir`, unpacked first if needed; None to run from the volume.

    Named by the key and the environment's path, since its PUBLISHED_LINK points there."""
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
        (staging / PUBLISHED_LINK).symlink_to(env_dir.absolute(), target_is_directory=True)
        (staging / UNPACKED_MARKER).touch()
        try:
            staging.rename(local)
        except OSError:
            if not (local / UNPACKED_MARKER).exists():  # not another process's finished copy: a real failure
                raise
        return local
    except (OSError, tarfile.TarError, subprocess.CalledProcessError) as error:
        log.warning(f"could not make a local copy of the environment ({_reason(error)}); running it from the volume")
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
        # Our own archive, written at build time; it holds absolute links (bin/python to the base interpreter),
        # which the safer extraction filters of newer Pythons refuse.
        if hasattr(tarfile, "fully_trusted_filter"):
            archive.extractall(destination, filter="fully_trusted")  # noqa: S202
        else:
            archive.extractall(destination)  # noqa: S202


def _reason(error: Exception) -> str:
    """The error, with the end of what tar said when it was tar that failed ("No space left on device")."""
    said = getattr(error, "stderr", None)
    if isinstance(said, bytes) and said.strip():
        return f"{error}: {said.decode(errors='replace').strip()[-300:]}"
    return str(error)


def _link_target(rel: str) -> str:
    """`rel` inside PUBLISHED_LINK, relative to the folder holding `rel` in the copy."""
    depth = rel.count("/")
    return os.path.join(*[".."] * depth, PUBLISHED_LINK, rel)


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
