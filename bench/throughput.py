"""Throughput of one worker: a fixed mix of jobs at several concurrencies, and a long job batched vs sequential.

    uv run python bench/throughput.py                       # the CPU here: tiny random-weight models
    uv run python bench/throughput.py --full-size --device cuda   # a GPU: the released models' sizes

The mix (short, medium and long texts in three voices) runs through `Pipeline.handle` on a pool of
`concurrency` threads, as the async handler runs jobs on an endpoint, all queued at once. Reported, side by side
in one run: audio seconds produced per wall second, p50/p95 of a job's latency (start to result) and each against
concurrency 1 and a lone job. The long job (5,000 characters) is timed with its chunks batched and with
`max_items = 1` (one chunk per model call, as before batching). Random weights speak for the full length F5
budgets for a text, so audio lengths are the real ones.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tts.batching import MAX_BATCH_ITEMS  # noqa: E402

SENTENCE = "The river ran past three old mills, and every mill had a story of its own to tell. "
TEXTS = {
    "short": "Captions light up exactly when each word is spoken.",
    "medium": SENTENCE * 3,
    "long": SENTENCE * 10,
}
MIX = ["short", "medium", "short", "long", "medium", "short", "short", "medium"]  # repeated to the job count
# Transcripts about as long as three seconds of speech (~15 characters a second): F5 sizes the output from them.
VOICES = (
    (150, "A low and steady hum that lasts three seconds."),
    (220, "A middle hum, held evenly from start to end."),
    (330, "A high clear tone, the third of the voices."),
)
LONG_JOB_CHARS = 5_000


def voice_clips(folder: Path, voices: Sequence[tuple[int, str]] = VOICES) -> list[dict[str, str]]:
    """Reference clips (tones of 3 s at each frequency, with their transcripts), as job voices."""
    clips = []
    for frequency, transcript in voices:
        path = folder / f"voice-{frequency}.wav"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration=3",
             "-ar", "24000", str(path)],
            check=True,
        )  # fmt: skip
        clips.append({"base64": base64.b64encode(path.read_bytes()).decode(), "text": transcript})
    return clips


def job_mix(count: int, voices: list[dict[str, str]], nfe_step: int) -> list[dict[str, Any]]:
    kinds = [MIX[index % len(MIX)] for index in range(count)]
    return [
        {"text": TEXTS[kind], "voice": voices[index % len(voices)], "tts": {"nfe_step": nfe_step, "seed": index},
         "audio": {"format": "wav"}, "subtitles": {"formats": ["ass", "json"]}}
        for index, kind in enumerate(kinds)
    ]  # fmt: skip


def run_mix(pipeline: Any, jobs: list[dict[str, Any]], concurrency: int) -> dict[str, float]:
    """All jobs queued at once on `concurrency` threads: audio per wall second and latency percentiles."""
    from worker.contract import parse_job

    def one(index: int) -> tuple[float, float]:
        started = time.perf_counter()
        result = pipeline.handle(parse_job(jobs[index]), f"bench-{concurrency}-{index}", lambda _: None)
        return time.perf_counter() - started, float(result["audio"]["duration_s"])

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as threads:
        outcomes = list(threads.map(one, range(len(jobs))))
    wall_s = time.perf_counter() - started
    latencies = sorted(latency for latency, _ in outcomes)
    audio_s = sum(audio for _, audio in outcomes)
    return {
        "concurrency": concurrency,
        "jobs": len(jobs),
        "wall_s": round(wall_s, 3),
        "audio_s": round(audio_s, 3),
        "audio_s_per_wall_s": round(audio_s / wall_s, 3),
        "p50_latency_s": round(statistics.median(latencies), 3),
        "p95_latency_s": round(latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))], 3),
    }


def long_job(pipeline: Any, voice: dict[str, str], nfe_step: int, batched: bool) -> dict[str, float]:
    """The 5,000-character job, its chunks batched or one per model call."""
    from worker.contract import parse_job

    text = (SENTENCE * (LONG_JOB_CHARS // len(SENTENCE) + 1))[:LONG_JOB_CHARS].rsplit(" ", 1)[0]
    job = parse_job({"text": text, "voice": voice, "tts": {"nfe_step": nfe_step, "seed": 1}})
    scheduler = pipeline.engines["f5"].scheduler
    max_items = scheduler.max_items  # the device's default: one per call on the CPU
    scheduler.max_items = MAX_BATCH_ITEMS if batched else 1
    try:
        started = time.perf_counter()
        result = pipeline.handle(job, f"long-{batched}", lambda _: None)
    finally:
        scheduler.max_items = max_items
    return {"batched": batched, "chunks": len(result["segments"]), "tts_s": result["timings_s"]["tts"],
            "total_s": round(time.perf_counter() - started, 3), "audio_s": result["audio"]["duration_s"]}  # fmt: skip


def long_job_both_ways(pipeline: Any, voice: dict[str, str], nfe_step: int) -> dict[str, Any]:
    sequential = long_job(pipeline, voice, nfe_step, batched=False)
    batched = long_job(pipeline, voice, nfe_step, batched=True)
    return {
        "sequential": sequential,
        "batched": batched,
        "tts_speed_up": round(sequential["tts_s"] / batched["tts_s"], 2),
    }


def load_pipeline(volume: Path, device: str, full_size: bool, build: bool = True) -> Any:
    """The worker's pipeline on random-weight models written to `volume` (unless it holds them already)."""
    from scripts.tiny_volume import build_tiny_volume
    from worker.pipeline import Pipeline
    from worker.settings import Settings

    if build:
        build_tiny_volume(volume, full_size=full_size, speech_recognition=False)
    return Pipeline.load(Settings.from_env({"WORKER_VOLUME": str(volume), "WORKER_DEVICE": device,
                                            "WORKER_ASR_MODEL": "none"}))  # fmt: skip


