"""One job, stage by stage: voice → speech → word alignment → subtitles → storage → result.

`Pipeline.load` does everything expensive once, at start-up (models onto the device, the storage client).
`Pipeline.run` then handles one validated job; all its scratch files live in one temporary folder that is
removed when the job ends, whether it succeeded or not.
"""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from alignment import AlignedWord, Aligner, TextSpan
from storage import Storage, StoredObject, object_key
from storage.local import LocalStorage
from subtitles import (
    PRESETS,
    SubtitleLayout,
    TimedWord,
    build_cues,
    render_ass,
    render_json,
    render_srt,
    render_vtt,
)
from tts import ChunkSpan, Speech, SpeechSynthesizer, SynthesisOptions
from tts.dsp import normalize_loudness, shorten_pauses
from tts.normalize import TextMap, as_written, normalize
from worker import audio
from worker.contract import (
    AlignmentSummary,
    AudioResult,
    CharResult,
    Job,
    ModelNames,
    SegmentResult,
    StoredFile,
    SynthesisJob,
    SynthesisResult,
    VoiceListJob,
    VoiceSaveJob,
    WordResult,
)
from worker.errors import InternalError, InvalidInput, ModelError, VoiceError
from worker.fetch import AddressPolicy
from worker.settings import Settings
from worker.transcriber import Transcriber, TranscriptCache, cached_transcriber
from worker.voice import ClipTools, load_voice, prepare_reference
from worker.voices import VoiceLibrary

log = logging.getLogger(__name__)

