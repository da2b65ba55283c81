"""What a job can ask of its speech: a loudness target, pauses removed with true timings, and the runtime F5
runs on (device, dtype, attention kernel)."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from common.errors import ModelError
from common.ffmpeg import decode_mono
from tests.invariants import check_audio_file, check_result
from tts import ChunkSpan, Speech
from tts.dsp import without_long_pauses
from tts.runtime import Runtime, choose_runtime
from worker.contract import parse_job

pytestmark = pytest.mark.slow

# Sentences with full stops: eSpeak NG pauses after each, long enough for max_pause_s 0.1 to shorten.
TEXT = "The tide came in. The boats rose with it. Nobody on the quay said a word. Then the bell rang twice."


def local_path(url: str) -> Path:
    return Path(urlparse(url).path)


def run(pipeline, **job):  # type: ignore[no-untyped-def]
    raw = {"text": TEXT, "tts": {"engine": "espeak"}, "alignment": {"aligner": "engine"}, **job}
    return pipeline.handle(parse_job(raw), "job", lambda _: None)


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP), measured by ffmpeg's ebur128 filter: a separate
    implementation from the one the worker uses."""
    report = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    loudness = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", report)[-1])
    return loudness, float(re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", report)[-1])


def integrated_lufs(path: Path) -> float:
    return ebur128(path)[0]


@pytest.mark.parametrize("target", [-23.0, -16.0, -14.0])
def test_the_output_reaches_the_loudness_target_with_true_peaks_under_minus_1_dbtp(local_pipeline, target):
    """-14 LUFS (streaming) is louder than speech's peaks allow unlimited: the limiter works, and the true peak
    (between samples) stays under EBU R128's -1 dBTP, give or take ffmpeg's meter."""
    result = run(local_pipeline, audio={"format": "flac", "loudness_lufs": target})
    loudness, true_peak_dbtp = ebur128(local_path(result["audio"]["url"]))
    assert loudness == pytest.approx(target, abs=0.5)
    assert true_peak_dbtp <= -1.0 + 0.2
    assert not [warning for warning in result["warnings"] if "loudness" in warning]


@pytest.mark.parametrize(("audio_format", "rate_hz"), [("wav", 8000), ("mp3", 11025)])
def test_the_loudness_target_holds_in_a_file_written_at_another_rate(local_pipeline, voice_clip, audio_format, rate_hz):
    """Measured as the file holds the audio: the tiny random F5 makes bright noise, most of whose loudness a low
    rate cuts away (a target met at the engine's 24 kHz came out 5 LU short at 8 kHz)."""
    voice = {"base64": base64.b64encode(voice_clip.read_bytes()).decode(), "text": "A short hum."}
    job = {"text": "Loud enough at any rate.", "voice": voice, "tts": {"nfe_step": 4}}
    audio = {"format": audio_format, "sample_rate_hz": rate_hz, "loudness_lufs": -23.0}
    result = local_pipeline.handle(parse_job({**job, "audio": audio}), "rate", lambda _: None)
    assert result["audio"]["sample_rate_hz"] == rate_hz
    assert integrated_lufs(local_path(result["audio"]["url"])) == pytest.approx(-23.0, abs=0.5)
    assert not [warning for warning in result["warnings"] if "loudness" in warning]


def test_the_true_peak_meter_sees_between_samples_and_where():
    from audio.loudness import true_peaks

    rate = 48_000
    time_s = np.arange(rate) / rate
    quarter_rate = np.sin(2 * np.pi * rate / 4 * time_s + np.pi / 4)  # every sample at 0.707 of the wave's peak
    assert np.abs(quarter_rate).max() == pytest.approx(0.7071, abs=1e-3)
    assert true_peaks(quarter_rate)[100:-100].max() == pytest.approx(1.0, abs=0.01)
    tone = np.sin(2 * np.pi * 1000 * time_s + 0.3)
    assert true_peaks(tone).max() == pytest.approx(1.0, abs=0.005)
    click = np.zeros(2000)
    click[1000], click[1001] = 1.0, -1.0  # rings between the samples on either side, symmetrically, and only there
    envelope = true_peaks(click)
    assert envelope[999] == pytest.approx(envelope[1001]) and envelope[999] > 1.0
    assert envelope[:990].max() < 0.05 and envelope[1012:].max() < 0.05


def test_a_target_the_peaks_do_not_allow_stops_short_and_says_so(local_pipeline):
    result = run(local_pipeline, audio={"format": "wav", "loudness_lufs": -5.0})
    peak = np.abs(decode_mono(local_path(result["audio"]["url"]), 22050, 60)).max()
    assert peak <= 0.96  # never clipped
    assert any("not -5" in warning for warning in result["warnings"])


def test_removing_silence_shortens_the_audio_and_every_word_is_timed_where_it_sounds(local_pipeline):
    plain = check_result(run(local_pipeline), TEXT)
    shortened = check_result(run(local_pipeline, tts={"engine": "espeak", "remove_silence": True,
                                                      "max_pause_s": 0.1}), TEXT)  # fmt: skip
    assert shortened.audio.duration_s < plain.audio.duration_s - 0.3
    check_audio_file(local_path(shortened.audio.url), shortened.audio.sample_rate_hz, shortened.audio.duration_s)
    rate = shortened.audio.sample_rate_hz
    samples = decode_mono(local_path(shortened.audio.url), rate, 60)
    loud = float(np.sqrt(np.mean(samples**2)))
    for word in shortened.words:
        inside = samples[int(word.start_s * rate) : int(word.end_s * rate)]
        assert len(inside) > 0 and np.sqrt(np.mean(inside**2)) > 0.1 * loud, word  # the word sounds where timed
    # The gaps between sentences are at most the pause asked for (plus eSpeak's own word-edge timing slack).
    sentence_ends = [i for i, word in enumerate(shortened.words[:-1]) if word.text.endswith(".")]
    for i in sentence_ends:
        assert shortened.words[i + 1].start_s - shortened.words[i].end_s <= 0.1 + 0.05


def test_removing_silence_carries_every_chunk_span_into_the_shortened_audio():
    """Three chunks, each a tone with long silences around it: after shortening, the spans still tile the audio
    and each span still holds its own tone, whole."""
    rate = 24_000
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(rate // 2) / rate)).astype(np.float32)
    gap = np.zeros(rate, dtype=np.float32)
    pieces = [gap, tone, gap, gap, tone, gap, tone, gap]
    samples = np.concatenate(pieces)
    bounds = [0, 2 * rate + rate // 2, 4 * rate, len(samples)]  # chunk boundaries inside the silences
    chunks = tuple(ChunkSpan(f"chunk {i}", bounds[i], bounds[i + 1]) for i in range(3))
    shortened = without_long_pauses(Speech(samples, rate, chunks), max_pause_s=0.2)
    spans = shortened.chunks
    assert len(shortened.samples) < len(samples) - 4 * rate
    assert spans[0].start_sample == 0 and spans[-1].end_sample == len(shortened.samples)
    assert all(a.end_sample == b.start_sample for a, b in zip(spans, spans[1:], strict=False))
    assert [span.text for span in spans] == ["chunk 0", "chunk 1", "chunk 2"]
    for span in spans:
        inside = shortened.samples[span.start_sample : span.end_sample]
        assert np.count_nonzero(np.abs(inside) > 0.01) >= 0.9 * np.count_nonzero(np.abs(tone) > 0.01)


@pytest.mark.parametrize(
    ("device", "dtype", "capability", "bf16", "flash", "expected"),
    [
        ("cpu", "auto", None, False, True, Runtime("cpu", "float32", "torch")),
        ("cuda", "auto", (9, 0), True, True, Runtime("cuda", "float16", "flash_attn")),  # H100/H200
        ("cuda", "auto", (8, 6), True, False, Runtime("cuda", "float16", "torch")),  # no flash-attn wheel
        ("cuda", "auto", (7, 5), False, True, Runtime("cuda", "float16", "torch")),  # T4: flash-attn 2 needs 8.0
        ("cuda", "auto", (6, 1), False, True, Runtime("cuda", "float32", "torch")),  # no tensor cores
        ("cuda", "bfloat16", (8, 0), True, True, Runtime("cuda", "bfloat16", "flash_attn")),
        ("cuda", "float32", (9, 0), True, True, Runtime("cuda", "float32", "torch")),  # flash-attn is half only
    ],
)
def test_the_runtime_follows_the_machine(device, dtype, capability, bf16, flash, expected):
    assert choose_runtime(device, dtype, capability, bf16, flash) == expected


@pytest.mark.parametrize(
    ("device", "dtype", "capability", "bf16", "message"),
    [
        ("cpu", "float16", None, False, "not supported on the CPU"),
        ("cuda", "bfloat16", (7, 5), False, "this GPU has no bfloat16"),
    ],
)
def test_a_runtime_the_machine_cannot_give_is_a_clear_error(device, dtype, capability, bf16, message):
    with pytest.raises(ModelError, match=message):
        choose_runtime(device, dtype, capability, bf16, False)


def test_f5_loads_in_the_runtimes_dtype_with_its_attention_kernel(loaded_models):
    model = loaded_models.engines["f5"]._model
    assert {parameter.dtype for parameter in model.parameters()} == {__import__("torch").float32}
    backends = {block.attn.processor.attn_backend for block in model.transformer.transformer_blocks}
    assert backends == {"torch"}
