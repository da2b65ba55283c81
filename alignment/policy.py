"""Which aligner times a job's words, and which one cuts a reference clip: pure functions of what is loaded.

`loaded` maps each loaded aligner's name to the languages it has a model for. Preference: the engine's own word
events when it has them (they are exact), else wav2vec2 for the language (accurate, any language with a model),
else PocketSphinx (English, CPU, no weights).
"""

from __future__ import annotations

from collections.abc import Mapping

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
                f"(now {now}) and restart it",
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
