"""One job, step by step: validate → voice → speech → alignment → subtitles → audio → video → storage → result.

`Pipeline.load` does everything expensive once, at start-up (models onto the device, the storage client).
`Pipeline.handle` then serves one validated job by its action (align and transcribe: worker.media); each job's
scratch files live in one temporary folder that is removed when the job ends, whether it succeeded or not.
"""

from __future__ import annotations

import contextvars
import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from alignment import AlignedWord, Aligner, TextSpan, alignment_warnings, retime_flagged
from alignment.policy import ENGINE, best_aligner, clip_align
from audio import AudioFile, with_loudness, write_audio
from common.errors import DeviceFailure, InvalidInput
from common.gpu import as_gpu_failure, free_gpu_cache
from storage import Storage, put_files
from storage.local import LocalStorage
from subtitles import CONTENT_TYPES, ENCODINGS, SubtitleFormat, SubtitleLayout, TimedWord, render_formats
from tts import Speech, SpeechSynthesizer
from tts.dsp import without_long_pauses
from tts.normalize import MAX_WORD_BYTES, TextMap, as_written, normalize
from video import nvenc_available
from voice import AlignFn, ReferenceVoice, VoiceSource
from voice.fetch import AddressPolicy
from voice.library import VoiceLibrary
from voice.stage import VoiceStage
from worker import media
from worker.contract import (
    AlignJob,
    Job,
    LineResult,
    ModelNames,
    SynthesisJob,
    SynthesisResult,
    TranscribeJob,
    VoiceDeleteJob,
    VoiceListJob,
    VoiceSaveJob,
)
from worker.plan import Plan, Segment
from worker.progress import ProgressReporter, StageClock
from worker.settings import Settings
from worker.take import LineSpan, SpokenSegment, Take, assemble

log = logging.getLogger(__name__)

STAGES = ("voice", "tts", "alignment", "subtitles", "audio", "video", "storage")
# Segments a job has in flight at once: an engine that batches (F5's scheduler) puts their chunks in shared
# model calls; more would only queue.
SEGMENTS_IN_FLIGHT = 16
Files = dict[str, tuple[Path, str]]  # files to store by name: (path, content type)


