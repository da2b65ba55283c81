"""The offline profile: PocketSphinx's word-start error against eSpeak's own timings, and the README's first command.

    uv run python bench/offline.py [--runs 3]

The error set is the one `tests/test_offline.py` checks: four sentences, each spoken by three eSpeak voice
variants, aligned by PocketSphinx and compared with the word events eSpeak reported for that audio. The wall
time is the README's first command as a person runs it: a fresh process, the offline profile, test_input.json.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from alignment.pocketsphinx_aligner import PocketsphinxAligner
    from tests.test_offline import pocketsphinx_errors
    from tts.espeak import EspeakSynthesizer

    errors_ms = [error * 1000 for error in pocketsphinx_errors(EspeakSynthesizer(), PocketsphinxAligner())]
    print(f"PocketSphinx word-start error over {len(errors_ms)} words:")
    print(f"  mean {statistics.mean(errors_ms):.1f} ms, median {statistics.median(errors_ms):.1f} ms, "
          f"max {max(errors_ms):.1f} ms")  # fmt: skip

    walls = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-offline-") as volume:
            env = {**os.environ, "WORKER_PROFILE": "offline", "WORKER_VOLUME": volume}
            started = time.perf_counter()
            subprocess.run([sys.executable, "handler.py"], cwd=ROOT, env=env, check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
    print(f"README's first command (offline job, fresh process): median {statistics.median(walls):.2f} s "
          f"(runs: {', '.join(f'{wall:.2f}' for wall in walls)})")  # fmt: skip


if __name__ == "__main__":
    main()
