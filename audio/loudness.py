"""Loudness (ITU-R BS.1770 / EBU R128) without clipping: the output brought to a target, and the voices of a
script brought to one level so that they do not jump from line to line."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence

import numpy as np

from common.dsp import PEAK_LIMIT

MAX_LEVELLING_GAIN_DB = 20.0
TRUE_PEAK_LIMIT = 10 ** (-1.0 / 20)  # -1 dBTP: EBU R128's ceiling, and the streaming services' (headroom for codecs)
OVERSAMPLING = 4  # as ITU-R BS.1770's true-peak meter


def normalize_loudness(
    samples: np.ndarray,
    rate_hz: int,
    target_lufs: float,
    peak_limit: float = TRUE_PEAK_LIMIT,
    written_at_hz: int | None = None,
) -> tuple[np.ndarray, str | None]:
    """Bring the integrated loudness (ITU-R BS.1770, as EBU R128 measures it) to `target_lufs`.

    A gain, then a look-ahead limiter where the gain would push the true peak (between samples, as a 4x
    oversampling meter sees it) past `peak_limit` (speech has peaks 15-20 dB above its loudness, so -16 LUFS needs
    one); the limiter only lowers short peaks, so nothing moves in time. Measured again after limiting, up to
    three rounds; a target still out of reach by more than half a unit is reported, never clipped. Loudness is
    measured as the file will hold the audio: resampled to `written_at_hz` where the file's rate differs (a lower
    rate loses the highs, which BS.1770 weighs most).
    """
    import pyloudnorm

    if len(samples) < int(0.4 * rate_hz):  # BS.1770 gates in 400 ms blocks: shorter audio has no loudness
        return samples, "audio.loudness_lufs was not applied: the audio is shorter than 0.4 s"
    heard_hz = written_at_hz or rate_hz
    meter = pyloudnorm.Meter(heard_hz)

    def loudness(audio: np.ndarray) -> float:
        if heard_hz == rate_hz:
            return float(meter.integrated_loudness(audio))
        from scipy.signal import resample_poly

        common = np.gcd(heard_hz, rate_hz)
        return float(meter.integrated_loudness(resample_poly(audio, heard_hz // common, rate_hz // common)))

    shaped = samples.astype(np.float64)
    for _ in range(3):
        measured = loudness(shaped)
        if not np.isfinite(measured):
            return samples, "audio.loudness_lufs was not applied: the audio is silent"
        if abs(measured - target_lufs) <= 0.1:
            break
        shaped = limit_peaks(shaped * 10 ** ((target_lufs - measured) / 20), rate_hz, peak_limit, true_peak=True)
    reached = loudness(shaped)
    note = None
    if abs(reached - target_lufs) > 0.5:
        note = f"audio.loudness_lufs: reached {reached:.1f} LUFS, not {target_lufs:g}, without clipping the peaks"
    return shaped.astype(np.float32), note


def limit_peaks(
    samples: np.ndarray, rate_hz: int, peak_limit: float, window_s: float = 0.005, true_peak: bool = False
) -> np.ndarray:
    """Lower the gain smoothly around every sample that would pass `peak_limit` (with `true_peak`, every sample
    whose stretch up to the next sample would, once reconstructed: `true_peaks`).

    The gain each sample needs is spread to its neighbours within `window_s` (a running minimum: the look-ahead),
    then smoothed with a running mean half as wide, which never rises above what any sample in reach needs.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    magnitude = true_peaks(samples) if true_peak else np.abs(samples)
    needed = np.minimum(1.0, peak_limit / np.maximum(magnitude, 1e-12))
    if needed.min() >= 1.0:
        return samples
    reach = max(1, int(window_s * rate_hz))
    gain = uniform_filter1d(minimum_filter1d(needed, size=2 * reach + 1, mode="nearest"), size=reach, mode="nearest")
    return samples * np.minimum(gain, needed)


def true_peaks(samples: np.ndarray) -> np.ndarray:
    """For each sample, the largest magnitude of the signal from it to the next one, as a 4x oversampling meter
    sees it (ITU-R BS.1770-4, annex 2: a 49-tap interpolation filter, 12 taps per phase between samples).

    The three points between two samples are three short convolutions of the whole signal, one per phase of the
    filter; its 24-tap half length delays each by exactly 6 samples.
    """
    interpolate = _interpolation_phases()
    magnitude = np.abs(samples).astype(np.float32)
    signal = samples.astype(np.float32)
    for phase in interpolate:
        between = np.convolve(signal, phase)[INTERPOLATION_DELAY : INTERPOLATION_DELAY + len(signal)]
        np.maximum(magnitude, np.abs(between), out=magnitude)
    return magnitude


INTERPOLATION_DELAY = 6  # samples: the filter's 24 upsampled taps before its centre


@functools.cache
def _interpolation_phases() -> tuple[np.ndarray, ...]:
    """The filter's phases 1 to 3 (phase 0 gives the samples themselves back)."""
    from scipy.signal import firwin

    taps = firwin(OVERSAMPLING * 2 * INTERPOLATION_DELAY + 1, 1 / OVERSAMPLING) * OVERSAMPLING
    return tuple(taps[phase::OVERSAMPLING].astype(np.float32) for phase in range(1, OVERSAMPLING))


def level_voices(parts: Sequence[np.ndarray], voices: Sequence[Hashable], rate_hz: int) -> list[np.ndarray]:
    """The parts with each voice's gain set so that every voice has the same integrated loudness (the median
    of theirs), measured over all of that voice's parts together; peaks limited, never clipped. A voice too short
    or too quiet to measure keeps its level, and one voice alone is left as it is."""
    if len(set(voices)) < 2:
        return list(parts)
    import pyloudnorm

    meter = pyloudnorm.Meter(rate_hz)
    loudness: dict[Hashable, float] = {}
    for voice in dict.fromkeys(voices):
        joined = np.concatenate([part for part, owner in zip(parts, voices, strict=True) if owner == voice])
        if len(joined) >= int(0.4 * rate_hz):  # BS.1770 gates in 400 ms blocks
            measured = meter.integrated_loudness(joined.astype(np.float64))
            if np.isfinite(measured):
                loudness[voice] = measured
    if len(loudness) < 2:
        return list(parts)
    target = float(np.median(list(loudness.values())))
    levelled = []
    for part, voice in zip(parts, voices, strict=True):
        if voice not in loudness:
            levelled.append(part)
            continue
        gain_db = min(target - loudness[voice], MAX_LEVELLING_GAIN_DB)  # a whisper is not made a shout of noise
        gained = part.astype(np.float64) * 10 ** (gain_db / 20)
        levelled.append(limit_peaks(gained, rate_hz, PEAK_LIMIT).astype(np.float32))
    return levelled
