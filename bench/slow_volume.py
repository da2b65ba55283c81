"""Worker-ready time from a slow volume: the naive imports vs the worker's start-up, through the same passthrough.

    uv run python bench/slow_volume.py [--delay-ms 1]

Builds the environment as a worker's first start does (bootstrap.environment: uv with copy link mode and bytecode,
the smoke import recorded, the start-up pack written; uv's own cache is lent to the temporary volume, so nothing is
downloaded twice), mounts it through ../shared/tools/slowfs.py, a FUSE passthrough that adds a delay to every
metadata operation as RunPod's network volume does, then times, from that mount:
  naive:  python -c "import f5_tts.infer.utils_infer, whisperx.alignment"
  direct: the handler's start-up up to ready (its imports and the tiny models' load, scripts/tiny_volume.py)
          with the environment's own interpreter on the mount
  ours:   what the bootstrap does: unpack the environment's start-up pack (written by the build) from the mount
          to local disk, its links pointing into the mount (bootstrap/startup_copy.py), then the same start-up
          with the local copy's interpreter
and counts their file-system calls with `strace -c -f`. Needs fuse3 and fusepy (for slowfs) and strace, as root.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOWFS = ROOT.parent / "shared" / "tools" / "slowfs.py"
NAIVE = "import f5_tts.infer.utils_infer, whisperx.alignment"
OURS = (
    "import os, sys; sys.path.insert(0, {root!r}); os.environ['HF_HUB_OFFLINE'] = '1'\n"
    "from worker.settings import Settings\nfrom worker.startup import load_models\nimport runpod\n"
    "load_models(Settings.from_env({{'WORKER_VOLUME': {volume!r}, 'WORKER_DEVICE': 'cpu'}}))"
)


# The bootstrap's hand-over, from the base interpreter: local copy (unpacked now), then exec into it.
HAND_OVER = (
    "import os, sys; sys.path.insert(0, {root!r}); from pathlib import Path\n"
    "from bootstrap.startup_copy import local_environment\n"
    "local = local_environment(Path({env!r}), Path({local_root!r}))\n"
    "assert local is not None, 'no local copy'\n"
    "os.execv(str(local / 'bin' / 'python'), [str(local / 'bin' / 'python'), '-c', {code!r}])"
)


def timed(python: str, code: str, before: Callable[[], None] = lambda: None) -> tuple[float, int]:
    """Wall seconds of the code, and the file-system calls strace counted in a second run."""
    before()
    started = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, capture_output=True, cwd="/")
    wall = time.perf_counter() - started
    before()
    traced = subprocess.run(
        ["strace", "-c", "-f", "-e", "trace=%file,read,getdents64", python, "-c", code],
        capture_output=True, text=True, check=True, cwd="/",
    )  # fmt: skip
    total = re.search(r"^100\.00\s+\S+\s+\S+\s+(\d+)", traced.stderr, re.MULTILINE)
    return wall, int(total.group(1)) if total else -1


def build_environment(volume: Path) -> Path:
    """The bootstrap's own build on `volume`, with uv's cache of this machine lent to it."""
    from bootstrap.config import BootstrapConfig
    from bootstrap.environment import ensure_environment

    config = BootstrapConfig.from_env({"WORKER_VOLUME": str(volume), "WORKER_PROJECT_DIR": str(ROOT)})
    cache = subprocess.run(["uv", "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()
    config.uv_cache_dir.parent.mkdir(parents=True, exist_ok=True)
    config.uv_cache_dir.symlink_to(cache)
    return ensure_environment(config)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", default="1")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from scripts.tiny_volume import build_tiny_volume

    with tempfile.TemporaryDirectory(prefix="bench-slow-") as scratch:
        volume = Path(scratch) / "volume"
        build_tiny_volume(volume)
        started = time.perf_counter()
        env_dir = build_environment(volume)
        print(f"environment built in {time.perf_counter() - started:.0f} s: {env_dir}", flush=True)
        mount = Path(scratch) / "env"
        mount.mkdir()
        local_root = Path(scratch) / "local"
        env = {**os.environ, "DELAY_MS": args.delay_ms}
        fuse = subprocess.Popen(
            [sys.executable, str(SLOWFS), str(env_dir), str(mount)], env=env, stderr=subprocess.DEVNULL
        )  # it reports the unmount at the end as an error
        try:
            deadline = time.monotonic() + 30
            while not (mount / "pyvenv.cfg").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            python = str(mount / "bin" / "python")
            start_up = OURS.format(root=str(ROOT), volume=str(volume))
            naive = timed(python, NAIVE)
            direct = timed(python, start_up)
            base_python = str(Path(sys.base_prefix) / "bin" / "python3")
            hand_over = HAND_OVER.format(root=str(ROOT), env=str(mount), local_root=str(local_root), code=start_up)
            ours = timed(base_python, hand_over, before=lambda: shutil.rmtree(local_root, ignore_errors=True))
        finally:
            subprocess.run(["fusermount", "-u", str(mount)], check=False)
            fuse.wait(timeout=30)
    print(f"through slowfs at {args.delay_ms} ms per metadata operation:")
    print(f"  naive imports:                          {naive[0]:6.1f} s, {naive[1]:,} file-system calls")
    print(f"  worker start-up from the volume:        {direct[0]:6.1f} s, {direct[1]:,} file-system calls")
    print(f"  worker start-up via the local copy:     {ours[0]:6.1f} s, {ours[1]:,} file-system calls")
    print(f"  local copy / naive: {ours[0] / naive[0]:.2f} (goal ≤ 0.25); from the volume / naive: "
          f"{direct[0] / naive[0]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
