"""Worker-ready time from a slow volume: the naive imports vs the worker's start-up, through the same passthrough.

    uv run python bench/slow_volume.py [--delay-ms 1] [--runs 3]

Builds the environment as a worker's first start does (bootstrap.environment: uv with copy link mode and bytecode,
the smoke import recorded, the start-up pack written; uv's own cache is lent to the temporary volume, so nothing is
downloaded twice), mounts it through ../shared/tools/slowfs.py, a FUSE passthrough that adds a delay to every
metadata operation as RunPod's network volume does, then times, from that mount:
  naive:  python -c "import f5_tts.infer.utils_infer, whisperx.alignment"
  direct: the handler's start-up up to ready (its imports and the tiny models' load, scripts/tiny_volume.py)
          with the environment's own interpreter on the mount
  ours:   what the bootstrap does: unpack the environment's start-up pack (written by the build) from the mount
          to local disk, its links pointing into the mount (bootstrap/startup_copy.py), then the same start-up
          with the local copy's interpreter; each run into a local folder of its own, as a new worker's empty
          disk (deleting the previous run's copy first slows the next unpack up to threefold on a disk mounted
          with `discard`, which frees the deleted blocks while tar writes: BENCHMARKS.md)
each side once per run, the three sides in turn, and reports the median and the spread (fastest to slowest) of
the runs; it counts each side's file-system calls once, with `strace -c -f`.

Needs, as root: /dev/fuse, Debian's fuse3 and libfuse2 (fusepy loads libfuse 2; fuse3 alone is not enough),
fusepy (dev group) and strace. They are checked before anything is built, and a missing one is named with its fix.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOWFS = ROOT.parent / "shared" / "tools" / "slowfs.py"
MOUNT_TIMEOUT_S = 10.0  # a working passthrough mounts in well under a second
INSTALL_FUSE = "apt-get install fuse3 libfuse2"
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


def wall_s(python: str, code: str) -> float:
    """Wall seconds of one run of the code."""
    started = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, capture_output=True, cwd="/")
    return time.perf_counter() - started


def file_system_calls(python: str, code: str) -> int:
    """The file-system calls of one run of the code, as `strace -c -f` counts them (-1 if it printed no total)."""
    traced = subprocess.run(
        ["strace", "-c", "-f", "-e", "trace=%file,read,getdents64", python, "-c", code],
        capture_output=True, text=True, check=True, cwd="/",
    )  # fmt: skip
    total = re.search(r"^100\.00\s+\S+\s+\S+\s+(\d+)", traced.stderr, re.MULTILINE)
    return int(total.group(1)) if total else -1


def missing_prerequisites(python: str) -> list[str]:
    """What the passthrough and the counting need and this machine lacks, each with its fix; empty when all is there.

    `python` is the interpreter that will run slowfs.py: fusepy must import there, which loads libfuse 2.
    """
    missing = []
    if not Path("/dev/fuse").exists():
        missing.append("/dev/fuse does not exist (in a container: --device /dev/fuse --cap-add SYS_ADMIN)")
    if shutil.which("fusermount") is None:
        missing.append(f"fusermount is not installed: {INSTALL_FUSE}")
    loaded = subprocess.run([python, "-c", "import fuse"], capture_output=True, text=True)
    if loaded.returncode != 0:
        reason = (loaded.stderr.strip().splitlines() or ["no message"])[-1]
        if "No module named" in reason:
            missing.append(f"fusepy is not installed in {python} ({reason}): uv sync (it is in the dev group)")
        else:
            missing.append(f"fusepy cannot load libfuse 2 ({reason}): {INSTALL_FUSE} (fuse3 alone is not enough)")
    if shutil.which("strace") is None:
        missing.append("strace is not installed: apt-get install strace")
    return missing


def wait_for_mount(mount: Path, passthrough: subprocess.Popen[bytes], log: Path) -> None:
    """Return once `mount` is a mount point; fail at once, with the passthrough's own message, if it exits."""
    deadline = time.monotonic() + MOUNT_TIMEOUT_S
    while not os.path.ismount(mount):
        if passthrough.poll() is not None:
            raise SystemExit(
                f"slowfs.py exited with {passthrough.returncode} before mounting {mount}:\n{log.read_text()[-2000:]}"
            )
        if time.monotonic() > deadline:
            raise SystemExit(
                f"slowfs.py did not mount {mount} within {MOUNT_TIMEOUT_S:.0f} s:\n{log.read_text()[-2000:]}"
            )
        time.sleep(0.05)


def spread(values: list[float]) -> str:
    """Median (fastest–slowest)."""
    return f"{statistics.median(values):6.2f} s ({min(values):.2f}–{max(values):.2f})"


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
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    missing = missing_prerequisites(sys.executable)
    if missing:
        raise SystemExit("the slow-volume passthrough cannot run here:\n  " + "\n  ".join(missing))
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
        log = Path(scratch) / "slowfs.log"
        env = {**os.environ, "DELAY_MS": args.delay_ms}
        with log.open("wb") as log_file:
            passthrough = subprocess.Popen([sys.executable, str(SLOWFS), str(env_dir), str(mount)], env=env,
                                           stderr=log_file)  # fmt: skip
        try:
            wait_for_mount(mount, passthrough, log)
            python = str(mount / "bin" / "python")
            start_up = OURS.format(root=str(ROOT), volume=str(volume))
            base_python = str(Path(sys.base_prefix) / "bin" / "python3")

            def hand_over(run: int) -> str:  # a new local folder each run: an empty disk, as a new worker has
                local = local_root / f"run-{run}"
                return HAND_OVER.format(root=str(ROOT), env=str(mount), local_root=str(local), code=start_up)

            sides: dict[str, tuple[str, Callable[[int], str]]] = {
                "naive": (python, lambda run: NAIVE),
                "direct": (python, lambda run: start_up),
                "ours": (base_python, hand_over),
            }
            walls: dict[str, list[float]] = {side: [] for side in sides}
            for run in range(args.runs):
                for side, (interpreter, code) in sides.items():
                    walls[side].append(wall_s(interpreter, code(run)))
                print(f"run {run + 1}: " + ", ".join(f"{side} {walls[side][-1]:.1f} s" for side in sides), flush=True)
            calls = {
                side: file_system_calls(interpreter, code(args.runs)) for side, (interpreter, code) in sides.items()
            }
        finally:
            subprocess.run(["fusermount", "-u", str(mount)], check=False)
            passthrough.wait(timeout=30)  # it reports the unmount as an error in its log
    copy_ratios = [ours / naive for ours, naive in zip(walls["ours"], walls["naive"], strict=True)]
    volume_ratios = [direct / naive for direct, naive in zip(walls["direct"], walls["naive"], strict=True)]
    print(f"through slowfs at {args.delay_ms} ms per metadata operation, {args.runs} runs, median (fastest–slowest):")
    print(f"  naive imports:                      {spread(walls['naive'])}, {calls['naive']:,} file-system calls")
    print(f"  worker start-up from the volume:    {spread(walls['direct'])}, {calls['direct']:,} file-system calls")
    print(f"  worker start-up via the local copy: {spread(walls['ours'])}, {calls['ours']:,} file-system calls")
    print(f"  local copy / naive: {statistics.median(copy_ratios):.2f} ({min(copy_ratios):.2f}–{max(copy_ratios):.2f}"
          f" per run; goal ≤ 0.25); from the volume / naive: {statistics.median(volume_ratios):.2f}"
          f" ({min(volume_ratios):.2f}–{max(volume_ratios):.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
