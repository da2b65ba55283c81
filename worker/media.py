"""Jobs that start from the caller's recording, and what any job delivers besides its audio and subtitles.

    align(pipeline, job, ...)       the caller's recording + its text → words, subtitles; no synthesis
    transcribe(pipeline, job, ...)  the caller's recording → Whisper's text → the same
    make_video(...)                 the speech and its captions as an MP4 (the video stage), with a poster frame
    inline_files(result, files)     the files' contents in the result, within RunPod's payload limit

Align and transcribe end as a synthesis job does: subtitles in every format and mode, the audio (stored as sent,
or re-encoded when `audio_output` asks), a video when `output.video` asks, storage, inline contents.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignment import AlignedWord, TextSpan, characters_warnings
from alignment.policy import ENGINE, choose_aligner
from alignment.recording import align_recording
from audio import AudioOutput, write_audio
from common import ffmpeg
from common.errors import InvalidInput, VoiceError
from common.text import unspaced
from storage import StoredObject, put_files
from subtitles import SubtitleFormat, SubtitleLayout, TimedWord, build_cues, render_ass
from tts.normalize import MAX_WORD_BYTES, as_written, normalize
from video import VideoFiles, VideoSpec, render_video
from voice import VoiceSource
from voice.fetch import FetchFailed, FetchRefused, fetch_to_file
from voice.recording import Recording, decode_recording, fetch_recording, store_as_sent
from worker.contract import (
    AlignJob,
    AlignmentSummary,
    AudioResult,
    ImageBackground,
    ModelNames,
    SegmentResult,
    StoredFile,
    SynthesisResult,
    TranscribeJob,
    VideoBackground,
    VideoOptions,
    VideoResult,
    WordResult,
)
from worker.progress import ProgressReporter, StageClock

if TYPE_CHECKING:
    from worker.pipeline import Files, Pipeline

RECORDING_STAGES = ("recording", "transcription", "alignment", "subtitles", "audio", "video", "storage")
ALIGN_RATE_HZ = 16_000  # what the aligners read (wav2vec2, PocketSphinx): the recording is decoded at it once
MAX_BACKGROUND_BYTES = 200 * 2**20
# RunPod takes at most 10 MB in a /run payload (20 MB in /runsync): inline contents stay under the smaller, with
# room for the rest of the result.
INLINE_MAX_BYTES = 9 * 2**20


@dataclass(frozen=True)
class TimedText:
    """A recording's text, timed: the written words, whether each follows the one before without a space, and the
    segments the recording was cut into with the text found in each."""

    words: list[AlignedWord]
    glued: tuple[bool, ...]
    spans: tuple[TextSpan, ...]


def align(pipeline: Pipeline, job: AlignJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
    """Time the words of `job.text` in the caller's recording."""
    aligner = _recording_aligner(pipeline, job.alignment.aligner, job.language, job.alignment.characters)
    clock = StageClock(report, _stages(job, transcribing=False))
    warnings: list[str] = []
    with clock.total(), pipeline.scratch("f5align-") as work:
        with clock.stage("recording"):
            recording = _fetch(pipeline, job.audio.source("audio"), work)
        with clock.stage("alignment"):
            timed = _align_text(pipeline, recording, job.text, job.language, aligner, job, warnings)
        result = _deliver(
            pipeline, job, job_id, clock, work, recording, job.text, timed, job.language, aligner, warnings
        )
    result["timings_s"] = clock.timings_s  # with the total, now that the job's folder is gone
    return result


