"""The tiny random-weight Whisper model: built offline, loaded and run by faster-whisper's real classes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from scripts.tiny_whisper import N_MELS, SAMPLING_RATE, TRANSCRIPT, VOCAB_SIZE, build_tiny_faster_whisper

pytestmark = pytest.mark.slow

CLIP_S = 3.0


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No hub, no network: HF_HUB_OFFLINE, and any socket connection fails loudly."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        return build_tiny_faster_whisper(tmp_path_factory.mktemp("tiny-whisper"), seed=0)


def clip(seconds: float = CLIP_S) -> np.ndarray:
    """A vowel-ish tone with a little noise, float32 mono at 16 kHz, as faster-whisper takes arrays."""
    t = np.arange(int(seconds * SAMPLING_RATE)) / SAMPLING_RATE
    rng = np.random.default_rng(0)
    wave = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.1 * np.sin(2 * np.pi * 360 * t) + 0.02 * rng.standard_normal(t.size)
    return wave.astype(np.float32)


def test_folder_holds_what_faster_whisper_reads(tiny_whisper: Path) -> None:
    names = {p.name for p in tiny_whisper.iterdir()}
    assert {"model.bin", "config.json", "tokenizer.json", "preprocessor_config.json"} <= names
    assert names & {"vocabulary.json", "vocabulary.txt"}


@pytest.mark.parametrize("compute_type", ["int8", "float32"])
def test_transcribes_a_clip_offline(tiny_whisper: Path, compute_type: str) -> None:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(tiny_whisper), device="cpu", compute_type=compute_type)
    assert model.model.is_multilingual
    assert model.model.n_mels == N_MELS
    assert model.hf_tokenizer.get_vocab_size() == VOCAB_SIZE

    started = time.monotonic()
    segments, info = model.transcribe(clip(), language="en", beam_size=1, condition_on_previous_text=False)
    segments = list(segments)  # decoding happens here
    elapsed = time.monotonic() - started

    text = "".join(segment.text for segment in segments)
    assert isinstance(text, str)
    assert text == TRANSCRIPT  # the hand-set output head: one word, then <|endoftext|>
    assert info.language == "en"
    assert info.duration == pytest.approx(CLIP_S, abs=0.01)
    assert all(len(segment.tokens) <= 2 for segment in segments)  # <|0.00|> and the word: decoding stopped
    assert elapsed < 20, f"decoding took {elapsed:.1f} s"


def test_without_timestamps_and_detecting_the_language(tiny_whisper: Path) -> None:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(tiny_whisper), device="cpu", compute_type="int8")
    segments, info = model.transcribe(clip(), without_timestamps=True)  # no language: detected
    assert "".join(segment.text for segment in segments) == TRANSCRIPT
    assert info.language == "en"
    assert info.language_probability > 0.5
    assert len(info.all_language_probs or []) == 100


def test_same_seed_same_bytes(tiny_whisper: Path, tmp_path: Path) -> None:
    again = build_tiny_faster_whisper(tmp_path / "again", seed=0)
    assert (again / "model.bin").read_bytes() == (tiny_whisper / "model.bin").read_bytes()
    assert (again / "tokenizer.json").read_bytes() == (tiny_whisper / "tokenizer.json").read_bytes()
    other = build_tiny_faster_whisper(tmp_path / "other", seed=1)
    assert (other / "model.bin").read_bytes() != (tiny_whisper / "model.bin").read_bytes()
