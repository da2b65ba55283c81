"""A synthesis job as a plan: the segments to say, in order, and what to make of the take.

Today a job is one segment: its text, its voice, its engine and options. Several voices, pauses and audio given
by the caller each extend `Segment` and the step that reads it; the pipeline's path stays as it is (the
segments' chunks are already synthesized in shared batches: tts.batching).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from alignment import Aligner
from alignment.policy import choose_aligner
from audio import AudioOutput
from common.errors import InvalidInput
from subtitles import SubtitleFormat, SubtitleLayout
from tts import SpeechSynthesizer, SynthesisOptions
from voice import VoiceSource
from worker.contract import SynthesisJob

MAX_SEED = 2**31 - 1
# The job's tts fields an engine takes; the others (engine choice, text and pause handling) are the plan's.
ENGINE_OPTIONS = {option.name for option in fields(SynthesisOptions)} - {"seed", "language"}


@dataclass(frozen=True)
class Segment:
    """One text said in one voice with one engine and its options."""

    text: str  # as the caller wrote it
    voice: VoiceSource | None
    engine: str
    options: SynthesisOptions
    normalize_text: bool = True  # say numbers, money, dates... as words (tts.normalize)
    remove_silence: bool = False  # shorten pauses longer than max_pause_s after synthesis
    max_pause_s: float = 0.3


@dataclass(frozen=True)
class Plan:
    """A synthesis job as the pipeline's steps read it: the segments in order, and what to make of the take."""

    segments: tuple[Segment, ...]
    language: str
    seed: int  # the job's seed (chosen when it gave none), reported back for reproducing the take
    requested_aligner: str  # auto, engine or an aligner's name
    characters: bool  # character timings asked for
    subtitle_formats: tuple[SubtitleFormat, ...]
    subtitle_layout: SubtitleLayout
    audio: AudioOutput
    output_prefix: str | None
    presign_expiry_s: int

    @classmethod
    def of(cls, job: SynthesisJob, default_engine: str) -> Plan:
        """The plan of a validated job; a job without a seed gets a random one."""
        seed = job.tts.seed if job.tts.seed is not None else secrets.randbelow(MAX_SEED + 1)
        options = SynthesisOptions(**job.tts.model_dump(include=ENGINE_OPTIONS), seed=seed, language=job.language)
        segment = Segment(
            text=job.text,
            voice=None if job.voice is None else job.voice.source("voice"),
            engine=job.tts.engine or default_engine,
            options=options,
            normalize_text=job.tts.normalize_text,
            remove_silence=job.tts.remove_silence,
            max_pause_s=job.tts.max_pause_s,
        )
        return cls(
            segments=(segment,),
            language=job.language,
            seed=seed,
            requested_aligner=job.alignment.aligner,
            characters=job.alignment.characters,
            subtitle_formats=job.subtitles.formats,
            subtitle_layout=job.subtitles.layout(job.language),
            audio=AudioOutput(job.audio.format, job.audio.sample_rate_hz, job.audio.loudness_lufs),
            output_prefix=job.output.prefix,
            presign_expiry_s=job.output.presign_expiry_s,
        )

    def choose_engines(self, loaded: Mapping[str, SpeechSynthesizer]) -> list[SpeechSynthesizer]:
        """Each segment's engine, checked against the plan before any work is done."""
        return [_engine(segment, self.language, loaded) for segment in self.segments]

    def choose_aligner(self, loaded: Mapping[str, Aligner], engines: Sequence[SpeechSynthesizer]) -> str:
        """The aligner that times the take (alignment.policy), or InvalidInput when none can."""
        languages = {name: tuple(aligner.languages) for name, aligner in loaded.items()}
        engine_names = "+".join(dict.fromkeys(segment.engine for segment in self.segments))
        times_words = all(engine.times_words for engine in engines)
        return choose_aligner(
            self.requested_aligner, self.language, languages, engine_names, times_words, self.characters
        )


def _engine(segment: Segment, language: str, loaded: Mapping[str, SpeechSynthesizer]) -> SpeechSynthesizer:
    engine = loaded.get(segment.engine)
    if engine is None:
        raise InvalidInput(
            "tts.engine", f"{segment.engine!r} is not loaded on this worker (it has {', '.join(loaded)})"
        )
    if engine.needs_reference and segment.voice is None:
        raise InvalidInput(
            "voice",
            f"is required by the {segment.engine} engine: give voice.base64, voice.url, voice.s3_key or voice.name",
        )
    if not engine.speaks(language):
        raise InvalidInput("language", f"the {segment.engine} engine ({engine.name}) has no voice for {language!r}")
    return engine
