"""Wall time of one tiny-model job, split by stage, in-process after start-up.

    uv run python bench/job_stages.py [--runs 5]

Builds the tiny random-weight volume (scripts/tiny_volume.py), loads it through the worker's start-up code,
then runs the same job several times and prints the median of each stage. Tiny models make this a measure of
the plumbing (decode, chunking, alignment walk, subtitles, encoding, storage), not of model compute.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEXT = (
    "The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times. "
    "Captions light up exactly when each word is spoken, and the highlight never runs ahead of the voice."
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from scripts.tiny_volume import build_tiny_volume
    from worker.contract import parse_job
    from worker.pipeline import Pipeline
    from worker.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-job-") as scratch:
        volume = Path(scratch) / "volume"
        build_tiny_volume(volume)
        clip = Path(scratch) / "voice.wav"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=180:duration=3", "-ar", "24000", str(clip)],
            check=True,
        )
        started = time.perf_counter()
        pipeline = Pipeline.load(Settings.from_env({"WORKER_VOLUME": str(volume), "WORKER_DEVICE": "cpu"}))
        load_s = time.perf_counter() - started
        job = parse_job(
            {
                "text": TEXT,
                "voice": {"base64": base64.b64encode(clip.read_bytes()).decode(), "text": "A steady hum."},
                "tts": {"nfe_step": 32, "seed": 1},
                "audio": {"format": "mp3"},
            }
        )
        runs = [pipeline.handle(job, f"bench-{n}", lambda _: None)["timings_s"] for n in range(args.runs)]

    print(f"start-up (imports + tiny model load): {load_s:.1f} s")
    print(f"one job, {len(TEXT)} characters, NFE 32, mp3, local storage; median of {args.runs} runs:")
    for stage in runs[0]:
        values = [run[stage] for run in runs]
        print(f"  {stage:<10} {statistics.median(values):7.3f} s")


if __name__ == "__main__":
    main()
