"""Fast-path overhead of the bootstrap over a bare interpreter start.

    uv run python bench/bootstrap_fast_path.py [--runs 40]

Builds a small locked project's environment once on a temporary volume, then times, interleaved, `python -c
pass` and `python -m bootstrap` handing over to a handler that does nothing (the environment is already
published, so this is the path every warm worker takes). The anchor a naive worker pays instead is a
`pip install -r` of its requirements on every start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    from tests.bootstrap_fixture import bootstrap_env, make_project

    with tempfile.TemporaryDirectory(prefix="bench-bootstrap-") as scratch:
        project = make_project(Path(scratch) / "project")
        (project / "handler.py").write_text("")
        # As in production: the start-up copy on (made by the first run, found by every later one).
        env = bootstrap_env(project, Path(scratch) / "volume", WORKER_LOCAL_COPY_DIR=str(Path(scratch) / "local"))
        subprocess.run([sys.executable, "-m", "bootstrap"], env=env, check=True, capture_output=True)  # build once
        bare, boot = [], []
        for _ in range(args.runs):
            bare.append(timed([sys.executable, "-c", "pass"], dict(os.environ)))
            boot.append(timed([sys.executable, "-m", "bootstrap"], env))
    bare_ms, boot_ms = statistics.median(bare) * 1000, statistics.median(boot) * 1000
    print(f"median of {args.runs} interleaved runs")
    print(f"  python -c pass:                      {bare_ms:6.1f} ms")
    print(f"  python -m bootstrap → empty handler: {boot_ms:6.1f} ms")
    print(f"  fast-path overhead:                  {boot_ms - bare_ms:6.1f} ms")


if __name__ == "__main__":
    main()
