"""A loudness target's cost and its peaks: the worker's true-peak limiter vs the sample-peak limiter it replaced.

    uv run python bench/loudness.py [--minutes 10] [--runs 3] [--target -16]

eSpeak NG speaks a paragraph, repeated to `--minutes` of 24 kHz audio (F5's rate), then `normalize_loudness`
brings it to `--target` LUFS, interleaved: as shipped (each sample's true peak, 4x oversampled, under -1 dBTP)
and with the limiter seeing sample peaks only (the former behaviour, with its former -0.45 dBFS ceiling). Prints
the median time of each, their ratio, and the loudness and true peak each result reaches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "The tide came in slowly that evening, and the boats along the quay rose with it, one after another. "
    "Nobody said a word until the bell rang twice; then everyone began to talk at once, about the weather, "
    "the price of fish, and the ferry that had not come. It is always like this, said the harbour master."
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", type=float, default=-16.0)
    args = parser.parse_args()

    import pyloudnorm
    from scipy.signal import resample_poly

    import audio.loudness as loudness
    from common.dsp import PEAK_LIMIT
    from tts import SynthesisOptions
    from tts.espeak import EspeakSynthesizer

    speech = EspeakSynthesizer().synthesize(PARAGRAPH, None, SynthesisOptions(language="en"))
    rate = 24000
    once = resample_poly(speech.samples.astype(np.float64), rate, speech.sample_rate_hz).astype(np.float32)
    samples = np.tile(once, int(np.ceil(args.minutes * 60 * rate / len(once))))[: int(args.minutes * 60 * rate)]
    shipped_true_peaks = loudness.true_peaks

    def sample_peaks(samples: np.ndarray) -> np.ndarray:
        return np.abs(samples)

    def run(true_peak: bool) -> tuple[float, np.ndarray]:
        loudness.true_peaks = shipped_true_peaks if true_peak else sample_peaks  # what the limiter sees
        ceiling = loudness.TRUE_PEAK_LIMIT if true_peak else PEAK_LIMIT
        started = time.perf_counter()
        shaped, _ = loudness.normalize_loudness(samples, rate, args.target, peak_limit=ceiling)
        return time.perf_counter() - started, shaped

    times: dict[bool, list[float]] = {True: [], False: []}
    results: dict[bool, np.ndarray] = {}
    for _ in range(args.runs):
        for true_peak in (False, True):
            elapsed, results[true_peak] = run(true_peak)
            times[true_peak].append(elapsed)
    loudness.true_peaks = shipped_true_peaks

    meter = pyloudnorm.Meter(rate)
    print(f"{args.minutes:g} min of eSpeak NG speech at {rate} Hz to {args.target:g} LUFS, {args.runs} runs, median:")
    for true_peak, name in ((False, "sample-peak limiter (before)"), (True, "true-peak limiter (shipped)")):
        shaped = results[true_peak].astype(np.float64)
        peak_db = 20 * np.log10(shipped_true_peaks(shaped).max())
        print(
            f"  {name}: {statistics.median(times[true_peak]):.2f} s; "
            f"{meter.integrated_loudness(shaped):.1f} LUFS, true peak {peak_db:+.2f} dBTP"
        )
    print(f"  time ratio shipped / before: {statistics.median(times[True]) / statistics.median(times[False]):.2f}")


if __name__ == "__main__":
    main()