class Pipeline:
    def __init__(
        self,
        engines: Mapping[str, SpeechSynthesizer],
        aligners: Mapping[str, Aligner],
        storage: Storage,
        *,
        voices: VoiceStage | None = None,
        default_engine: str = "f5",
        work_dir: Path | None = None,
        inline_by_default: bool = False,
    ) -> None:
        self.engines = dict(engines)
        self.aligners = dict(aligners)
        self.storage = storage
        self.voices = voices or VoiceStage(bucket=storage)
        self.default_engine = default_engine
        self.work_dir = work_dir
        # Without a bucket on an endpoint, file:// results reach nobody: every result carries its files instead.
        self.inline_by_default = inline_by_default

    @classmethod
    def load(cls, settings: Settings) -> Pipeline:
        """Load the models for the settings' profile and connect storage. Raises ModelError naming what is
        missing."""
        from worker.startup import load_models, open_storage

        models = load_models(settings)
        storage = open_storage(settings)
        nvenc_available()  # decided once, at start-up: the first video job does not pay for the test encode
        voices = VoiceStage(
            url_policy=AddressPolicy.from_setting(settings.url_allow_networks),
            bucket=storage,
            # Saved voices live beside the results: in the bucket, or in the volume's app folder.
            library=VoiceLibrary(storage if settings.s3 is not None else LocalStorage(settings.layout.app_dir)),
            transcriber=models.transcriber,
            transcript_cache_dir=settings.layout.transcripts_dir,
            transcript_cache_max_bytes=settings.cache_max_bytes,
        )
        return cls(
            models.engines, models.aligners, storage, voices=voices, default_engine=settings.default_engine,
            inline_by_default=settings.s3 is None and settings.on_endpoint,
        )  # fmt: skip

    def handle(self, job: Job, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        """Any job, by its action. A GPU failure in any stage (out of memory, a sticky CUDA error) becomes the job's
        ModelError; the memory the failed call held is given back once its frames are gone."""
        try:
            return ACTIONS[type(job)](self, job, job_id, report)
        except Exception as error:
            failure = as_gpu_failure(error)
            if failure is None:
                raise
            log.warning("job %s: %s", job_id, failure.message)
        if not isinstance(failure, DeviceFailure):  # a failed device would only fail again
            free_gpu_cache()
        raise failure

    def align(self, job: AlignJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        return media.align(self, job, job_id, report)

    def transcribe(self, job: TranscribeJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        return media.transcribe(self, job, job_id, report)

    def run(self, job: SynthesisJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        """A synthesis job: the take, its word timings and subtitles, stored; the result for the caller."""
        plan = Plan.of(job, self.default_engine)
        engines = plan.choose_engines(self.engines)
        aligner = plan.choose_aligner(self.aligners, engines)
        clock = StageClock(report, [stage for stage in STAGES if stage != "video" or plan.video is not None])
        warnings = plan.engine_warnings(engines)
        with clock.total(), self.scratch("f5job-") as work:
            with clock.stage("voice"):
                voices = self._prepare_voices(plan, engines, work, warnings)
            with clock.stage("tts"):
                take = self._speak(plan, engines, voices)
                speech, rate = take.speech, take.speech.sample_rate_hz
                split = take.lines if plan.split_lines else ()
            with clock.stage("alignment"):
                words, aligner_name = self._align(speech, take.text_map, plan, aligner, warnings)
                timed = [  # Chinese characters are glued: shown with no space before them
                    TimedWord(word.text, word.start_s, word.end_s, speaker, glue)
                    for word, speaker, glue in zip(words, take.word_speakers, take.text_map.glued, strict=True)
                ]
            with clock.stage("subtitles"):
                subtitle_files = self._write_subtitles(timed, plan, work, "subtitles", speech.duration_s)
                line_subtitles = [self._line_subtitles(line, timed, plan, work, rate) for line in split]
            with clock.stage("audio"):
                # The take's loudness, applied once: its lines are cut from the same samples.
                samples, encoding, notes = with_loudness(speech.samples, rate, plan.audio)
                warnings += notes
                audio_file, _ = write_audio(samples, rate, encoding, work)
                line_audio = [
                    write_audio(samples[line.start_sample : line.end_sample], rate, encoding, work, _line_stem(line))[0]
                    for line in split
                ]
            video = None
            if plan.video is not None:
                with clock.stage("video"):
                    video = media.make_video(
                        self, audio_file.path, timed, plan.subtitle_layout, plan.video, work, speech.duration_s
                    )
            with clock.stage("storage"):
                where = (plan.output_prefix, job_id, plan.presign_expiry_s)
                take_audio = {"audio": (audio_file.path, audio_file.content_type)}
                stored_audio = put_files(self.storage, take_audio, *where)["audio"]
                stored_subtitles = put_files(self.storage, subtitle_files, *where)
                stored_video = put_files(self.storage, video.files, *where) if video is not None else {}
                lines = self._store_lines(split, line_audio, line_subtitles, where, rate)
            transcriber = self.voices.transcriber
            models = ModelNames(
                tts="+".join(dict.fromkeys(engine.name for engine in engines)),
                aligner=aligner_name,
                storage=self.storage.name,
                asr=transcriber.name if transcriber is not None and any(map(_transcribed, voices)) else None,
            )
            result = SynthesisResult.of(
                speech=speech, words=words, word_speakers=take.word_speakers, chunk_speakers=take.chunk_speakers,
                audio=audio_file, stored_audio=stored_audio, stored_subtitles=stored_subtitles,
                lines=lines if plan.split_lines else None, language=plan.language, seed=plan.seed, models=models,
                timings_s=clock.timings_s, warnings=warnings,
            )  # fmt: skip
            if video is not None:
                result = video.attach(result, stored_video)
            dumped = result.model_dump(mode="json")
            files: Files = {**take_audio, **media.by_name(subtitle_files), **(video.files if video else {})}
            inline = self.inline_by_default or plan.inline
            dumped["warnings"] += media.inline_files(dumped, files, inline)
            if inline and lines:
                dumped["warnings"].append("output.inline: the lines' own files (output.split) are not inline")
        dumped["timings_s"] = clock.timings_s  # with the total, now that the job's folder is gone
        return dumped

    def save_voice(self, job: VoiceSaveJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        with self.scratch("f5voice-") as work:
            record = self.voices.save(job.name, job.voice.source("voice"), job.language, work, self._clip_aligner)
        return {"voice": record}

    def list_voices(self, job: VoiceListJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        return {"voices": self.voices.list()}

    def delete_voice(self, job: VoiceDeleteJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
        self.voices.delete(job.name)
        return {"deleted": job.name}

    def _prepare_voices(
        self, plan: Plan, engines: Sequence[SpeechSynthesizer], work: Path, warnings: list[str]
    ) -> dict[VoiceSource, ReferenceVoice]:
        """Each distinct voice the plan's engines clone, prepared once at the engine's rate."""
        prepared: dict[VoiceSource, ReferenceVoice] = {}
        for segment, engine in zip(plan.segments, engines, strict=True):
            source = segment.voice
            if engine.needs_reference and source is not None and source not in prepared:
                rate = engine.sample_rate_hz
                prepared[source], notes = self.voices.prepare(source, plan.language, work, rate, self._clip_aligner)
                warnings += notes
                if _transcribed(source):  # F5 follows the transcript: a misheard one is the first thing to check
                    warnings.append(
                        f"{source.field}.text was not given; speech recognition heard "
                        f"{_quoted(prepared[source].transcript)} in the clip (if that is not what it says, send "
                        f"{source.field}.text)"
                    )
        return prepared

    def _speak(
        self, plan: Plan, engines: Sequence[SpeechSynthesizer], voices: Mapping[VoiceSource, ReferenceVoice]
    ) -> Take:
        """Every segment said, and the plan's parts joined as one take. Segments are said concurrently, so an
        engine that batches puts the chunks of many lines in one model call; the first failure (in the plan's
        order) is the job's, and the segments not yet started are dropped."""
        segments = plan.segments
        if len(segments) == 1:
            return assemble(plan, [self._say(segments[0], engines[0], voices)])
        with ThreadPoolExecutor(min(SEGMENTS_IN_FLIGHT, len(segments)), thread_name_prefix="segment") as pool:
            futures: list[Future[SpokenSegment]] = [
                pool.submit(contextvars.copy_context().run, self._say, segment, engine, voices)
                for segment, engine in zip(segments, engines, strict=True)
            ]
            try:
                spoken = [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return assemble(plan, spoken)

    @staticmethod
    def _say(
        segment: Segment, engine: SpeechSynthesizer, voices: Mapping[VoiceSource, ReferenceVoice]
    ) -> SpokenSegment:
        """One segment said: its written words mapped to what is spoken, then synthesized."""
        language = segment.options.language
        text_map = normalize(segment.text, language) if segment.normalize_text else as_written(segment.text, language)
        text_map = text_map.with_words_at_most(MAX_WORD_BYTES)
        voice = voices.get(segment.voice) if segment.voice is not None else None
        try:
            speech = engine.synthesize(text_map.spoken_text, voice, segment.options)
        except InvalidInput as error:  # the engine names the text; the job may have given it as a script line
            if error.field == "text" and segment.field != "text":
                raise InvalidInput(segment.field, error.problem) from None
            raise
        speech = speech.check_covers(text_map.spoken_text)
        if segment.remove_silence:
            speech = without_long_pauses(speech, segment.max_pause_s)
        return SpokenSegment(segment, speech, text_map)

    def _align(
        self, speech: Speech, text_map: TextMap, plan: Plan, aligner: str, warnings: list[str]
    ) -> tuple[list[AlignedWord], str]:
        """The written words, timed, and what timed them: the engine's own events, or the aligner over each chunk's
        text in its span."""
        if aligner == ENGINE:
            spoken, name = self._engine_times(speech, plan.language)
        else:
            name = self.aligners[aligner].name  # as results name it: wav2vec2-ctc, pocketsphinx
            rate = speech.sample_rate_hz
            spans = [TextSpan(c.text, c.start_sample / rate, c.end_sample / rate) for c in speech.chunks]
            spoken = self.aligners[aligner].align(speech.samples, rate, spans, plan.language, plan.characters)
        words = text_map.written_words(spoken)
        warnings += alignment_warnings(words, spoken, plan.characters, name)
        return words, name

    def _engine_times(self, speech: Speech, language: str) -> tuple[list[AlignedWord], str]:
        """The engine's word times, and what timed them: `engine`, or `engine+<aligner>` when words it spoke as one
        were re-timed by the best aligner loaded for the language (without one they stay shared and flagged)."""
        engine_times = list(speech.word_times or ())
        helper = best_aligner(self.aligners, language)
        if helper is None:
            return engine_times, ENGINE
        retimed = retime_flagged(engine_times, speech.samples, speech.sample_rate_hz, helper, language)
        return retimed, ENGINE if retimed == engine_times else f"{ENGINE}+{helper.name}"

    def _write_subtitles(
        self, words: Sequence[TimedWord], plan: Plan, work: Path, stem: str, duration_s: float
    ) -> dict[SubtitleFormat, tuple[Path, str]]:
        return self.write_subtitle_files(words, plan.subtitle_layout, plan.subtitle_formats, work, duration_s, stem)

    @staticmethod
    def write_subtitle_files(
        words: Sequence[TimedWord],
        layout: SubtitleLayout,
        formats: Sequence[SubtitleFormat],
        work: Path,
        duration_s: float,
        stem: str = "subtitles",
    ) -> dict[SubtitleFormat, tuple[Path, str]]:
        """Each subtitle file asked for, written to `work/<stem>.<format>`: format → (path, content type)."""
        files = {}
        for kind, text in render_formats(words, layout, formats, duration_s).items():
            path = work / f"{stem}.{kind}"
            path.write_text(text, encoding=ENCODINGS[kind])
            files[kind] = (path, CONTENT_TYPES[kind])
        return files

    def _line_subtitles(
        self, line: LineSpan, words: Sequence[TimedWord], plan: Plan, work: Path, rate_hz: int
    ) -> dict[SubtitleFormat, tuple[Path, str]]:
        """One line's subtitle files (output.split), timed from the line's own start."""
        start_s = line.start_sample / rate_hz
        own = [
            replace(word, start_s=word.start_s - start_s, end_s=word.end_s - start_s)
            for word in words[line.first_word : line.first_word + line.word_count]
        ]
        duration_s = (line.end_sample - line.start_sample) / rate_hz
        return self._write_subtitles(own, plan, work, _line_stem(line), duration_s)

    def _store_lines(
        self,
        split: Sequence[LineSpan],
        line_audio: Sequence[AudioFile],
        line_subtitles: Sequence[Mapping[SubtitleFormat, tuple[Path, str]]],
        where: tuple[str | None, str, int],
        rate_hz: int,
    ) -> list[LineResult]:
        """Each line's files stored (output.split), all lines' at once, and the result's entry for each line."""
        files: dict[str, tuple[Path, str]] = {}
        for number, (audio, subtitles) in enumerate(zip(line_audio, line_subtitles, strict=True)):
            files[f"{number}/audio"] = (audio.path, audio.content_type)
            files.update({f"{number}/{kind}": file for kind, file in subtitles.items()})
        stored = put_files(self.storage, files, *where)
        return [
            LineResult.of(
                index=line.line.index,
                speaker=line.line.speaker,
                text=line.line.text,
                start_s=line.start_sample / rate_hz,
                end_s=line.end_sample / rate_hz,
                audio=audio,
                stored_audio=stored[f"{number}/audio"],
                stored_subtitles={kind: stored[f"{number}/{kind}"] for kind in subtitles},
            )
            for number, (line, audio, subtitles) in enumerate(zip(split, line_audio, line_subtitles, strict=True))
        ]

    def _clip_aligner(self, language: str) -> AlignFn | None:
        return clip_align(self.aligners, language)

    @contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A folder for one job's files, removed when the job ends, whether it succeeded or not."""
        with tempfile.TemporaryDirectory(prefix=prefix, dir=self.work_dir) as scratch:
            yield Path(scratch)


def _line_stem(line: LineSpan) -> str:
    """A line's file name without extension: its script index and speaker, e.g. `line-003-host`."""
    return f"line-{line.line.index:03d}" + (f"-{line.line.speaker}" if line.line.speaker else "")


ACTIONS: dict[type, Callable[[Pipeline, Any, str, ProgressReporter], dict[str, Any]]] = {
    SynthesisJob: Pipeline.run,
    AlignJob: Pipeline.align,
    TranscribeJob: Pipeline.transcribe,
    VoiceSaveJob: Pipeline.save_voice,
    VoiceListJob: Pipeline.list_voices,
    VoiceDeleteJob: Pipeline.delete_voice,
}


def _transcribed(source: VoiceSource) -> bool:
    """A clip sent without what is said in it (a saved voice brings its own transcript)."""
    return source.text is None and source.name is None and source.espeak is None


def _quoted(transcript: str, limit: int = 120) -> str:
    return repr(transcript if len(transcript) <= limit else transcript[:limit] + "…")
