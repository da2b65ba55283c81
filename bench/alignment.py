"""Alignment time beyond the wav2vec2 forward pass: ours vs `whisperx.align`, same audio, text and model.

    uv run python bench/alignment.py [--runs 3]

A tiny random-weight wav2vec2 (scripts/tiny_volume.py) keeps the forward pass cheap; it is timed on its own
and subtracted from both totals, so the figures are the alignment work itself: text preparation, the trellis,
the backtrack and word assembly. 60 s and 300 s of audio, as one segment and as 10 s segments (one per TTS
chunk, as the worker aligns). The word times of both are compared too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = "the quick brown fox jumps over a lazy dog while seven bright stars watch quietly".split()
WORDS_PER_S = 2.5


def make_spans(duration_s: float, segment_s: float):
    from alignment import TextSpan

    spans = []
    start = 0.0
    while start < duration_s - 1e-9:
        end = min(duration_s, start + segment_s)
        count = max(1, round((end - start) * WORDS_PER_S))
        text = " ".join(WORDS[(int(start) + n) % len(WORDS)] for n in range(count)) + "."
        spans.append(TextSpan(text, start, end))
        start = end
    return spans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import nltk
    import torch
    import whisperx

    from alignment.wav2vec2 import Wav2Vec2Aligner
    from scripts.tiny_volume import build_tiny_volume
    from tests.punkt import write_punkt

    torch.set_num_threads(1)  # steady timings on a small noisy machine
    scratch = tempfile.TemporaryDirectory(prefix="bench-align-")  # kept until the end: whisperx reads Punkt late
    layout = build_tiny_volume(Path(scratch.name) / "volume")
    write_punkt(Path(scratch.name) / "nltk_data")
    nltk.data.path.insert(0, str(Path(scratch.name) / "nltk_data"))
    aligner = Wav2Vec2Aligner.load({"en": layout.align_dir("en")}, "cpu")
    model, vocabulary = aligner._models["en"]
    metadata = {"language": "en", "dictionary": vocabulary, "type": "huggingface"}
    rng = np.random.default_rng(0)

    print(f"median of {args.runs} runs; times beyond the forward pass")
    columns = ("audio", "segments", "words", "forward", "whisperx", "ours", "speed-up", "max Δt")
    print(" ".join(f"{name:>9}" for name in columns))
    for duration_s in (60.0, 300.0):
        audio = (rng.standard_normal(int(16000 * duration_s)) * 0.1).astype(np.float32)
        waveform = torch.from_numpy(audio)
        for segment_s in (duration_s, 10.0):
            spans = make_spans(duration_s, segment_s)
            segments = [{"text": span.text, "start": span.start_s, "end": span.end_s} for span in spans]
            forward, theirs, ours = [], [], []
            for _ in range(args.runs):
                started = time.perf_counter()
                for span in spans:
                    aligner._log_probs(model, waveform[int(span.start_s * 16000) : int(span.end_s * 16000)])
                forward.append(time.perf_counter() - started)
                started = time.perf_counter()
                reference = whisperx.align(segments, model, metadata, audio, "cpu")
                theirs.append(time.perf_counter() - started)
                started = time.perf_counter()
                mine = aligner.align(audio, 16000, spans, "en")
                ours.append(time.perf_counter() - started)
            reference_words = [word for segment in reference["segments"] for word in segment["words"]]
            gaps = [
                max(abs(a.start_s - b["start"]), abs(a.end_s - b["end"]))
                for a, b in zip(mine, reference_words, strict=True)
                if "start" in b
            ]
            base = statistics.median(forward)
            beyond_theirs = statistics.median(theirs) - base
            beyond_ours = max(statistics.median(ours) - base, 1e-4)
            print(
                f"{duration_s:8.0f}s {len(spans):9d} {len(mine):9d} {base:8.2f}s {beyond_theirs:8.2f}s "
                f"{beyond_ours:8.3f}s {beyond_theirs / beyond_ours:8.1f}x {max(gaps) * 1000:7.0f}ms"
            )
    scratch.cleanup()


if __name__ == "__main__":
    main()
