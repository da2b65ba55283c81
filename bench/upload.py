"""Upload time: the worker's S3 storage vs RunPod's `rp_upload.upload_file_to_bucket`, same files, same server.

    uv run python bench/upload.py [--runs 3]

Starts SeaweedFS on 127.0.0.1 (tests/servers.py), then uploads, interleaved, (a) the outputs of a 60 s job
(24 kHz 16-bit wav + ASS, SRT, VTT, JSON) and (b) one 100 MB file, with each implementation, and prints the
medians and their ratio. Both presign a URL per file, as each does in production.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
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
    from runpod.serverless.utils import rp_upload

    from storage.config import S3Config
    from storage.s3 import S3Storage
    from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY, start_seaweedfs

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as scratch:
        base = Path(scratch)
        server = start_seaweedfs(base / "seaweedfs")
        try:
            server.client().create_bucket(Bucket="bench")
            job_files = {
                "speech.wav": os.urandom(60 * 24_000 * 2 + 44),
                **{f"subtitles.{ext}": os.urandom(12_000) for ext in ("ass", "srt", "vtt", "json")},
            }
            for name, data in job_files.items():
                (base / name).write_bytes(data)
            (base / "big.bin").write_bytes(os.urandom(100 * 1000 * 1000))
            sets = {"60 s job outputs (5 files, 2.9 MB)": list(job_files), "one 100 MB file": ["big.bin"]}

            ours = S3Storage.connect(
                S3Config("bench", server.endpoint_url, None, S3_ACCESS_KEY, S3_SECRET_KEY)
            )  # built once, at start-up, as the worker does
            creds = {"endpointUrl": server.endpoint_url, "accessId": S3_ACCESS_KEY, "accessSecret": S3_SECRET_KEY}

            def upload_ours(names: list[str], run: int) -> None:
                for name in names:
                    ours.put_file(base / name, f"ours/{run}/{name}", "application/octet-stream", 3600)

            def upload_runpod(names: list[str], run: int) -> None:
                for name in names:
                    with contextlib.redirect_stderr(io.StringIO()):  # its tqdm progress bar
                        rp_upload.upload_file_to_bucket(name, str(base / name), creds, "bench", f"runpod/{run}")

            for label, names in sets.items():
                timings: dict[str, list[float]] = {"ours": [], "rp_upload": []}
                for run in range(args.runs):
                    for tool, upload in (("ours", upload_ours), ("rp_upload", upload_runpod)):
                        started = time.perf_counter()
                        upload(names, run)
                        timings[tool].append(time.perf_counter() - started)
                ours_s, runpod_s = statistics.median(timings["ours"]), statistics.median(timings["rp_upload"])
                print(f"{label}, median of {args.runs}:")
                print(f"  ours       {ours_s:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in timings['ours'])})")
                print(f"  rp_upload  {runpod_s:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in timings['rp_upload'])})")
                print(f"  rp_upload / ours: {runpod_s / ours_s:.1f}x")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
