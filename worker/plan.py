"""A synthesis job as a plan: the segments to say, in order, and what to make of the take.

Today a job is one segment: its text, its voice, its engine and options. Several voices, pauses, audio given
by the caller and batched synthesis each extend `Segment` and the step that reads it; the pipeline's path stays
as it is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, fields

from audio import AudioOutput
from subtitles import SubtitleFormat, SubtitleLayout
from tts import SynthesisOptions
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
    segments: tuple[Segment, ...]
    language: str
    seed: int  # the job's seed (chosen when it gave none), reported back for reproducing the take
    aligner: str  # auto, engine or an aligner's name
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
            aligner=job.alignment.aligner,
            characters=job.alignment.characters,
            subtitle_formats=job.subtitles.formats,
            subtitle_layout=job.subtitles.layout(),
            audio=AudioOutput(job.audio.format, job.audio.sample_rate_hz, job.audio.loudness_lufs),
            output_prefix=job.output.prefix,
            presign_expiry_s=job.output.presign_expiry_s,
        )