STAGES = ("voice", "tts", "alignment", "subtitles", "storage")
SUBTITLE_CONTENT_TYPES = {
    "ass": "text/x-ssa; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}

# The job's tts fields an engine takes; the others (engine choice, text and pause handling) are the pipeline's.
ENGINE_OPTIONS = {option.name for option in fields(SynthesisOptions)} - {"seed", "language"}

ProgressReporter = Callable[[dict[str, Any]], None]


@dataclass
class _StageClock:
    """Times each stage and tells the caller which one is running."""

    report: ProgressReporter
    timings_s: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.report({"stage": name, "step": STAGES.index(name) + 1, "steps": len(STAGES)})
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings_s[name] = round(time.perf_counter() - started, 3)


class Pipeline:
    def __init__(
        self,
        engines: Mapping[str, SpeechSynthesizer],
        aligners: Mapping[str, Aligner],
        storage: Storage,
        default_engine: str = "f5",
        work_dir: Path | None = None,
        url_policy: AddressPolicy | None = None,
        voices: VoiceLibrary | None = None,
        transcriber: Transcriber | None = None,
        transcript_cache_dir: Path | None = None,
    ) -> None:
        self.engines = dict(engines)
        self.aligners = dict(aligners)
        self.storage = storage
        self.default_engine = default_engine
        self.work_dir = work_dir
        self.url_policy = url_policy or AddressPolicy()
        self.voices = voices
        self.transcriber = transcriber
        self.transcript_cache_dir = transcript_cache_dir

    @classmethod
    def load(cls, settings: Settings) -> Pipeline:
        """Load the models for the settings' profile and connect storage. Raises ModelError naming what is
        missing."""
        from worker.startup import load_models, open_storage

        models = load_models(settings)
        storage = open_storage(settings)
        # Saved voices live beside the results: in the bucket, or in the volume's app folder.
        voice_store = storage if settings.s3 is not None else LocalStorage(settings.layout.app_dir)
        return cls(
            models.engines,
            models.aligners,
            storage,
            default_engine=settings.default_engine,
            url_policy=AddressPolicy.from_setting(settings.url_allow_networks),
            voices=VoiceLibrary(voice_store),
            transcriber=models.transcriber,
            transcript_cache_dir=settings.layout.transcripts_dir,
        )

    def handle(self, job: Job, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        """Any job: synthesis, or one of the voice library's actions."""
        if isinstance(job, SynthesisJob):
            return self.run(job, job_id, report)
        if self.voices is None:
            raise InvalidInput("action", "this worker has no voice library")
        if isinstance(job, VoiceSaveJob):
            tools = self.clip_tools(job.language, "language")
            with tempfile.TemporaryDirectory(prefix="f5voice-", dir=self.work_dir) as scratch:
                record = self.voices.save(job.name, job.voice, Path(scratch), tools, self.url_policy, self.storage)
            return {"voice": record}
        if isinstance(job, VoiceListJob):
            return {"voices": self.voices.list()}
        if not self.voices.delete(job.name):
            raise VoiceError(f"there is no saved voice named {job.name!r}")
        return {"deleted": job.name}

    def run(self, job: SynthesisJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        engine_name = job.tts.engine or self.default_engine
        synthesizer = self._engine(engine_name, job)
        aligner_choice = self._choose_aligner(job, engine_name)
        warnings = []
        if engine_name == "espeak" and job.voice is not None:
            warnings.append("voice is ignored: the espeak engine does not clone voices (use tts.engine f5)")
        clock = _StageClock(report)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="f5job-", dir=self.work_dir) as scratch:
            work = Path(scratch)
            with clock.stage("voice"):
                voice = None
                if engine_name == "f5" and job.voice is not None:
                    clip = load_voice(
                        job.voice, work, synthesizer.sample_rate_hz, self.url_policy, self.voices, self.storage
                    )
                    voice = clip  # a saved voice was prepared when it was saved
                    if not job.voice.name:
                        spoken = (
                            (job.voice.language, "voice.language") if job.voice.language else (job.language, "language")
                        )
                        voice, voice_warnings = prepare_reference(clip, self.clip_tools(*spoken))
                        warnings += voice_warnings
            seed = job.tts.seed if job.tts.seed is not None else secrets.randbelow(2**31)
            with clock.stage("tts"):
                text_map = normalize(job.text, job.language) if job.tts.normalize_text else as_written(job.text)
                tts_options = job.tts.model_dump(include=ENGINE_OPTIONS)
                options = SynthesisOptions(**tts_options, seed=seed, language=job.language)
                speech = self._synthesize(synthesizer, text_map.spoken_text, voice, options)
                if job.tts.remove_silence:
                    speech = without_long_pauses(speech, job.tts.max_pause_s)
            with clock.stage("alignment"):
                aligner_name, spoken_words = self._align(speech, job, aligner_choice)
                words = written_words(spoken_words, text_map)
            warnings += _warnings(words)
            if job.alignment.characters and any(w.chars is None and not w.interpolated for w in spoken_words):
                warnings.append(f"character timings are not available from the {aligner_name} aligner")
            with clock.stage("subtitles"):
                subtitle_files = self._write_subtitles(words, job, work, speech.duration_s)
                samples = speech.samples
                if job.audio.loudness_lufs is not None:
                    samples, note = normalize_loudness(samples, speech.sample_rate_hz, job.audio.loudness_lufs)
                    warnings += [note] if note else []
                audio_path = work / f"speech.{job.audio.format}"
                out_rate_hz = audio.output_rate_hz(job.audio.format, job.audio.sample_rate_hz, speech.sample_rate_hz)
                audio.encode(samples, speech.sample_rate_hz, audio_path, job.audio.format, out_rate_hz)
            with clock.stage("storage"):
                expiry_s = job.output.presign_expiry_s
                stored_audio = self.storage.put_file(
                    audio_path,
                    object_key(job.output.prefix, job_id, audio_path.name),
                    audio.CONTENT_TYPES[job.audio.format],
                    expiry_s,
                )
                stored_subtitles = {
                    kind: self.storage.put_file(
                        path, object_key(job.output.prefix, job_id, path.name), SUBTITLE_CONTENT_TYPES[kind], expiry_s
                    )
                    for kind, path in subtitle_files.items()
                }
        clock.timings_s["total"] = round(time.perf_counter() - started, 3)
        used = ModelNames(tts=synthesizer.name, aligner=aligner_name, storage=self.storage.name)
        return _result(
            job, speech, words, stored_audio, out_rate_hz, stored_subtitles, seed, clock.timings_s, used, warnings
        )

    def _engine(self, name: str, job: SynthesisJob) -> SpeechSynthesizer:
        if name not in self.engines:
            raise InvalidInput(
                "tts.engine", f"{name!r} is not loaded on this worker (it has {', '.join(self.engines)})"
            )
        if name == "f5" and job.voice is None:
            raise InvalidInput(
                "voice", "is required by the f5 engine: give voice.base64, voice.url, voice.s3_key or voice.name"
            )
        if name == "espeak":
            espeak = self.engines[name]
            if not espeak.has_language(job.language):  # type: ignore[attr-defined]
                raise InvalidInput("language", f"eSpeak NG has no voice for {job.language!r}")
        return self.engines[name]

    def _synthesize(self, synthesizer: SpeechSynthesizer, text: str, voice: Any, options: SynthesisOptions) -> Speech:
        try:
            speech = synthesizer.synthesize(text, voice, options)
        except Exception as error:
            torch = sys.modules.get("torch")  # only a loaded torch can run out of memory (the offline path has none)
            if torch is None or not isinstance(error, torch.OutOfMemoryError):
                raise
            # Free what the failed job held so the worker serves the next one; the caller can retry smaller.
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise ModelError(
                "the GPU ran out of memory for this job; retry with a shorter text or a lower tts.nfe_step"
            ) from None
        chunk_words = [word for chunk in speech.chunks for word in chunk.text.split()]
        if chunk_words != text.split():
            raise InternalError("the text chunks do not add up to the text; please report this")
        if len(speech.samples) == 0:
            raise ModelError("the speech model produced no audio for this text")
        return speech

    def clip_tools(self, language: str, field: str) -> ClipTools:
        """What preparing a reference clip in `language` (given in the job's `field`) may use: an aligner to cut a
        long clip and its transcript together (wav2vec2, else PocketSphinx), and cached speech recognition for
        clips without one."""
        aligner = next(
            (self.aligners[name] for name in ("wav2vec2", "pocketsphinx")
             if name in self.aligners and language in self.aligners[name].languages),
            None,
        )  # fmt: skip

        def align(samples: Any, rate_hz: int, transcript: str) -> list[AlignedWord]:
            assert aligner is not None  # noqa: S101 (only handed out with an aligner)
            return aligner.align(samples, rate_hz, [TextSpan(transcript, 0.0, len(samples) / rate_hz)], language)

        def unknown_language(samples: Any, rate_hz: int) -> str:
            raise InvalidInput(
                field,
                f"the speech recognition model does not know {language!r} (it takes Whisper's codes: en, zh, ja, "
                "de, ...); send the clip's words in voice.text, or give its language as one of those codes",
            )

        transcribe = None
        if self.transcriber is not None and language not in self.transcriber.languages:
            transcribe = unknown_language
        elif self.transcriber is not None:
            cache = TranscriptCache(self.transcript_cache_dir or Path(tempfile.gettempdir()), self.transcriber.name)
            transcribe = cached_transcriber(self.transcriber, cache, language)
        return ClipTools(align=align if aligner is not None else None, transcribe=transcribe)

    def _choose_aligner(self, job: SynthesisJob, engine_name: str) -> str:
        """Decided before any audio is made, so a job that cannot be timed fails at once."""
        choice, language = job.alignment.aligner, job.language
        engine_times_words = engine_name == "espeak"
        if choice == "engine":
            if not engine_times_words:
                raise InvalidInput("alignment.aligner", "the f5 engine reports no word timings: use auto or wav2vec2")
            return "engine"
        if choice == "auto":
            if engine_times_words and not job.alignment.characters:
                return "engine"
            wav2vec2 = self.aligners.get("wav2vec2")
            if wav2vec2 is not None and language in wav2vec2.languages:
                return "wav2vec2"
            pocketsphinx = self.aligners.get("pocketsphinx")
            if pocketsphinx is not None and language in pocketsphinx.languages:
                return "pocketsphinx"
            loaded = ",".join(wav2vec2.languages) if wav2vec2 is not None else "none"
            raise InvalidInput(
                "language",
                f"no alignment model is loaded for {language!r}; add it to the worker's WORKER_ALIGN_LANGUAGES "
                f"(now {loaded}) and restart it",
            )
        aligner = self.aligners.get(choice)
        if aligner is None:
            raise InvalidInput("alignment.aligner", f"{choice} is not loaded on this worker (profile without it)")
        if language not in aligner.languages:
            raise InvalidInput("alignment.aligner", f"{choice} has no model for {language!r}")
        return choice

    def _align(self, speech: Speech, job: SynthesisJob, choice: str) -> tuple[str, list[AlignedWord]]:
        if choice == "engine":
            assert speech.word_times is not None  # noqa: S101 (only engines that time their words get here)
            return "engine", list(speech.word_times)
        aligner = self.aligners[choice]
        rate = speech.sample_rate_hz
        spans = [TextSpan(chunk.text, chunk.start_sample / rate, chunk.end_sample / rate) for chunk in speech.chunks]
        return aligner.name, aligner.align(speech.samples, rate, spans, job.language, job.alignment.characters)

    @staticmethod
    def _write_subtitles(words: list[AlignedWord], job: SynthesisJob, work: Path, duration_s: float) -> dict[str, Path]:
        options = job.subtitles
        layout = SubtitleLayout(
            mode=options.mode,
            karaoke_tag=options.karaoke_tag,
            max_chars_per_line=options.max_chars_per_line,
            max_lines=options.max_lines,
            min_duration_s=options.min_duration_s,
            max_duration_s=options.max_duration_s,
            allow_overlap=options.allow_overlap,
            resolution=options.resolution,
            style=PRESETS[options.preset].with_overrides(options.style.as_style_fields()),
        )
        timed = [TimedWord(word.text, word.start_s, word.end_s) for word in words]
        cues = build_cues(timed, layout, audio_duration_s=duration_s)
        renderers = {
            "ass": lambda: render_ass(cues, layout, audio_duration_s=duration_s),
            "srt": lambda: render_srt(cues),
            "vtt": lambda: render_vtt(cues, karaoke=options.mode == "karaoke"),
            "json": lambda: render_json(timed, cues),
        }
        files = {}
        for kind in options.formats:
            path = work / f"subtitles.{kind}"
            # libass and most editors expect a BOM on UTF-8 ASS files.
            path.write_text(renderers[kind](), encoding="utf-8-sig" if kind == "ass" else "utf-8")
            files[kind] = path
        return files


def _result(
    job: SynthesisJob,
    speech: Speech,
    words: list[AlignedWord],
    stored_audio: StoredObject,
    out_rate_hz: int,
    stored_subtitles: dict[str, StoredObject],
    seed: int,
    timings_s: dict[str, float],
    used: ModelNames,
    warnings: list[str],
) -> dict[str, Any]:
    rate = speech.sample_rate_hz
    scores = [word.score for word in words if word.score is not None]
    result = SynthesisResult(
        audio=AudioResult(
            url=stored_audio.url,
            key=stored_audio.key,
            format=job.audio.format,
            sample_rate_hz=out_rate_hz,
            duration_s=round(speech.duration_s, 3),
            bytes=stored_audio.bytes,
            sha256=stored_audio.sha256,
        ),
        subtitles={kind: StoredFile(url=obj.url, key=obj.key) for kind, obj in stored_subtitles.items()},  # type: ignore[misc]
        words=[
            WordResult(
                text=word.text,
                start_s=round(word.start_s, 3),
                end_s=round(word.end_s, 3),
                score=None if word.score is None else round(word.score, 3),
                interpolated=word.interpolated,
                chars=None
                if word.chars is None
                else [
                    CharResult(
                        text=char.text,
                        start_s=round(char.start_s, 3),
                        end_s=round(char.end_s, 3),
                        score=round(char.score, 3),
                    )
                    for char in word.chars
                ],
            )
            for word in words
        ],
        segments=[
            SegmentResult(
                text=chunk.text, start_s=round(chunk.start_sample / rate, 3), end_s=round(chunk.end_sample / rate, 3)
            )
            for chunk in speech.chunks
        ],
        text=" ".join(chunk.text for chunk in speech.chunks),  # the spoken text, whitespace normalised
        language=job.language,
        seed=seed,
        alignment=AlignmentSummary(
            mean_score=round(sum(scores) / len(scores), 3) if scores else None,
            interpolated_words=sum(word.interpolated for word in words),
        ),
        models=used,
        timings_s=timings_s,
        warnings=warnings,
    )
    return result.model_dump(mode="json")


def without_long_pauses(speech: Speech, max_pause_s: float) -> Speech:
    """The speech with pauses shortened; chunk spans and any engine word times carried into the new audio."""
    samples, where = shorten_pauses(speech.samples, speech.sample_rate_hz, max_pause_s)
    rate = speech.sample_rate_hz
    chunks = tuple(ChunkSpan(c.text, where(c.start_sample), where(c.end_sample)) for c in speech.chunks)
    word_times = None
    if speech.word_times is not None:
        word_times = tuple(
            replace(w, start_s=where(round(w.start_s * rate)) / rate, end_s=where(round(w.end_s * rate)) / rate)
            for w in speech.word_times
        )
    return Speech(samples=samples, sample_rate_hz=rate, chunks=chunks, word_times=word_times)


def written_words(spoken: list[AlignedWord], text_map: TextMap) -> list[AlignedWord]:
    """The user's words, each timed from the first to the last spoken word that stands for it."""
    groups: list[list[AlignedWord]] = [[] for _ in text_map.written]
    for word, owner in zip(spoken, text_map.written_of, strict=True):
        groups[owner].append(word)
    result = []
    for text, parts in zip(text_map.written, groups, strict=True):
        scores = [part.score for part in parts if part.score is not None]
        chars = None
        if len(parts) == 1 and text == parts[0].text:
            chars = parts[0].chars  # character timings only where the written word is the spoken one
        result.append(
            AlignedWord(
                text=text,
                start_s=parts[0].start_s,
                end_s=parts[-1].end_s,
                score=sum(scores) / len(scores) if scores else None,
                interpolated=all(part.interpolated for part in parts),
                chars=chars,
            )
        )
    return result


def _warnings(words: list[AlignedWord]) -> list[str]:
    interpolated = sum(word.interpolated for word in words)
    if not interpolated:
        return []
    return [
        f"{interpolated} of {len(words)} words could not be placed by the aligner and were timed between their "
        "neighbours (words[].interpolated)"
    ]
