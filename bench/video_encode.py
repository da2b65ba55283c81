"""Encode time of a finished video: 60 s of speech at 1080x1920 with karaoke captions, on this machine.

    uv run --frozen python bench/video_encode.py [--runs 3] [--seconds 60] [--presets veryfast,ultrafast]

The speech is a generated 60 s WAV (a vowel-like tone, mono 24 kHz, as F5 writes), the captions an ASS of about
150 words (2.5 a second, in the pace of speech) in the shorts preset, three words a cue, rendered at 1080x1920.
`video.render_with` makes the video on the solid-colour background, then on a 1920x1080 JPEG (cropped and scaled
to cover the frame), with each x264 preset of `--presets` (the first is the worker's own; the others swap it in
`commands.ENCODER_ARGS`, for comparison), and with NVENC where `nvenc_available()`. It prints the median wall
time of `--runs` (after one untimed warm-up; a render includes the poster), the speed (seconds of video per
second of wall time) and the output's size; last, the time to draw the same frames (colour and libass) with no
encoder at all, the part of the work NVENC would not take off the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from subtitles import PRESETS, SubtitleLayout, TimedWord, build_cues, render_ass  # noqa: E402
from video import VideoSpec, commands, nvenc_available, render_with  # noqa: E402
from video.commands import Encoder  # noqa: E402

RESOLUTION = (1080, 1920)
WORDS_PER_S = 2.5
WORKER_X264 = list(commands.ENCODER_ARGS["libx264"])
TEXT = (
    "Captions light up exactly when each word is spoken so the video and the voice never drift apart and "
    "every viewer can follow along even with the sound turned off on a busy train"
).split()


def make_inputs(folder: Path, seconds: float) -> tuple[Path, Path, Path]:
    """The speech WAV, its ASS at 1080x1920 (shorts preset, three words a cue) and a 1920x1080 JPEG background."""
    speech = folder / "speech.wav"
    tone = f"aevalsrc='0.3*sin(2*PI*(180+8*sin(2*PI*5*t))*t)+0.02*random(0)':s=24000:d={seconds}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", tone, str(speech)], check=True)
    count = int(seconds * WORDS_PER_S)
    words = [
        TimedWord(TEXT[index % len(TEXT)], index / WORDS_PER_S + 0.05, (index + 0.8) / WORDS_PER_S)
        for index in range(count)
    ]
    layout = SubtitleLayout(resolution=RESOLUTION, style=PRESETS["shorts"], max_words_per_cue=3)
    subtitles = folder / "captions.ass"
    ass_text = render_ass(build_cues(words, layout, audio_duration_s=seconds), layout, audio_duration_s=seconds)
    subtitles.write_text(ass_text, encoding="utf-8-sig")
    image = folder / "background.jpg"
    gradient = "gradients=s=1920x1080:c0=0x2b3a55:c1=0x6b7f99:seed=7"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", gradient, "-frames:v", "1", str(image)],
                   check=True)  # fmt: skip
    print(f"inputs: {seconds:.0f} s of speech, {count} words, {len(build_cues(words, layout))} cues")
    return speech, subtitles, image


def measure(
    encoder: Encoder, speech: Path, subtitles: Path, spec: VideoSpec, runs: int, folder: Path
) -> tuple[float, list[float], int]:
    """Median and all wall times of `runs` renders, and the output's size in bytes."""
    times = []
    size = 0
    for run in range(runs):
        work_dir = folder / f"run{run}"
        work_dir.mkdir(exist_ok=True)
        started = time.perf_counter()
        files = render_with(encoder, speech, subtitles, spec, poster_at_s=1.0, work_dir=work_dir, timeout_s=3600)
        elapsed = time.perf_counter() - started
        assert files.encoder == encoder, f"{encoder} failed and {files.encoder} made the video"
        size = files.video.stat().st_size
        times.append(elapsed)
    return statistics.median(times), times, size


def pictures_only(speech: Path, subtitles: Path, runs: int) -> tuple[float, list[float]]:
    """Wall times of drawing the frames (colour, libass) with no encoder: what NVENC cannot take off the CPU."""
    duration_s = float(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(speech)],
            capture_output=True, check=True, text=True,
        ).stdout
    )  # fmt: skip
    graph = commands.filtergraph(RESOLUTION, 30, "101010", duration_s, subtitles, None)
    command = ["ffmpeg", "-v", "error", "-filter_complex", graph, "-map", "[video]", "-f", "null", "-"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def with_preset(preset: str) -> list[str]:
    """The worker's x264 options with another preset."""
    options = list(WORKER_X264)
    options[options.index("-preset") + 1] = preset
    return options


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--presets", default="veryfast,ultrafast", help="x264 presets, the worker's first")
    args = parser.parse_args()
    setups: list[tuple[str, Encoder, list[str]]] = [
        (f"libx264 {preset}", "libx264", with_preset(preset)) for preset in args.presets.split(",")
    ]
    if nvenc_available():
        setups.insert(0, ("h264_nvenc p4", "h264_nvenc", commands.ENCODER_ARGS["h264_nvenc"]))
    else:
        print("NVENC: not available here (no h264_nvenc, or its test encode failed)")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        speech, subtitles, image = make_inputs(folder, args.seconds)
        measure(setups[0][1], speech, subtitles, VideoSpec(resolution=RESOLUTION), 1, folder)  # warm-up, untimed
        print("| encoder | background | median | runs | speed (video s / wall s) | size |")
        print("|---|---|---|---|---|---|")
        for name, encoder, options in setups:
            commands.ENCODER_ARGS[encoder] = options
            for background, spec in (
                ("colour", VideoSpec(resolution=RESOLUTION)),
                ("image", VideoSpec(resolution=RESOLUTION, background_image=image)),
            ):
                median, times, size = measure(encoder, speech, subtitles, spec, args.runs, folder)
                runs = ", ".join(f"{value:.1f}" for value in times)
                print(f"| {name} | {background} | {median:.1f} s | {runs} | {args.seconds / median:.2f}× | "
                      f"{size / 1e6:.2f} MB |")  # fmt: skip
        commands.ENCODER_ARGS["libx264"] = WORKER_X264
        median, times = pictures_only(speech, subtitles, args.runs)
        runs = ", ".join(f"{value:.1f}" for value in times)
        speed = args.seconds / median
        print(f"| none (frames drawn, not encoded) | colour | {median:.1f} s | {runs} | {speed:.2f}× | |")


if __name__ == "__main__":
    main()