def measure(pipeline: Any, folder: Path, concurrencies: list[int], jobs: int, nfe_step: int) -> dict[str, Any]:
    """Everything side by side in one run: a lone job, the mix at each concurrency, the long job both ways."""
    voices, concurrencies = voice_clips(folder), sorted(concurrencies)
    lone = run_mix(pipeline, job_mix(1, voices, nfe_step), 1)
    runs = [run_mix(pipeline, job_mix(jobs, voices, nfe_step), concurrency) for concurrency in concurrencies]
    first = runs[0]  # the lowest concurrency asked for (1 by default)
    for run in runs:
        run["throughput_vs_concurrency_1"] = round(run["audio_s_per_wall_s"] / first["audio_s_per_wall_s"], 2)
        run["p95_vs_lone_job"] = round(run["p95_latency_s"] / lone["p50_latency_s"], 2)
    return {"nfe_step": nfe_step, "lone_job": lone, "mix": runs,
            "long_job": long_job_both_ways(pipeline, voices[0], nfe_step)}  # fmt: skip


def markdown(figures: dict[str, Any]) -> str:
    lines = ["| concurrency | jobs | audio s / wall s | × concurrency 1 | p50 latency | p95 latency | p95 / lone job |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for run in figures["mix"]:
        lines.append(
            f"| {run['concurrency']} | {run['jobs']} | {run['audio_s_per_wall_s']} "
            f"| {run['throughput_vs_concurrency_1']} | {run['p50_latency_s']} s | {run['p95_latency_s']} s "
            f"| {run['p95_vs_lone_job']} |"
        )
    long = figures["long_job"]
    lines += ["", f"Lone job: {figures['lone_job']['p50_latency_s']} s. 5,000-character job "
              f"({long['batched']['chunks']} chunks, {long['batched']['audio_s']} s of audio): tts "
              f"{long['sequential']['tts_s']} s one chunk per call, {long['batched']['tts_s']} s batched "
              f"({long['tts_speed_up']}×)."]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-size", action="store_true", help="the released models' sizes (for a GPU)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated (default 1,4,16)")
    parser.add_argument("--jobs", type=int, default=16, help="jobs in the mix (default 16)")
    parser.add_argument("--nfe-step", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as scratch:
        pipeline = load_pipeline(Path(scratch) / "volume", args.device, args.full_size)
        concurrencies = [int(value) for value in args.concurrency.split(",")]
        figures = measure(pipeline, Path(scratch), concurrencies, args.jobs, args.nfe_step)
    print(json.dumps(figures, indent=2))
    print(markdown(figures))


if __name__ == "__main__":
    main()
