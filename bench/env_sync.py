"""Environment size and `uv sync` time for the locked runtime, cold (empty uv cache) and warm.

    uv run python bench/env_sync.py [--runs 3]

Each run syncs the runtime group (no dev tools) into a fresh folder; cold runs use a fresh uv cache too, so
they download every wheel. Prints the median of each and the environment's size on disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sync_seconds(env_dir: Path, cache_dir: Path) -> float:
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(env_dir), "UV_CACHE_DIR": str(cache_dir)}
    started = time.perf_counter()
    subprocess.run(["uv", "sync", "--locked", "--no-dev", "--quiet"], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def tree_bytes(path: Path) -> int:
    seen: set[int] = set()
    total = 0
    for file in path.rglob("*"):
        stat = file.lstat()
        if file.is_file() and not file.is_symlink() and stat.st_ino not in seen:
            seen.add(stat.st_ino)
            total += stat.st_size
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as scratch:
        base = Path(scratch)
        cold, warm = [], []
        for run in range(args.runs):
            cache = base / f"cache-{run}"
            cold.append(sync_seconds(base / f"cold-{run}", cache))
            warm.append(sync_seconds(base / f"warm-{run}", cache))
            size = tree_bytes(base / f"warm-{run}")
            for folder in (base / f"cold-{run}", base / f"warm-{run}", cache):
                shutil.rmtree(folder)
    print(f"uv sync --locked --no-dev, {args.runs} runs")
    print(f"  cold cache: median {statistics.median(cold):.1f} s  (runs: {', '.join(f'{s:.1f}' for s in cold)})")
    print(f"  warm cache: median {statistics.median(warm):.1f} s  (runs: {', '.join(f'{s:.1f}' for s in warm)})")
    print(f"  cold / warm: {statistics.median(cold) / statistics.median(warm):.1f}x")
    print(f"  environment size: {size / 1e9:.2f} GB ({size} bytes)")


if __name__ == "__main__":
    main()