def transcribe(pipeline: Pipeline, job: TranscribeJob, job_id: str, report: ProgressReporter) -> dict[str, Any]:
    """Say what is in the caller's recording (Whisper, with its own voice activity detection), then time each
    word with the worker's aligner: WhisperX's pipeline on the worker's aligner."""
    transcriber = pipeline.voices.transcriber
    if transcriber is None:
        raise InvalidInput(
            "action",
            "this worker has no speech recognition model (WORKER_ASR_MODEL=none, or WORKER_PROFILE=offline, which "
            "has none): send the text with action align, or use a worker with one",
        )
    if job.language is not None:  # refused before any download when it cannot be timed
        _recording_aligner(pipeline, job.alignment.aligner, job.language, job.alignment.characters)
    clock = StageClock(report, _stages(job, transcribing=True))
    warnings: list[str] = []
    with clock.total(), pipeline.scratch("f5transcribe-") as work:
        with clock.stage("recording"):
            recording = _fetch(pipeline, job.audio.source("audio"), work)
        with clock.stage("transcription"):
            text, language = transcriber.transcribe_recording(recording.samples, recording.sample_rate_hz, job.language)
        if not text.split():
            raise VoiceError("audio: no speech was recognized in the recording")
        aligner = _recording_aligner(pipeline, job.alignment.aligner, language, job.alignment.characters, heard=True)
        with clock.stage("alignment"):
            timed = _align_text(pipeline, recording, text, language, aligner, job, warnings)
        result = _deliver(pipeline, job, job_id, clock, work, recording, text, timed, language, aligner, warnings)
    result["timings_s"] = clock.timings_s
    return result


def _stages(job: AlignJob | TranscribeJob, transcribing: bool) -> list[str]:
    """The stages this job goes through, as its progress reports count them."""
    skipped = {"transcription"} if not transcribing else set()
    return [stage for stage in RECORDING_STAGES if stage not in skipped and (stage != "video" or job.output.video)]


def _recording_aligner(pipeline: Pipeline, requested: str, language: str, characters: bool, heard: bool = False) -> str:
    if requested == ENGINE:
        raise InvalidInput("alignment.aligner", "a recording has no engine timings: use auto, wav2vec2 or pocketsphinx")
    loaded = {name: tuple(aligner.languages) for name, aligner in pipeline.aligners.items()}
    try:
        return choose_aligner(requested, language, loaded, "recording", False, characters)
    except InvalidInput as error:
        if heard:  # the language is Whisper's guess: say so, and how to choose another
            raise InvalidInput(error.field, f"Whisper heard {language!r}: {error.problem}; or give language") from None
        raise


def _fetch(pipeline: Pipeline, source: VoiceSource, work: Path) -> Recording:
    path = fetch_recording(source, work, pipeline.voices.url_policy, pipeline.voices.bucket)
    return decode_recording(path, ALIGN_RATE_HZ, source.field)


def _align_text(
    pipeline: Pipeline,
    recording: Recording,
    text: str,
    language: str,
    aligner: str,
    job: AlignJob | TranscribeJob,
    warnings: list[str],
) -> TimedText:
    """The written words of `text`, timed in the recording (numbers and symbols matched as they are said)."""
    say_as_words = job.normalize_text if isinstance(job, AlignJob) else True
    text_map = normalize(text, language) if say_as_words else as_written(text, language)
    text_map = text_map.with_words_at_most(MAX_WORD_BYTES)
    chosen = pipeline.aligners[aligner]
    characters = job.alignment.characters
    found = align_recording(recording.samples, recording.sample_rate_hz, text_map.spoken, chosen, language, characters)
    words = text_map.written_words(found.words)
    # The recording's warnings name every flagged word already (where text is missing, or how many it could not
    # place); only the character timings are left to say.
    warnings += found.warnings + characters_warnings(found.words, characters, chosen.name)
    return TimedText(words, text_map.glued, found.spans)


