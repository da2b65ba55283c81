"""Worker-ready time from a slow volume: the naive imports vs the worker's start-up, through the same passthrough.

    uv run python bench/slow_volume.py [--delay-ms 1]

Mounts the project's environment (.venv) through ../shared/tools/slowfs.py, a FUSE passthrough that adds a delay
to every metadata operation as RunPod's network volume does, then times, from that mount:
  naive:  python -c "import f5_tts.infer.utils_infer, whisperx.alignment"
  ours:   the handler's start-up up to ready: its imports and the tiny models' load (scripts/tiny_volume.py)
and counts their file-system calls with `strace -c -f`. Needs fuse3 and fusepy (for slowfs) and strace, as root.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOWFS = ROOT.parent / "shared" / "tools" / "slowfs.py"
NAIVE = "import f5_tts.infer.utils_infer, whisperx.alignment"
OURS = (
    "import os, sys; sys.path.insert(0, {root!r}); os.environ['HF_HUB_OFFLINE'] = '1'\n"
    "from worker.settings import Settings\nfrom worker.startup import load_models\nimport runpod\n"
    "load_models(Settings.from_env({{'WORKER_VOLUME': {volume!r}, 'WORKER_DEVICE': 'cpu'}}))"
)


def timed(python: str, code: str) -> tuple[float, int]:
    """Wall seconds of the code, and the file-system calls strace counted in a second run."""
    started = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, capture_output=True, cwd="/")
    wall = time.perf_counter() - started
    traced = subprocess.run(
        ["strace", "-c", "-f", "-e", "trace=%file,read,getdents64", python, "-c", code],
        capture_output=True, text=True, check=True, cwd="/",
    )  # fmt: skip
    total = re.search(r"^100\.00\s+\S+\s+\S+\s+(\d+)", traced.stderr, re.MULTILINE)
    return wall, int(total.group(1)) if total else -1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", default="1")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from scripts.tiny_volume import build_tiny_volume

    with tempfile.TemporaryDirectory(prefix="bench-slow-") as scratch:
        volume = Path(scratch) / "volume"
        build_tiny_volume(volume)
        mount = Path(scratch) / "env"
        mount.mkdir()
        env = {**os.environ, "DELAY_MS": args.delay_ms}
        fuse = subprocess.Popen(
            [sys.executable, str(SLOWFS), str(ROOT / ".venv"), str(mount)], env=env, stderr=subprocess.DEVNULL
        )  # it reports the unmount at the end as an error
        try:
            deadline = time.monotonic() + 30
            while not (mount / "pyvenv.cfg").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            python = str(mount / "bin" / "python")
            naive = timed(python, NAIVE)
            ours = timed(python, OURS.format(root=str(ROOT), volume=str(volume)))
        finally:
            subprocess.run(["fusermount", "-u", str(mount)], check=False)
            fuse.wait(timeout=30)
    print(f"through slowfs at {args.delay_ms} ms per metadata operation:")
    print(f"  naive imports:          {naive[0]:6.1f} s, {naive[1]:,} file-system calls")
    print(f"  worker start-up (ours): {ours[0]:6.1f} s, {ours[1]:,} file-system calls")
    print(f"  ours / naive: {ours[0] / naive[0]:.2f} (goal ≤ 0.25)")


if __name__ == "__main__":
    main()
