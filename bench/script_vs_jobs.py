"""A 100-line, two-speaker script sent as one job, against the same lines sent as 100 separate jobs.

    uv run python bench/script_vs_jobs.py [--runs 3] [--lines 100] [--nfe-step 8]

Two engines, each through one loaded pipeline writing to the same local output folder: tiny random-weight F5
(scripts/tiny_volume.py, loaded by the worker's start-up code on the CPU; two reference clips, sine tones at two
pitches, with transcripts; wav2vec2 times the words) and eSpeak NG (voice variants en+m3 and en+f3; it times its
own words). The script alternates host and guest and pauses 0.3 s after every 10th line (not after the last);
the anchor is the same lines as text jobs, one after another as a worker at concurrency 1 serves them, each in
its line's voice with the same options and the seed the script gives that line (so F5 says the same audio), no
pauses. Both sides write mp3 and every subtitle format. Each engine is warmed up with one untimed job, then the
two sides alternate which goes first, `--runs` times; reported: medians, the ratio, the script job's stages
(`timings_s`) and the 100 jobs' stages summed, and a check that both said the same words.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.throughput import voice_clips  # noqa: E402
from worker.pipeline import STAGES  # noqa: E402
from worker.plan import MAX_SEED, SEGMENT_SEED_STRIDE  # noqa: E402

SEED = 1
PAUSE_S = 0.3
PAUSE_EVERY = 10  # lines
SPEAKER_NAMES = ("host", "guest")
# Twenty templates, filled from the lists below so that 100 lines are all different (numbers, times and money
# included: both sides normalize them the same way).
TEMPLATES = (
    "Welcome back to the show, where this week we talk about {topic}.",
    "I spent last {day} in {place}, and it rained the whole time.",
    "Did you know that {place} has {number} bridges?",
    "That is a fair point, but what about {topic}?",
    "My grandmother always said that {topic} was overrated.",
    "We will take a short break, then call our friends in {place}.",
    "Honestly, I never thought about {topic} that way.",
    "The first train to {place} leaves at {hour} in the morning.",
    "A ticket costs ${number}, which is more than it used to.",
    "Let me read a letter from a listener in {place}.",
    "Is that really true about {topic}, or just a story?",
    "Our guest today wrote a book about {topic}.",
    "I counted {number} birds on the roof last {day}.",
    "So what brought you to {place} in the first place?",
    "Nobody expects {topic} to be this interesting.",
    "Let us talk about {topic} after the news.",
    "The museum in {place} opens at {hour} on {day}.",
    "That reminds me of a summer I spent in {place}.",
    "Thanks for listening, and see you next {day}.",
    "Here is a question: why do we care about {topic}?",
)
TOPICS = ("old maps", "river boats", "city gardens", "night trains", "lighthouses")
PLACES = ("Lisbon", "Oslo", "Kyoto", "Toronto", "Cape Town")
DAYS = ("Monday", "Tuesday", "Friday", "Saturday", "Sunday")
NUMBERS = (3, 12, 27, 40, 115)
HOURS = ("six", "seven", "half past eight", "nine", "ten")
CLIPS = ((150, "A low and steady hum that lasts three seconds."), (260, "A higher tone, held evenly to the end."))
ESPEAK_VOICES = ({"espeak": "en+m3"}, {"espeak": "en+f3"})
OUTPUT: dict[str, Any] = {"audio": {"format": "mp3"}}  # and every subtitle format, the default


def script_lines(count: int) -> list[dict[str, str]]:
    """`count` different short lines, host and guest in turn."""
    lines = []
    for index in range(count):
        fill = index // len(TEMPLATES)
        values = {"topic": TOPICS, "place": PLACES, "day": DAYS, "number": NUMBERS, "hour": HOURS}
        # Each slot shifts by a different step, so the same template never comes back with the same words.
        text = TEMPLATES[index % len(TEMPLATES)].format(
            **{name: options[(fill * (step + 1) + index) % len(options)] for step, (name, options) in
               enumerate(values.items())}
        )  # fmt: skip
        lines.append({"speaker": SPEAKER_NAMES[index % 2], "text": text})
    return lines


def script_job(lines: list[dict[str, str]], voices: dict[str, dict[str, str]], tts: dict[str, Any]) -> dict[str, Any]:
    """The lines as one script, with a pause after every `PAUSE_EVERY`th line but the last."""
    items: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        items.append(line)
        if number % PAUSE_EVERY == 0 and number < len(lines):
            items.append({"pause_s": PAUSE_S})
    return {
        "script": items,
        "speakers": {name: {"voice": voice} for name, voice in voices.items()},
        "tts": {**tts, "seed": SEED},
        **OUTPUT,
    }


def separate_jobs(
    lines: list[dict[str, str]], voices: dict[str, dict[str, str]], tts: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each line as a text job in its speaker's voice, seeded as the script seeds that line (worker.plan)."""
    return [
        {"text": line["text"], "voice": voices[line["speaker"]],
         "tts": {**tts, "seed": (SEED + index * SEGMENT_SEED_STRIDE) % (MAX_SEED + 1)}, **OUTPUT}
        for index, line in enumerate(lines)
    ]  # fmt: skip


