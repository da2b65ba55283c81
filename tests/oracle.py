"""A wav2vec2 stand-in that hears exactly what a recording holds, and synthetic recordings with its emissions.

`OracleModel(recording, emission)(waveform).logits` are the rows of `emission` (log-probabilities: each word's
letters on frames inside the word's time, blank elsewhere) for wherever `waveform` lies in `recording`, found by
the samples themselves (a fingerprint of 32 samples every 10 ms); a waveform it cannot place gets blank rows. The
worker's aligner (`alignment.wav2vec2.Wav2Vec2Aligner`: its windows, its listening, its CTC path) runs on it
unchanged, so what is tested is the worker's code, with the truth known exactly and the model's time counted apart.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import numpy as np

RATE_HZ = 16_000
FRAME_SAMPLES = 320  # wav2vec2 at 16 kHz: 20 ms frames
RECEPTIVE_SAMPLES = 400  # … each seeing 25 ms
VOCABULARY = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
for _letter in "abcdefghijklmnopqrstuvwxyz'":
    VOCABULARY[_letter] = len(VOCABULARY)
HIGH, LOW = float(np.log(0.96)), float(np.log(0.04 / (len(VOCABULARY) - 1)))
BOTH, TEXT_ONLY, AUDIO_ONLY = "both", "text only", "audio only"


class OracleModel:
    """wav2vec2's interface: `model(waveform).logits`, the oracle's rows for that stretch of the recording."""

    def __init__(self, recording: np.ndarray, emission: np.ndarray, blank_id: int = 0) -> None:
        self.emission, self.blank_id = emission, blank_id
        self.places = {recording[at : at + 32].tobytes(): at for at in range(0, len(recording) - 32, 160)}
        self.seconds, self.calls = 0.0, 0

    def __call__(self, waveform: Any) -> SimpleNamespace:
        import torch

        started = time.perf_counter()
        samples = waveform.reshape(-1).cpu().numpy().astype(np.float32)
        offset = None
        for shift in range(min(160, len(samples) - 32)):
            place = self.places.get(samples[shift : shift + 32].tobytes())
            if place is not None:
                offset = place - shift
                break
        frames = max((len(samples) - RECEPTIVE_SAMPLES) // FRAME_SAMPLES + 1, 1)
        blank = np.full(self.emission.shape[1], self.emission.min(), dtype=np.float32)
        blank[self.blank_id] = self.emission.max()
        logits = np.tile(blank, (frames, 1))
        if offset is not None:
            # Rounded half up, the same way for every frame (numpy's round would alternate at half a frame).
            rows = np.floor((offset + FRAME_SAMPLES * np.arange(frames)) / FRAME_SAMPLES + 0.5).astype(int)
            inside = (rows >= 0) & (rows < len(self.emission))
            logits[inside] = self.emission[rows[inside]]
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return SimpleNamespace(logits=torch.from_numpy(logits).unsqueeze(0))


def synthetic_recording(sentences: list[list[str]], where: list[str], seed: int = 0):  # type: ignore[no-untyped-def]
    """Noise bursts where words are, pauses between sentences, a faint noise floor; the oracle emission with each
    letter on a frame inside its word; the transcript (the sentences not AUDIO_ONLY) and each transcript word's true
    start (its first letter's frame; None for TEXT_ONLY words)."""
    rng = np.random.default_rng(seed)
    at_s = 0.5
    bursts: list[tuple[float, float]] = []
    letters: list[tuple[int, str]] = []
    transcript: list[str] = []
    truth: list[float | None] = []
    for sentence, place in zip(sentences, where, strict=True):
        if place != AUDIO_ONLY:
            transcript += sentence
        if place == TEXT_ONLY:
            truth += [None] * len(sentence)
            continue
        for word in sentence:
            duration_s = 0.08 * len(word) + 0.06
            frame = round(at_s / 0.02)
            bursts.append((at_s, at_s + duration_s))
            word_letters = [c for c in word.lower() if c in VOCABULARY]
            for position, letter in enumerate(word_letters):
                letters.append((frame + 2 * position, letter))
            letters.append((frame + 2 * len(word_letters), "|"))
            if place == BOTH:
                truth.append(frame * 0.02)
            at_s += duration_s + 0.03
        at_s += float(rng.uniform(0.4, 1.2))
    audio = (rng.standard_normal(round((at_s + 0.5) * RATE_HZ)) * 0.001).astype(np.float32)
    for start_s, end_s in bursts:
        first, last = round(start_s * RATE_HZ), round(end_s * RATE_HZ)
        audio[first:last] += (rng.standard_normal(last - first) * 0.1).astype(np.float32)
    frames = len(audio) // FRAME_SAMPLES + 1
    emission = np.full((frames, len(VOCABULARY)), LOW, dtype=np.float32)
    emission[:, 0] = HIGH
    for frame, letter in letters:
        emission[frame] = LOW
        emission[frame, VOCABULARY[letter]] = HIGH
    return audio, emission, transcript, truth


def random_sentences(count: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    alphabet = list("abcdefghijklmnopqrstuvwxyz")
    sentences = []
    for _ in range(count):
        words = ["".join(rng.choice(alphabet, size=int(rng.integers(2, 9)))) for _ in range(int(rng.integers(6, 16)))]
        words[-1] += "."
        sentences.append(words)
    return sentences
