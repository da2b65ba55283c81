"""A synthesis job as a plan: the parts to say, in order, and what to make of the take.

A part is a `Segment` (one text said in one voice with one engine and its options) or a `Pause` (silence). A text
job is one line; a script is many, each line said by its speaker. A `<break time=".."/>` in any text (tts.breaks)
cuts its line into segments with pauses between. Every part knows its line, so the take can be cut back into
lines (`output.split`), and every segment its speaker, so words and captions know who says them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace

from alignment import Aligner
from alignment.policy import choose_aligner
from audio import AudioOutput
from common.errors import InvalidInput
from subtitles import SubtitleFormat, SubtitleLayout
from tts import SpeechSynthesizer, SynthesisOptions
from tts.breaks import split_breaks
from voice import VoiceSource
from worker.contract import ScriptLine, SynthesisJob, TTSOptions, VideoOptions, VoiceInput

MAX_SEED = 2**31 - 1
SEGMENT_SEED_STRIDE = 1_000_003  # a prime: segment seeds stay distinct for any job seed
# The job's tts fields an engine takes; the others (engine choice, text and pause handling) are the plan's.
ENGINE_OPTIONS = {option.name for option in fields(SynthesisOptions)} - {"seed", "language", "voice_name"}


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
    line: int = 0  # the script item it belongs to (a text job is line 0)
    speaker: str | None = None
    field: str = "text"  # where the job gave the text, for error messages


@dataclass(frozen=True)
class Pause:
    """Silence: a script's pause item (`line` None) or a <break> inside a line."""

    duration_s: float
    line: int | None = None


Part = Segment | Pause


@dataclass(frozen=True)
class Line:
    """A line of the take as `output.split` writes it: a script line (or a text job's text), and who says it."""

    index: int  # its position in the script
    speaker: str | None
    text: str  # as written, breaks left out


@dataclass(frozen=True)
class Plan:
    """A synthesis job as the pipeline's steps read it: the parts in order, and what to make of the take."""

    parts: tuple[Part, ...]
    lines: tuple[Line, ...]
    split_lines: bool  # output.split: each line as its own files too
    language: str
    seed: int  # the job's seed (chosen when it gave none), reported back for reproducing the take
    requested_aligner: str  # auto, engine or an aligner's name
    characters: bool  # character timings asked for
    subtitle_formats: tuple[SubtitleFormat, ...]
    subtitle_layout: SubtitleLayout
    audio: AudioOutput
    output_prefix: str | None
    presign_expiry_s: int
    video: VideoOptions | None = None  # output.video: an MP4 with the captions burned in
    inline: bool = False  # output.inline: the files' contents in the result too

    @classmethod
    def of(cls, job: SynthesisJob, default_engine: str) -> Plan:
        """The plan of a validated job; a job without a seed gets a random one. Raises InvalidInput for a malformed
        <break>."""
        seed = job.tts.seed if job.tts.seed is not None else secrets.randbelow(MAX_SEED + 1)
        engine = job.tts.engine or default_engine
        parts: list[Part] = []
        lines: list[Line] = []
        if job.text is not None:
            voice = None if job.voice is None else job.voice.source("voice")
            parts += _line_parts(job.text, "text", 0, None, voice, job.tts, engine, job.language)
            lines.append(Line(0, None, _without_breaks(parts)))
        for index, item in enumerate(job.script or ()):
            if isinstance(item, ScriptLine):
                line_parts = _line_parts(
                    item.text, f"script[{index}].text", index, item.speaker, _voice_of(job, index, item),
                    _tts_of(job, item), engine, job.language,
                )  # fmt: skip
                parts += line_parts
                lines.append(Line(index, item.speaker, _without_breaks(line_parts)))
            else:
                parts.append(Pause(item.pause_s))
        speakers = tuple(dict.fromkeys(line.speaker for line in lines if line.speaker is not None))
        return cls(
            parts=tuple(_seeded(parts, seed)),
            lines=tuple(lines),
            split_lines=job.output.split == "lines",
            language=job.language,
            seed=seed,
            requested_aligner=job.alignment.aligner,
            characters=job.alignment.characters,
            subtitle_formats=job.subtitles.formats,
            subtitle_layout=job.subtitles.layout(
                job.language, speakers, video=None if job.output.video is None else job.output.video.resolution
            ),
            audio=AudioOutput(job.audio.format, job.audio.sample_rate_hz, job.audio.loudness_lufs),
            output_prefix=job.output.prefix,
            presign_expiry_s=job.output.presign_expiry_s,
            video=job.output.video,
            inline=job.output.inline,
        )

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(part for part in self.parts if isinstance(part, Segment))

    def choose_engines(self, loaded: Mapping[str, SpeechSynthesizer]) -> list[SpeechSynthesizer]:
        """Each segment's engine, checked against the plan before any work is done."""
        return [_engine(segment, self.language, loaded) for segment in self.segments]

    def engine_warnings(self, engines: Sequence[SpeechSynthesizer]) -> list[str]:
        """What the caller should know about the chosen engines: a voice they ignore, a language their model was not
        trained on."""
        ignored = [
            f"{segment.voice.field} is ignored: the {segment.engine} engine does not clone voices (use tts.engine f5)"
            for segment, engine in zip(self.segments, engines, strict=True)
            if segment.voice is not None and segment.voice.espeak is None and not engine.needs_reference
        ]
        untrained = [
            f"language: {engine.name} was trained on {' and '.join(engine.trained_languages)}, not "
            f"{self.language!r}: expect speech that is hard to understand (tts.engine espeak speaks it; for a "
            "checkpoint trained on it, set F5_REPO and F5_CHECKPOINT_FILE, and F5_LANGUAGES to what it knows)"
            for engine in engines
            if engine.trained_languages is not None and self.language not in engine.trained_languages
        ]
        return list(dict.fromkeys(ignored + untrained))

    def choose_aligner(self, loaded: Mapping[str, Aligner], engines: Sequence[SpeechSynthesizer]) -> str:
        """The aligner that times the take (alignment.policy), or InvalidInput when none can."""
        languages = {name: tuple(aligner.languages) for name, aligner in loaded.items()}
        engine_names = "+".join(dict.fromkeys(segment.engine for segment in self.segments))
        times_words = all(engine.times_words for engine in engines)
        return choose_aligner(
            self.requested_aligner, self.language, languages, engine_names, times_words, self.characters
        )


