"""Signal tools of the speech stage: finding silence, trimming it, shortening pauses, setting loudness.

Silence is judged per 10 ms frame against the loudest frame of the same clip, so the same rules work for a quiet
phone recording and a loud studio one. Anything that removes audio returns a `SampleMap`, so times measured in
the original (chunk spans, an engine's word times) can be carried into the shortened audio exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class SampleMap:
    """Where kept stretches of the original audio sit in the shortened audio.

    `kept[i] = (start, end)` in the original lands at `new_start[i]` in the new audio; removed stretches
    collapse to the point where the next kept stretch begins.
    """

    kept: tuple[tuple[int, int], ...]
    new_start: tuple[int, ...]
    new_length: int

    def __call__(self, sample: int) -> int:
        for (start, end), new in zip(self.kept, self.new_start, strict=True):
            if sample < start:
                return new
            if sample <= end:
                return new + sample - start
        return self.new_length

    @classmethod
    def identity(cls, length: int) -> SampleMap:
        return cls(kept=((0, length),), new_start=(0,), new_length=length)


def shorten_pauses(
    samples: np.ndarray, rate_hz: int, max_pause_s: float, edge_pad_s: float = 0.05
) -> tuple[np.ndarray, SampleMap]:
    """Shorten every silence longer than `max_pause_s` to `max_pause_s` (keeping its middle out, its edges in,
    so words keep their natural decay and onset) and trim leading/trailing silence to `edge_pad_s`."""
    keep_edge = int(max_pause_s * rate_hz) // 2
    removed: list[tuple[int, int]] = []
    for start, end in silent_runs(samples, rate_hz, min_silence_s=max_pause_s):
        if start == 0:
            removed.append((0, max(0, end - int(edge_pad_s * rate_hz))))
        elif end == len(samples):
            removed.append((min(len(samples), start + int(edge_pad_s * rate_hz)), len(samples)))
        else:
            removed.append((start + keep_edge, end - keep_edge))
    removed = [(start, end) for start, end in removed if end > start]
    if not removed:
        return samples, SampleMap.identity(len(samples))
    kept, new_start, position, cursor = [], [], 0, 0
    for start, end in removed:
        if start > cursor:
            kept.append((cursor, start))
            new_start.append(position)
            position += start - cursor
        cursor = end
    if cursor < len(samples):
        kept.append((cursor, len(samples)))
        new_start.append(position)
        position += len(samples) - cursor
    shortened = np.concatenate([samples[start:end] for start, end in kept])
    return shortened, SampleMap(kept=tuple(kept), new_start=tuple(new_start), new_length=position)


def normalize_loudness(
    samples: np.ndarray, rate_hz: int, target_lufs: float, peak_limit: float = PEAK_LIMIT
) -> tuple[np.ndarray, str | None]:
    """Bring the integrated loudness (ITU-R BS.1770, as EBU R128 measures it) to `target_lufs`.

    A gain, then a look-ahead peak limiter where the gain would push peaks past `peak_limit` (speech has
    peaks 15-20 dB above its loudness, so -16 LUFS needs one); the limiter only lowers short peaks, so nothing
    moves in time. Measured again after limiting, up to three rounds; a target still out of reach by more than
    half a unit is reported, never clipped.
    """
    import pyloudnorm

    if len(samples) < int(0.4 * rate_hz):  # BS.1770 gates in 400 ms blocks: shorter audio has no loudness
        return samples, "audio.loudness_lufs was not applied: the audio is shorter than 0.4 s"
    meter = pyloudnorm.Meter(rate_hz)
    shaped = samples.astype(np.float64)
    for _ in range(3):
        measured = meter.integrated_loudness(shaped)
        if not np.isfinite(measured):
            return samples, "audio.loudness_lufs was not applied: the audio is silent"
        if abs(measured - target_lufs) <= 0.1:
            break
        shaped = limit_peaks(shaped * 10 ** ((target_lufs - measured) / 20), rate_hz, peak_limit)
    reached = meter.integrated_loudness(shaped)
    note = None
    if abs(reached - target_lufs) > 0.5:
        note = f"audio.loudness_lufs: reached {reached:.1f} LUFS, not {target_lufs:g}, without clipping the peaks"
    return shaped.astype(np.float32), note


def limit_peaks(samples: np.ndarray, rate_hz: int, peak_limit: float, window_s: float = 0.005) -> np.ndarray:
    """Lower the gain smoothly around every sample that would pass `peak_limit`.

    The gain each sample needs is spread to its neighbours within `window_s` (a running minimum: the look-ahead),
    then smoothed with a running mean half as wide, which never rises above what any sample in reach needs.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    needed = np.minimum(1.0, peak_limit / np.maximum(np.abs(samples), 1e-12))
    if needed.min() >= 1.0:
        return samples
    reach = max(1, int(window_s * rate_hz))
    gain = uniform_filter1d(minimum_filter1d(needed, size=2 * reach + 1, mode="nearest"), size=reach, mode="nearest")
    return samples * np.minimum(gain, needed)
