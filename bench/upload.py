"""Upload time: the worker's S3 storage vs RunPod's `rp_upload.upload_file_to_bucket`, same files, same server;
then a script's split files stored one at a time vs several at once, over a network with a round trip.

    uv run python bench/upload.py [--runs 3] [--lines 100] [--round-trip-ms 50]

Starts SeaweedFS on 127.0.0.1 (tests/servers.py), then uploads, interleaved, (a) the outputs of a 60 s job
(24 kHz 16-bit wav + ASS, SRT, VTT, JSON) and (b) one 100 MB file, with each implementation, and prints the
medians and their ratio. Both presign a URL per file, as each does in production.

Then (c): the files of a script of `--lines` lines with `output.split` (each line's wav and four subtitle files,
plus the take's five) through `storage.put_files`, with `threads=1` (one after another) and with its default
(`UPLOAD_THREADS` at once), through a proxy that delays every piece of data by half of `--round-trip-ms` each
way: on loopback a round trip costs nothing, to a real bucket tens of milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--round-trip-ms", type=float, default=50.0)
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
            split_files(base, server.endpoint_url, args.lines, args.round_trip_ms / 1000, args.runs)
        finally:
            server.stop()


def split_files(base: Path, endpoint_url: str, lines: int, round_trip_s: float, runs: int) -> None:
    """(c): a split script's files, one at a time vs UPLOAD_THREADS at once, behind a delaying proxy."""
    from storage import UPLOAD_THREADS, put_files
    from storage.config import S3Config
    from storage.s3 import S3Storage
    from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY, free_port

    port = free_port()
    target = int(endpoint_url.rsplit(":", 1)[1])
    threading.Thread(target=asyncio.run, args=(_delaying_proxy(port, target, round_trip_s / 2),), daemon=True).start()
    time.sleep(0.5)
    storage = S3Storage.connect(S3Config("bench", f"http://127.0.0.1:{port}", None, S3_ACCESS_KEY, S3_SECRET_KEY))
    files = {}
    for line in range(lines + 1):  # the lines' files and the take's
        stem = f"line-{line:03d}" if line < lines else "take"
        (base / f"{stem}.wav").write_bytes(os.urandom(5 * 24_000 * 2 + 44))  # a 5 s line
        files[f"{stem}.wav"] = (base / f"{stem}.wav", "audio/wav")
        for ext in ("ass", "srt", "vtt", "json"):
            (base / f"{stem}.{ext}").write_bytes(os.urandom(1500))
            files[f"{stem}.{ext}"] = (base / f"{stem}.{ext}", "text/plain")
    timings: dict[int, list[float]] = {1: [], UPLOAD_THREADS: []}
    for run in range(runs):
        for threads in timings:
            started = time.perf_counter()
            put_files(storage, files, f"split-{threads}", f"run-{run}", 3600, threads=threads)
            timings[threads].append(time.perf_counter() - started)
    one, many = statistics.median(timings[1]), statistics.median(timings[UPLOAD_THREADS])
    print(f"{lines} split lines ({len(files)} files), {round_trip_s * 1000:.0f} ms round trip, median of {runs}:")
    print(f"  one at a time        {one:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in timings[1])})")
    print(f"  {UPLOAD_THREADS} at once            {many:7.2f} s  (runs: "
          f"{', '.join(f'{t:.2f}' for t in timings[UPLOAD_THREADS])})")  # fmt: skip
    print(f"  one at a time / at once: {one / many:.1f}x")


async def _delaying_proxy(port: int, target_port: int, delay_s: float) -> None:
    """Forward 127.0.0.1:port to target_port, each piece of data delayed by `delay_s` (a link's one-way time)."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                await asyncio.sleep(delay_s)
                writer.write(data)
                await writer.drain()
        writer.close()

    async def connect(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(connect, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    main()