def _line_parts(
    text: str,
    field: str,
    line: int,
    speaker: str | None,
    voice: VoiceSource | None,
    tts: TTSOptions,
    engine: str,
    language: str,
) -> list[Part]:
    """A line's segments, with a pause at each of its <break> tags."""
    options = SynthesisOptions(
        **tts.model_dump(include=ENGINE_OPTIONS),
        language=language,
        voice_name=voice.espeak if voice is not None else None,
    )
    parts: list[Part] = [
        Pause(piece, line)
        if isinstance(piece, float)
        else Segment(
            text=piece,
            voice=voice,
            engine=engine,
            options=options,
            normalize_text=tts.normalize_text,
            remove_silence=tts.remove_silence,
            max_pause_s=tts.max_pause_s,
            line=line,
            speaker=speaker,
            field=field,
        )  # fmt: skip
        for piece in split_breaks(text, field)
    ]
    if not any(isinstance(part, Segment) for part in parts):
        raise InvalidInput(field, "has nothing to say besides its <break> tags")
    return parts


def _voice_of(job: SynthesisJob, index: int, line: ScriptLine) -> VoiceSource | None:
    voice: VoiceInput | None = job.voice_of(line)
    return None if voice is None else voice.source(job.voice_field(index, line))


def _tts_of(job: SynthesisJob, line: ScriptLine) -> TTSOptions:
    """The job's options, then the speaker's changes, then the line's."""
    speaker = (job.speakers or {}).get(line.speaker or "")
    return line.tts.over(speaker.tts.over(job.tts) if speaker else job.tts)


def _without_breaks(parts: Sequence[Part]) -> str:
    return " ".join(part.text.strip() for part in parts if isinstance(part, Segment))


def _seeded(parts: Sequence[Part], job_seed: int) -> Iterator[Part]:
    """Each segment with its own seed: the first keeps the job's (a text job reproduces as before), the others
    derive theirs from it, so two lines of the same text in the same voice are two takes."""
    index = 0
    for part in parts:
        if isinstance(part, Segment):
            seed = (job_seed + index * SEGMENT_SEED_STRIDE) % (MAX_SEED + 1)
            part = replace(part, options=replace(part.options, seed=seed))
            index += 1
        yield part


def _engine(segment: Segment, language: str, loaded: Mapping[str, SpeechSynthesizer]) -> SpeechSynthesizer:
    engine = loaded.get(segment.engine)
    if engine is None:
        raise InvalidInput(
            "tts.engine", f"{segment.engine!r} is not loaded on this worker (it has {', '.join(loaded)})"
        )
    voice = segment.voice
    clip = "give voice.base64, voice.url, voice.s3_key or voice.name"
    if engine.needs_reference and voice is None:
        raise InvalidInput("voice", f"is required by the {segment.engine} engine: {clip}")
    if engine.needs_reference and voice is not None and voice.espeak is not None:
        raise InvalidInput(
            f"{voice.field}.espeak",
            f"the {segment.engine} engine clones a clip, not an eSpeak NG voice: {clip} (or use tts.engine espeak)",
        )
    if not engine.speaks(language):
        raise InvalidInput("language", f"the {segment.engine} engine ({engine.name}) has no voice for {language!r}")
    if voice is not None and voice.espeak is not None and not engine.speaks(voice.espeak):
        raise InvalidInput(f"{voice.field}.espeak", f"the {engine.name} engine has no voice {voice.espeak!r}")
    return engine
