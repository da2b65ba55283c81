"""Signal helpers shared by the voice, speech and audio stages: finding silence, trimming it, setting levels.

Silence is judged per 10 ms frame against the loudest frame of the same clip, so the same rules work for a quiet
phone recording and a loud studio one.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.010
SILENCE_DB = -40.0  # below the loudest frame; F5-TTS's own clipping uses -40 to -50 dBFS
TARGET_RMS = 0.1  # the reference loudness F5-TTS was trained with (its infer_batch_process raises quieter clips)
PEAK_LIMIT = 0.95


def silent_runs(samples: np.ndarray, rate_hz: int, min_silence_s: float = 0.1) -> list[tuple[int, int]]:
    """[start, end) sample ranges of silence lasting at least `min_silence_s`, in order."""
    frame = max(1, int(rate_hz * FRAME_S))
    count = len(samples) // frame
    if count == 0:
        return []
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    level = np.sqrt(np.mean(frames**2, axis=1))
    loudest = float(level.max())
    if loudest == 0.0:
        return [(0, len(samples))]
    quiet = level < loudest * 10 ** (SILENCE_DB / 20)
    runs = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if (end - start) * FRAME_S >= min_silence_s - 1e-9:
            runs.append((int(start) * frame, len(samples) if end == count else int(end) * frame))
    return runs


def speech_bounds(samples: np.ndarray, rate_hz: int, pad_s: float = 0.05) -> tuple[int, int]:
    """[start, end) of the audio without leading and trailing silence, keeping `pad_s` on each side."""
    runs = silent_runs(samples, rate_hz, min_silence_s=FRAME_S)
    start, end = 0, len(samples)
    if runs and runs[0][0] == 0:
        start = runs[0][1]
    if runs and runs[-1][1] == len(samples):
        end = runs[-1][0]
    if end <= start:
        return 0, len(samples)
    pad = int(pad_s * rate_hz)
    return max(0, start - pad), min(len(samples), end + pad)


def set_rms(
    samples: np.ndarray, rate_hz: int, target_rms: float = TARGET_RMS, peak_limit: float = PEAK_LIMIT
) -> np.ndarray:
    """Scale so the sounding part (pauses left out) has `target_rms`, but never past `peak_limit`."""
    sounding = np.ones(len(samples), dtype=bool)
    for start, end in silent_runs(samples, rate_hz):
        sounding[start:end] = False
    if not sounding.any():
        return samples
    level = float(np.sqrt(np.mean(samples[sounding].astype(np.float64) ** 2)))
    peak = float(np.abs(samples).max())
    if level == 0.0 or peak == 0.0:
        return samples
    gain = min(target_rms / level, peak_limit / peak)
    return (samples * gain).astype(np.float32)
