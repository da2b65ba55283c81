"""Which aligner times a job's words, and which one cuts a reference clip: pure functions of what is loaded.

`loaded` maps each loaded aligner's name to the languages it has a model for. Preference: the engine's own word
events when it has them (they are exact), else wav2vec2 for the language (accurate, any language with a model),
else PocketSphinx (English, CPU, no weights).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from alignment import AlignedWord, Aligner, TextSpan
from common.errors import InvalidInput

ENGINE = "engine"  # the synthesizer's own word timings
PREFERENCE = ("wav2vec2", "pocketsphinx")


def choose_aligner(
    requested: str,
    language: str,
    loaded: Mapping[str, tuple[str, ...]],
    engine: str,
    engine_times_words: bool,
    characters: bool = False,
) -> str:
    """The aligner for a job (`alignment.aligner`: auto, engine or a name), decided before any audio is made so a
    job that cannot be timed fails at once. Raises InvalidInput naming the field and the fix."""
    if requested == ENGINE:
        if not engine_times_words:
            raise InvalidInput(
                "alignment.aligner", f"the {engine} engine reports no word timings: use auto or wav2vec2"
            )
        return ENGINE
    if requested == "auto":
        if engine_times_words and not characters:
            return ENGINE
        chosen = clip_aligner(language, loaded)
        if chosen is None:
            now = ",".join(loaded.get("wav2vec2", ())) or "none"
            raise InvalidInput(
                "language",
                f"no alignment model is loaded for {language!r}; add it to the worker's WORKER_ALIGN_LANGUAGES "
                f"(now {now}) and restart it, or check the code (ISO 639-1, such as en, de or zh)",
            )
        return chosen
    if requested not in loaded:
        raise InvalidInput("alignment.aligner", f"{requested} is not loaded on this worker (profile without it)")
    if language not in loaded[requested]:
        raise InvalidInput("alignment.aligner", f"{requested} has no model for {language!r}")
    return requested


def clip_aligner(language: str, loaded: Mapping[str, tuple[str, ...]]) -> str | None:
    """The best loaded aligner for `language`, or None: also what cuts a long reference clip with its
    transcript."""
    return next((name for name in PREFERENCE if language in loaded.get(name, ())), None)


def best_aligner(aligners: Mapping[str, Aligner], language: str) -> Aligner | None:
    """The loaded aligner `clip_aligner` prefers for `language`, or None: it also re-times the words an engine
    spoke as one (`alignment.retime_flagged`)."""
    name = clip_aligner(language, {name: tuple(aligner.languages) for name, aligner in aligners.items()})
    return None if name is None else aligners[name]


def clip_align(
    aligners: Mapping[str, Aligner], language: str
) -> Callable[[np.ndarray, int, str], list[AlignedWord]] | None:
    """(samples, rate, transcript) → word times for one clip in `language`, by the best loaded aligner; None when
    none is loaded for it. Cuts a long reference clip between two words."""
    aligner = best_aligner(aligners, language)
    if aligner is None:
        return None

    def align(samples: np.ndarray, rate_hz: int, transcript: str) -> list[AlignedWord]:
        return aligner.align(samples, rate_hz, [TextSpan(transcript, 0.0, len(samples) / rate_hz)], language)

    return align