def _deliver(
    pipeline: Pipeline,
    job: AlignJob | TranscribeJob,
    job_id: str,
    clock: StageClock,
    work: Path,
    recording: Recording,
    text: str,
    timed: TimedText,
    language: str,
    aligner: str,
    warnings: list[str],
) -> dict[str, Any]:
    """Subtitles, audio, video, storage and the result of a job on the caller's recording."""
    words = [
        TimedWord(word.text, word.start_s, word.end_s, None, glue)
        for word, glue in zip(timed.words, timed.glued, strict=True)
    ]
    layout = job.subtitles.layout(language, video=None if job.output.video is None else job.output.video.resolution)
    duration_s = recording.duration_s
    with clock.stage("subtitles"):
        subtitle_files = pipeline.write_subtitle_files(words, layout, job.subtitles.formats, work, duration_s)
    with clock.stage("audio"):
        audio_path, content_type, audio_format, audio_rate = _output_audio(recording, job, work, warnings)
    video = None
    if job.output.video is not None:
        with clock.stage("video"):
            # The caller's own file is the soundtrack: the video stage reads it through the audio containers'
            # whitelist, at its own quality.
            video = make_video(pipeline, audio_path, words, layout, job.output.video, work, duration_s)
    with clock.stage("storage"):
        where = (job.output.prefix, job_id, job.output.presign_expiry_s)
        files: Files = {
            "audio": (audio_path, content_type),
            **by_name(subtitle_files),
            **(video.files if video else {}),
        }
        stored = put_files(pipeline.storage, files, *where)
    result = SynthesisResult(
        audio=AudioResult(
            url=stored["audio"].url, key=stored["audio"].key, format=audio_format, sample_rate_hz=audio_rate,
            duration_s=round(duration_s, 3), bytes=stored["audio"].bytes, sha256=stored["audio"].sha256,
        ),
        subtitles={kind: StoredFile.of(stored[kind]) for kind in subtitle_files},
        words=[WordResult.of(word) for word in timed.words],
        segments=[
            SegmentResult(text=unspaced(span.text), start_s=round(span.start_s, 3), end_s=round(span.end_s, 3))
            for span in timed.spans
        ],
        text=" ".join(text.split()), language=language, seed=None, alignment=AlignmentSummary.of(timed.words),
        models=ModelNames(
            tts="none", aligner=pipeline.aligners[aligner].name, storage=pipeline.storage.name,
            asr=pipeline.voices.transcriber.name if isinstance(job, TranscribeJob) and pipeline.voices.transcriber
            else None,
        ),
        timings_s=clock.timings_s, warnings=warnings,
    )  # fmt: skip
    if video is not None:
        result = video.attach(result, stored)
    dumped = result.model_dump(mode="json")
    dumped["warnings"] += inline_files(dumped, files, pipeline.inline_by_default or job.output.inline)
    return dumped


def _output_audio(
    recording: Recording, job: AlignJob | TranscribeJob, work: Path, warnings: list[str]
) -> tuple[Path, str, str, int]:
    """The recording for the result: as sent, or re-encoded as `audio_output` asks. (path, content type, format,
    sample rate)"""
    if job.audio_output is None:
        stored = store_as_sent(recording, work)  # the same stream: its rate is the one probed
        return stored.path, stored.content_type, stored.extension, recording.header.sample_rate_hz
    asked = job.audio_output
    try:
        rate = asked.sample_rate_hz or ffmpeg.probe(recording.path).sample_rate_hz
        samples = ffmpeg.decode_mono(recording.path, rate, recording.duration_s + 1)
    except ffmpeg.UnreadableAudio as error:
        raise VoiceError(f"audio: the recording {error}") from None
    written, notes = write_audio(samples, rate, AudioOutput(asked.format, rate, asked.loudness_lufs), work)
    warnings += notes
    return written.path, written.content_type, written.format, written.sample_rate_hz


# --- Video ---


@dataclass(frozen=True)
class MadeVideo:
    rendered: VideoFiles
    options: VideoOptions

    @property
    def files(self) -> dict[str, tuple[Path, str]]:
        return {"video": (self.rendered.video, "video/mp4"), "poster": (self.rendered.poster, "image/png")}

    def attach(self, result: SynthesisResult, stored: Mapping[str, StoredObject]) -> SynthesisResult:
        """The result with the stored video and poster."""
        video = stored["video"]
        return result.model_copy(
            update={
                "video": VideoResult(
                    url=video.url, key=video.key, bytes=video.bytes, sha256=video.sha256,
                    duration_s=round(self.rendered.duration_s, 3), resolution=self.options.resolution,
                    fps=self.options.fps, encoder=self.rendered.encoder,
                ),
                "poster": StoredFile.of(stored["poster"]),
            }
        )  # fmt: skip


