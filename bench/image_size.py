"""Estimate the container image's uncompressed size without a Docker engine.

    uv run python bench/image_size.py

The image is the base image plus what the Dockerfile adds. The additions are measured by installing the same
pieces into a scratch folder: the Debian packages `apt-get install` would add to a slim Debian base (apt
resolves the install against a status file holding only such a base), unpacked with `dpkg -x` and counted as a
layer stores them (a file with several hard-linked names once); the uv binary; and the project files the
Dockerfile copies. The base image's own size cannot be measured here: `BASE_IMAGE_BYTES` is the commonly listed
figure for python:3.11-slim-bookworm (linux/amd64), and the GitHub workflow prints and checks the exact size of
the built image.
"""

from __future__ import annotations

import re
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE_BYTES = 150_000_000  # python:3.11-slim-bookworm, uncompressed, as commonly listed
BUDGET_BYTES = 1_000_000_000
APT_PACKAGES = ("ffmpeg", "ca-certificates")


@dataclass(frozen=True)
class ImageEstimate:
    base_bytes: int
    apt_bytes: int
    apt_packages: int
    uv_bytes: int
    source_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.base_bytes + self.apt_bytes + self.uv_bytes + self.source_bytes


def apt_closure(packages: tuple[str, ...], scratch: Path) -> list[str]:
    """The packages `apt-get install --no-install-recommends` adds to a slim Debian base.

    apt resolves the install against a dpkg status that holds only a slim base: this machine's installed
    packages that are Essential or of required priority, with everything they depend on.
    """
    stanzas = [block for block in Path("/var/lib/dpkg/status").read_text().split("\n\n") if block.strip()]
    installed = {}
    for block in stanzas:
        name = re.search(r"^Package: (\S+)", block, re.MULTILINE)
        if name and re.search(r"^Status: install ok installed", block, re.MULTILINE):
            installed[name.group(1)] = block
    base = {
        name
        for name, block in installed.items()
        if re.search(r"^(Priority: required|Essential: yes)", block, re.MULTILINE)
    }
    pending = list(base)
    while pending:
        for dependency in _installed_dependencies(installed[pending.pop()], installed):
            if dependency not in base:
                base.add(dependency)
                pending.append(dependency)
    status = scratch / "base-status"
    status.write_text("\n\n".join(installed[name] for name in sorted(base)) + "\n")
    simulated = subprocess.run(
        ["apt-get", "-s", "-o", f"Dir::State::status={status}", "--no-install-recommends", "install", *packages],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return re.findall(r"^Inst (\S+)", simulated, re.MULTILINE)


def _installed_dependencies(block: str, installed: dict[str, str]) -> set[str]:
    found = set()
    for field in ("Pre-Depends", "Depends"):
        line = re.search(rf"^{field}: (.*)$", block, re.MULTILINE)
        for alternatives in line.group(1).split(",") if line else ():
            names = [re.sub(r"[ (:].*", "", name.strip()) for name in alternatives.split("|")]
            present = [name for name in names if name in installed]
            if present:
                found.add(present[0])
    return found


def unpacked_bytes(packages: list[str], scratch: Path) -> int:
    """Download the packages and unpack them into one folder; its size on disk."""
    debs, root = scratch / "debs", scratch / "root"
    debs.mkdir()
    root.mkdir()
    subprocess.run(["apt-get", "download", "-qq", *packages], cwd=debs, check=True, capture_output=True)
    for deb in debs.glob("*.deb"):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return tree_bytes(root)


def tree_bytes(root: Path) -> int:
    """Bytes of the regular files under `root`, each file once however many names it has.

    Debian packages ship hard links (Mesa's driver file has about 13 names): a layer stores such a file once, so
    each (device, inode) is counted once. Symbolic links are not counted.
    """
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in root.rglob("*"):
        status = path.lstat()
        if stat.S_ISREG(status.st_mode) and (status.st_dev, status.st_ino) not in seen:
            seen.add((status.st_dev, status.st_ino))
            total += status.st_size
    return total


def copied_sources() -> list[Path]:
    """Every file the Dockerfile's COPY lines bring in (only tracked files: .dockerignore leaves out the rest)."""
    paths = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            paths += line.split()[1:-1]
    tracked = subprocess.run(["git", "ls-files", *paths], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in tracked.stdout.split()]


def estimate() -> ImageEstimate:
    with tempfile.TemporaryDirectory(prefix="image-size-") as scratch:
        packages = apt_closure(APT_PACKAGES, Path(scratch))
        apt_bytes = unpacked_bytes(packages, Path(scratch))
    from uv import find_uv_bin  # the same uv release the Dockerfile copies (pinned in the dev group)

    return ImageEstimate(
        base_bytes=BASE_IMAGE_BYTES,
        apt_bytes=apt_bytes,
        apt_packages=len(packages),
        uv_bytes=Path(find_uv_bin()).stat().st_size,
        source_bytes=sum(path.stat().st_size for path in copied_sources()),
    )


def main() -> None:
    result = estimate()
    print(f"base image (assumed):        {result.base_bytes / 1e6:8.1f} MB")
    print(f"apt packages ({result.apt_packages:3d}):          {result.apt_bytes / 1e6:8.1f} MB")
    print(f"uv binary:                   {result.uv_bytes / 1e6:8.1f} MB")
    print(f"project source:              {result.source_bytes / 1e6:8.1f} MB")
    print(f"estimated image:             {result.total_bytes / 1e6:8.1f} MB (budget {BUDGET_BYTES / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
