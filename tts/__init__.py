"""Speech synthesis: text in a reference voice → audio, with the sample span of every text chunk.

`SpeechSynthesizer` is the interface the pipeline uses: `tts.f5.F5Synthesizer` clones the reference voice with
F5-TTS; `tts.espeak.EspeakSynthesizer` speaks with eSpeak NG anywhere, without weights, and times its own words.
What an engine can do is stated by its capabilities (`needs_reference`, `times_words`, `speaks(language)`), so
the pipeline never asks which engine it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from alignment import AlignedWord
from common.errors import InternalError, ModelError
from voice import ReferenceVoice

__all__ = ["ChunkSpan", "Speech", "SpeechSynthesizer", "SynthesisOptions"]


@dataclass(frozen=True)
class SynthesisOptions:
    speed: float = 1.0
    nfe_step: int = 32
    cfg_strength: float = 2.0
    sway_sampling_coef: float = -1.0
    seed: int = 0
    cross_fade_s: float = 0.15
    language: str = "en"
    voice_name: str | None = None  # an engine's own voice, for engines that do not clone (eSpeak NG: "en+f3")


@dataclass(frozen=True)
class ChunkSpan:
    """One piece of text generated in one model call, and where it sits in the final audio.

    An engine's spans tile its audio: the first starts at 0, each starts where the previous ends, the last ends at
    the final sample. A boundary inside a cross-fade lies at the middle of the fade. In a take, the pauses between
    lines and at <break> tags belong to no span.
    """

    text: str
    start_sample: int
    end_sample: int


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # mono float32
    sample_rate_hz: int
    chunks: tuple[ChunkSpan, ...]
    word_times: tuple[AlignedWord, ...] | None = None  # engines that know when each word is spoken say so

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz

    def check_covers(self, text: str) -> Speech:
        """This speech, after checking that its chunks say exactly `text`'s words and that it has audio."""
        chunk_words = [word for chunk in self.chunks for word in chunk.text.split()]
        if chunk_words != text.split():
            raise InternalError("the text chunks do not add up to the text; please report this")
        if len(self.samples) == 0:
            raise ModelError("the speech model produced no audio for this text")
        return self


class SpeechSynthesizer(Protocol):
    name: str
    sample_rate_hz: int
    needs_reference: bool  # clones a reference voice (F5-TTS) rather than speaking in its own (eSpeak NG)
    times_words: bool  # reports when it speaks each word (`Speech.word_times`)
    # The languages its model was trained on, where known: it reads others, but hardly intelligibly (a warning says
    # so). None: no such limit is known (a fine-tuned checkpoint; an engine whose `speaks` says it all).
    trained_languages: tuple[str, ...] | None

    def speaks(self, language: str) -> bool:
        """Whether it can speak text in `language` (a code such as en or zh)."""
        ...

    def synthesize(self, text: str, voice: ReferenceVoice | None, options: SynthesisOptions) -> Speech: ...