def make_video(
    pipeline: Pipeline,
    soundtrack: Path,
    words: Sequence[TimedWord],
    layout: SubtitleLayout,
    options: VideoOptions,
    work: Path,
    duration_s: float,
) -> MadeVideo:
    """The speech as an MP4 with the job's captions (its mode and preset) laid out for the video's size, and a
    poster frame in the middle of the first cue."""
    video_layout = replace(layout, resolution=options.resolution)
    cues = build_cues(words, video_layout, audio_duration_s=duration_s)
    captions = work / "video.ass"
    captions.write_text(render_ass(cues, video_layout, audio_duration_s=duration_s), encoding="utf-8-sig")
    poster_at_s = (cues[0].start_s + cues[0].end_s) / 2 if cues else duration_s / 2
    spec = VideoSpec(resolution=options.resolution, fps=options.fps)
    background = options.background
    if isinstance(background, str):
        spec = replace(spec, background_colour=background)
    elif isinstance(background, ImageBackground):
        spec = replace(spec, background_image=_fetch_background(pipeline, background.image, "image", work))
    elif isinstance(background, VideoBackground):
        spec = replace(spec, background_video=_fetch_background(pipeline, background.video, "video", work))
    return MadeVideo(render_video(soundtrack, captions, spec, poster_at_s, work), options)


def _fetch_background(pipeline: Pipeline, url: str, kind: str, work: Path) -> Path:
    """A background picture or video, through the same guards as a voice URL."""
    field = f"output.video.background.{kind}"
    path = work / f"background-{kind}"
    try:
        fetch_to_file(url, path, MAX_BACKGROUND_BYTES, pipeline.voices.url_policy)
    except FetchRefused as refused:
        raise InvalidInput(field, str(refused)) from None
    except FetchFailed as failed:
        raise InvalidInput(field, f"could not be fetched: {failed}") from None
    return path


# --- Inline results ---


def by_name(files: Mapping[SubtitleFormat, tuple[Path, str]]) -> dict[str, tuple[Path, str]]:
    """Subtitle files among a job's other files, named by their format."""
    return {str(kind): file for kind, file in files.items()}


def inline_files(result: MutableMapping[str, Any], files: Mapping[str, tuple[Path, str]], enabled: bool) -> list[str]:
    """Put the stored files' contents in `result` (subtitles as text, the rest as base64), smallest first, as long
    as they fit INLINE_MAX_BYTES; a warning names each file left out, the limit and the fix."""
    if not enabled:
        return []
    warnings = []
    used = 0
    entries = {"audio": result.get("audio"), "video": result.get("video"), "poster": result.get("poster"),
               **(result.get("subtitles") or {})}  # fmt: skip
    for name, (path, content_type) in sorted(files.items(), key=lambda item: item[1][0].stat().st_size):
        entry = entries.get(name)
        if entry is None:
            continue
        is_text = content_type.startswith(("text/", "application/json", "application/x-subrip"))
        size = path.stat().st_size if is_text else (path.stat().st_size + 2) // 3 * 4  # as it will be carried
        if used + size > INLINE_MAX_BYTES:  # decided from the size: a large file is never read
            warnings.append(
                f"output.inline: the {name} ({size / 2**20:.1f} MiB inline) is left out: a result carries at "
                f"most {INLINE_MAX_BYTES // 2**20} MiB of files, to fit RunPod's 10 MB payload limit; configure a "
                "bucket (S3_BUCKET) for large files, or ask for a smaller format (audio.format mp3 or opus)"
            )
            continue
        content = path.read_text(encoding="utf-8-sig") if is_text else base64.b64encode(path.read_bytes()).decode()
        entry["text" if is_text else "base64"] = content
        used += size
    return warnings
