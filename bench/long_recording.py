"""Aligning a long recording with its transcript: `alignment.align_recording` vs `whisperx.align` vs
ctc-forced-aligner, with oracle emissions.

    uv run --frozen python bench/long_recording.py [--minutes 60]

The recording: passages of bench/captions_corpus.txt spoken by eSpeak NG (four voice variants, three speeds, in
turn) with pauses of 0.3–1.2 s between them and a faint noise floor, at 16 kHz, until it lasts `--minutes`; it is
cached in the temporary folder. eSpeak reports when it starts each word, so the truth is known.

The model: a stand-in for wav2vec2 whose emissions put each letter of each word on its own frame inside the
word's time as eSpeak reports it (the word delimiter on the frame after it), blank everywhere else. It finds where
the audio it is given lies in the recording by the samples themselves, so every aligner runs its real CTC path
while the model costs next to nothing; its time is measured and subtracted. Word starts are compared with the
oracle's own (its frame of each word's first letter), over the words it can spell (no digits).

Three aligners, each in a process of its own (peak memory beyond what was loaded before aligning: VmHWM after
resetting it, less VmRSS before):
- ours: `align_recording` with `Wav2Vec2Aligner` holding the stand-in model; it is told nothing but the words.
- `whisperx.align`, given each passage's true start and end as its segments (what it needs; in real use they
  would come from speech recognition, here from the oracle).
- ctc-forced-aligner (PyPI's `ctc-forced-aligner`, Deskpai's packaging of MahmoudAshraf97's code), its global CTC
  pass (`get_alignments`) over the whole recording's emissions at once, given the same oracle emissions in its
  vocabulary (its own model is an ONNX file it downloads, which cannot be fetched here); run with
  `uv run --frozen --with ctc-forced-aligner`, as it is not in the lock.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RATE_HZ = 16_000
FRAME_SAMPLES = 320  # wav2vec2: 20 ms frames
VOICES = ("en-us", "en-us+f3", "en+m3", "en-us+m7")
SPEEDS = (1.0, 0.9, 1.15)
NOISE = 0.002
VOCABULARY = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4} | {
    c: 5 + i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz'")
}
HIGH, LOW = float(np.log(0.96)), float(np.log(0.04 / 31))
CACHE_VERSION = 1
QUOTES = '"“”‘’'


def build_recording(minutes: float, path: Path) -> None:
    """Speak passages until the recording lasts `minutes`; save audio, words, their times and the passages."""
    from scipy.signal import resample_poly

    from bench.captions import read_passages
    from tts import SynthesisOptions
    from tts.espeak import EspeakSynthesizer

    espeak = EspeakSynthesizer()
    passages = read_passages(ROOT / "bench" / "captions_corpus.txt")
    rng = np.random.default_rng(0)
    pieces, words, starts, ends, sentences = [], [], [], [], []
    at_s, turn = 0.0, 0
    while at_s < minutes * 60:
        text = passages[turn % len(passages)]
        options = SynthesisOptions(language=VOICES[turn % len(VOICES)], speed=SPEEDS[turn // len(passages) % 3])
        speech = espeak.synthesize(text, None, options)
        audio = resample_poly(speech.samples, 320, 441).astype(np.float32)  # 22,050 → 16,000 Hz
        pause_s = float(rng.uniform(0.3, 1.2))
        for word in speech.word_times or ():
            words.append(word.text)
            starts.append(at_s + word.start_s)
            ends.append(at_s + word.end_s)
        sentences.append((text, at_s, at_s + len(audio) / RATE_HZ))
        pieces += [audio, np.zeros(round(pause_s * RATE_HZ), dtype=np.float32)]
        at_s += len(audio) / RATE_HZ + pause_s
        turn += 1
    recording = np.concatenate(pieces)
    recording += (rng.standard_normal(len(recording)) * NOISE).astype(np.float32)
    np.savez(path, audio=recording, starts=np.array(starts), ends=np.array(ends))
    path.with_suffix(".json").write_text(json.dumps({"words": words, "sentences": sentences}))


def oracle_emission(words: list[str], starts: np.ndarray, ends: np.ndarray, frames: int, vocabulary: dict[str, int],
                    blank: int, delimiter: str | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Log-probabilities with each word's letters on frames inside its time, and each word's first-letter frame
    (-1 for a word it cannot spell)."""
    emission = np.full((frames, len(vocabulary)), LOW, dtype=np.float32)
    emission[:, blank] = HIGH
    first_frames = np.full(len(words), -1)
    last_used = -1
    for index, word in enumerate(words):
        letters = [c for c in word.lower() if c in vocabulary and c != delimiter]
        if not letters or any(c.isdigit() for c in word):
            continue
        begin = max(round(starts[index] * RATE_HZ / FRAME_SAMPLES), last_used + 2)
        finish = max(round(ends[index] * RATE_HZ / FRAME_SAMPLES), begin + 2 * len(letters))
        step = (finish - begin) / (len(letters) + 1)
        frame = begin - 1
        for position, letter in enumerate(letters):
            frame = max(begin + round(position * step), frame + 2)  # a blank between letters: repeats stay two
            if frame >= frames:
                break
            emission[frame] = LOW
            emission[frame, vocabulary[letter]] = HIGH
            if position == 0:
                first_frames[index] = frame
        if delimiter is not None and frame + 1 < frames:
            emission[frame + 1] = LOW
            emission[frame + 1, vocabulary[delimiter]] = HIGH
        last_used = frame + 1
    return emission, first_frames


def memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_child(name: str, cache: Path) -> dict[str, Any]:
    """In the child: load the recording, run one aligner, and report time, memory and word-start errors."""
    data = np.load(cache)
    meta = json.loads(cache.with_suffix(".json").read_text())
    # Quotation marks are not spoken: wav2vec2's vocabulary has no character for them, and a word that starts with
    # one starts, for the CTC path, wherever that unknown character lands. The transcript leaves them out.
    audio, words = data["audio"], [word.strip(QUOTES) or word for word in meta["words"]]
    frames = (len(audio) - 400) // FRAME_SAMPLES + 1
    if name == "ctc-forced-aligner":
        from ctc_forced_aligner import VOCAB_DICT  # type: ignore[import-not-found]  # not in the lock: --with

        vocabulary, blank, delimiter = dict(VOCAB_DICT), VOCAB_DICT["<blank>"], None
    else:
        vocabulary, blank, delimiter = VOCABULARY, 0, "|"
    emission, first_frames = oracle_emission(words, data["starts"], data["ends"], frames, vocabulary, blank, delimiter)
    truth = first_frames * FRAME_SAMPLES / RATE_HZ
    from tests.oracle import OracleModel

    model = OracleModel(audio, emission) if name != "ctc-forced-aligner" else None
    _import_before_timing(name)
    before_kib = memory_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM, the peak
    started = time.perf_counter()
    if name == "ours":
        starts, flagged = _ours(audio, words, model)
    elif name == "whisperx":
        starts, flagged = _whisperx(audio, words, meta["sentences"], model)
    else:
        starts, flagged = _ctc_forced_aligner(words, emission)
    wall_s = time.perf_counter() - started
    peak_kib = memory_kib("VmHWM")
    errors = [
        abs(start - true_s)
        for start, true_s, missed, spelled in zip(starts, truth, flagged, first_frames >= 0, strict=True)
        if spelled and not missed and start is not None
    ]
    spelled = int((first_frames >= 0).sum())
    return {
        "audio_s": len(audio) / RATE_HZ,
        "words": len(words),
        "compared": len(errors),
        "missed": spelled - len(errors),
        "wall_s": wall_s,
        "model_s": model.seconds if model else 0.0,
        "beyond_mib": max(peak_kib - before_kib, 0) / 1024,
        "mean_ms": 1000 * statistics.mean(errors),
        "p99_ms": 1000 * float(np.percentile(errors, 99)),
        "max_ms": 1000 * max(errors),
        "within_20ms": sum(error <= 0.02 + 1e-6 for error in errors) / len(errors),
    }


def _import_before_timing(name: str) -> None:
    """Load each aligner's libraries before the clock starts: importing them is not aligning."""
    if name in ("ours", "whisperx"):
        import torch
        import torchaudio.functional  # noqa: F401

        import alignment.wav2vec2  # noqa: F401

        torch.log_softmax(torch.zeros(1, 2), dim=-1)  # torch's first call sets up its kernels
    if name == "whisperx":
        import nltk  # noqa: F401
        import whisperx  # noqa: F401
    elif name == "ctc-forced-aligner":
        import ctc_forced_aligner  # noqa: F401