def run_job(pipeline: Any, raw: dict[str, Any], job_id: str) -> dict[str, Any]:
    from worker.contract import parse_job

    return pipeline.handle(parse_job(raw), job_id, lambda _: None)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def measure(
    pipeline: Any, engine: str, voices: dict[str, dict[str, str]], tts: dict[str, Any], count: int, runs: int
) -> dict[str, Any]:
    """The script job and the separate jobs, alternating which goes first; medians, stages and the words check."""
    lines = script_lines(count)
    script, jobs = script_job(lines, voices, tts), separate_jobs(lines, voices, tts)
    ids = itertools.count()
    run_job(pipeline, jobs[0], f"{engine}-warm-up")  # first model calls, first ffmpeg: not timed
    script_s, jobs_s, ratios = [], [], []
    script_stages: list[dict[str, float]] = []
    jobs_stages: list[dict[str, float]] = []
    script_result: dict[str, Any] = {}
    job_results: list[dict[str, Any]] = []
    for run in range(runs):
        sides = ["script", "jobs"] if run % 2 == 0 else ["jobs", "script"]
        for side in sides:
            if side == "script":
                wall_s, script_result = timed(lambda: run_job(pipeline, script, f"{engine}-script-{next(ids)}"))
                script_s.append(wall_s)
                script_stages.append(script_result["timings_s"])
            else:
                wall_s, job_results = timed(
                    lambda: [run_job(pipeline, job, f"{engine}-job-{next(ids)}") for job in jobs]
                )
                jobs_s.append(wall_s)
                jobs_stages.append({stage: sum(r["timings_s"][stage] for r in job_results) for stage in STAGES})
        ratios.append(script_s[-1] / jobs_s[-1])
        print(f"  {engine} run {run + 1}: script {script_s[-1]:.2f} s, jobs {jobs_s[-1]:.2f} s", file=sys.stderr)

    script_words = [(word["text"], word["speaker"]) for word in script_result["words"]]
    job_words = [
        (word["text"], line["speaker"]) for line, result in zip(lines, job_results, strict=True)
        for word in result["words"]
    ]  # fmt: skip
    pauses_s = PAUSE_S * ((count - 1) // PAUSE_EVERY)
    return {
        "engine": engine,
        "lines": count,
        "characters": sum(len(line["text"]) for line in lines),
        "runs": runs,
        "script_s": [round(value, 3) for value in script_s],
        "jobs_s": [round(value, 3) for value in jobs_s],
        "script_median_s": round(statistics.median(script_s), 3),
        "jobs_median_s": round(statistics.median(jobs_s), 3),
        "script_over_jobs": round(statistics.median(ratios), 3),
        "script_over_jobs_range": [round(min(ratios), 3), round(max(ratios), 3)],
        "script_stages_s": {s: round(statistics.median(r[s] for r in script_stages), 3) for s in [*STAGES, "total"]},
        "jobs_stages_sum_s": {s: round(statistics.median(r[s] for r in jobs_stages), 3) for s in STAGES},
        "same_words": script_words == job_words,
        "words": len(script_words),
        "interpolated_words": {
            "script": sum(w["interpolated"] for w in script_result["words"]),
            "jobs": sum(w["interpolated"] for r in job_results for w in r["words"]),
        },
        "script_audio_s": script_result["audio"]["duration_s"],
        "jobs_audio_s_plus_pauses": round(sum(r["audio"]["duration_s"] for r in job_results) + pauses_s, 3),
        "aligner": script_result["models"]["aligner"],
        "warnings": script_result["warnings"],
    }


def markdown(figures: list[dict[str, Any]]) -> str:
    rows = [
        "| engine | lines | script job (median) | separate jobs (median) | script / jobs (range) | audio "
        "| words the same | interpolated words: script, jobs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        low, high = f["script_over_jobs_range"]
        rows.append(
            f"| {f['engine']} | {f['lines']} | {f['script_median_s']} s | {f['jobs_median_s']} s "
            f"| **{f['script_over_jobs']}** ({low}–{high}) | {f['script_audio_s']} s "
            f"| {'yes' if f['same_words'] else 'NO'} ({f['words']}) "
            f"| {f['interpolated_words']['script']}, {f['interpolated_words']['jobs']} |"
        )
    rows += ["", "| engine | side | " + " | ".join(STAGES) + " | total |", "|---|---|" + "---|" * (len(STAGES) + 1)]
    for f in figures:
        script, jobs = f["script_stages_s"], f["jobs_stages_sum_s"]
        rows.append(f"| {f['engine']} | script job | " + " | ".join(f"{script[s]}" for s in STAGES)
                    + f" | {script['total']} |")  # fmt: skip
        rows.append(f"| {f['engine']} | {f['lines']} jobs, summed | " + " | ".join(f"{jobs[s]}" for s in STAGES)
                    + f" | {round(sum(jobs.values()), 3)} |")  # fmt: skip
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--nfe-step", type=int, default=8, help="F5's flow-matching steps (default 8)")
    parser.add_argument("--engines", default="f5,espeak", help="comma-separated (default f5,espeak)")
    args = parser.parse_args()

    from scripts.tiny_volume import build_tiny_volume
    from tts.espeak import EspeakSynthesizer
    from tts.f5 import F5Synthesizer
    from worker.pipeline import Pipeline
    from worker.settings import Settings

    figures = []
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-script-") as scratch:
        folder = Path(scratch)
        volume, output = folder / "volume", folder / "output"
        build_tiny_volume(volume, speech_recognition=False)  # transcripts are given: nothing to transcribe
        f5 = Pipeline.load(
            Settings.from_env({"WORKER_VOLUME": str(volume), "WORKER_DEVICE": "cpu", "WORKER_ASR_MODEL": "none",
                               "WORKER_OUTPUT_DIR": str(output)})
        )  # fmt: skip
        if "f5" in engines:
            clips = dict(zip(SPEAKER_NAMES, voice_clips(folder, CLIPS), strict=True))
            tts = {"engine": "f5", "nfe_step": args.nfe_step}
            figures.append(measure(f5, "f5", clips, tts, args.lines, args.runs))
            f5_engine = cast(F5Synthesizer, f5.engines["f5"])  # the loaded F5 engine, for its scheduler's record
            figures[-1]["batch_sizes"] = sorted(set(f5_engine.scheduler.batch_sizes))
        if "espeak" in engines:
            espeak = Pipeline({"espeak": EspeakSynthesizer()}, {}, f5.storage, default_engine="espeak")
            espeak_voices = dict(zip(SPEAKER_NAMES, ESPEAK_VOICES, strict=True))
            figures.append(measure(espeak, "espeak", espeak_voices, {"engine": "espeak"}, args.lines, args.runs))
    print(json.dumps(figures, indent=2))
    print(markdown(figures))


if __name__ == "__main__":
    main()