def _ours(audio: np.ndarray, words: list[str], model: Any) -> tuple[list[float | None], list[bool]]:
    import torch

    from alignment.recording import align_recording
    from alignment.wav2vec2 import Wav2Vec2Aligner

    torch.set_num_threads(1)
    aligner = Wav2Vec2Aligner({"en": (model, VOCABULARY)}, "cpu")
    result = align_recording(audio, RATE_HZ, words, aligner, "en")
    for warning in result.warnings:
        print("ours:", warning, file=sys.stderr)
    return [word.start_s for word in result.words], [word.interpolated for word in result.words]


def _whisperx(
    audio: np.ndarray, words: list[str], sentences: list, model: Any
) -> tuple[list[float | None], list[bool]]:
    import nltk
    import torch
    import whisperx

    from tests.punkt import write_punkt

    torch.set_num_threads(1)
    scratch = tempfile.mkdtemp(prefix="bench-long-")
    write_punkt(Path(scratch))
    nltk.data.path.insert(0, scratch)
    segments = [  # the passages as the transcript has them, without quotation marks
        {"text": " ".join(word.strip(QUOTES) or word for word in text.split()), "start": start, "end": end}
        for text, start, end in sentences
    ]
    metadata = {"language": "en", "dictionary": VOCABULARY, "type": "huggingface"}
    result = whisperx.align(segments, model, metadata, audio, "cpu")
    aligned = [word for segment in result["segments"] for word in segment["words"]]
    if [word["word"] for word in aligned] != words:
        raise RuntimeError("whisperx.align returned other words than it was given")
    return [word.get("start") for word in aligned], ["start" not in word for word in aligned]


def _ctc_forced_aligner(words: list[str], emission: np.ndarray) -> tuple[list[float | None], list[bool]]:
    from ctc_forced_aligner import (
        VOCAB_DICT,
        Tokenizer,
        get_alignments,
        get_spans,
        postprocess_results,
    )

    emissions = np.concatenate([emission, np.zeros((len(emission), 1), dtype=np.float32)], axis=1)  # <star>, as its
    # generate_emissions adds it. Text as its preprocess_text makes it (a <star> before each word, letters spaced),
    # keeping only the characters its vocabulary has, as its load_transcript does; words left empty are skipped.
    letters = [[c for c in word.lower() if c in VOCAB_DICT and not c.startswith("<")] for word in words]
    spelled = [index for index, word in enumerate(letters) if word]
    tokens = [token for index in spelled for token in ("<star>", " ".join(letters[index]))]
    texts = [text for index in spelled for text in ("<star>", words[index])]
    segments, scores, blank = get_alignments(emissions, tokens, Tokenizer())
    spans = get_spans(tokens, segments, blank)
    results = postprocess_results(texts, spans, FRAME_SAMPLES * 1000 / RATE_HZ, scores)
    starts: list[float | None] = [None] * len(words)
    for index, result in zip(spelled, results, strict=True):
        starts[index] = result["start"]
    return starts, [start is None for start in starts]


def measure(name: str, cache: Path) -> dict[str, Any] | str:
    prefix = (
        ["uv", "run", "--frozen", "--with", "ctc-forced-aligner"]
        if name == "ctc-forced-aligner"
        else ["uv", "run", "--frozen"]
    )
    command = [*prefix, "python", __file__, "--child", name, str(cache)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["no message"])[-1]
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--only", nargs="+", default=["ours", "whisperx", "ctc-forced-aligner"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child[0], Path(args.child[1]))))
        return
    cache = Path(tempfile.gettempdir()) / f"bench-long-recording-v{CACHE_VERSION}-{args.minutes:g}min.npz"
    if not cache.exists():
        started = time.perf_counter()
        build_recording(args.minutes, cache)
        print(f"recording built in {time.perf_counter() - started:.0f} s (cached as {cache})")
    print("| aligner | audio | words compared | not placed | time beyond the model | model | peak memory beyond loaded "
          "| mean error | 99th pct | max | within 20 ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.only:
        row = measure(name, cache)
        if isinstance(row, str):
            print(f"| {name} | | | | {row} | | | | | | |")
            continue
        print(
            f"| {name} | {row['audio_s'] / 60:.1f} min | {row['compared']:,} of {row['words']:,} | {row['missed']} "
            f"| {row['wall_s'] - row['model_s']:.1f} s | {row['model_s']:.1f} s | {row['beyond_mib']:,.0f} MiB "
            f"| {row['mean_ms']:.1f} ms | {row['p99_ms']:.0f} ms | {row['max_ms']:.0f} ms "
            f"| {100 * row['within_20ms']:.1f} % |"
        )


if __name__ == "__main__":
    main()
