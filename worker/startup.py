"""Start-up: check the volume holds every model, load them onto the device, open storage. Logged per phase."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alignment import Aligner
from alignment.pocketsphinx_aligner import PocketsphinxAligner
from alignment.wav2vec2 import Wav2Vec2Aligner
from common.errors import ModelError
from storage import Storage
from storage.local import LocalStorage
from storage.s3 import S3Storage
from tts import SpeechSynthesizer
from tts.espeak import EspeakSynthesizer
from tts.f5 import F5Synthesizer
from tts.runtime import detect_runtime
from voice import Transcriber
from voice.transcriber import WhisperTranscriber
from worker.settings import Settings

log = logging.getLogger(__name__)

# A job in flight holds its reference, its share of a batch and its alignment: an estimate until bench/gpu_check.py
# has run on a GPU (BENCHMARKS.md).
GPU_GIB_PER_JOB = 8
MAX_AUTO_CONCURRENCY = 16

ASR_REQUIRED_FILES = ("config.json", "model.bin", "tokenizer.json")
HOW_TO_FILL = (
    "start the worker through the bootstrap (python -m bootstrap), which downloads the weights once, "
    "build random-weight test models with scripts/tiny_volume.py, "
    "or run the offline profile (WORKER_PROFILE=offline), which needs no weights"
)


@contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info("start-up: %s took %.2f s", name, time.perf_counter() - started)


def pick_device(setting: str) -> str:
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise ModelError("WORKER_DEVICE=cuda but no CUDA device is visible; use auto or cpu")
    return setting


def missing_models(settings: Settings) -> list[Path]:
    """Every model file the worker needs that is not on the volume."""
    layout = settings.layout
    f5_dir = layout.f5_dir(settings.f5_model)
    needed = [f5_dir / "vocab.txt", layout.vocos_dir / "config.yaml", layout.vocos_dir / "pytorch_model.bin"]
    needed += [layout.align_dir(language) / "config.json" for language in settings.align_languages]
    if settings.asr_model is not None:
        needed += [layout.asr_dir(settings.asr_model) / name for name in ASR_REQUIRED_FILES]
    missing = [path for path in needed if not path.is_file()]
    for language in settings.align_languages:
        folder = layout.align_dir(language)
        if not any((folder / name).is_file() for name in ("model.safetensors", "pytorch_model.bin")):
            missing.append(folder / "model.safetensors")
    if layout.f5_checkpoint(settings.f5_model) is None:
        missing.insert(0, f5_dir / "model.safetensors")
    return missing


@dataclass(frozen=True)
class Models:
    """Every engine and aligner this worker serves, by the name jobs use."""

    engines: Mapping[str, SpeechSynthesizer]
    aligners: Mapping[str, Aligner]
    transcriber: Transcriber | None = None  # for reference clips sent without a transcript


def load_models(settings: Settings) -> Models:
    """The full profile loads F5-TTS and wav2vec2 from the volume (and fails if they are missing); the offline
    profile needs nothing but the wheels. eSpeak NG and PocketSphinx are always there: they weigh nothing."""
    with phase("eSpeak NG + PocketSphinx load"):
        engines: dict[str, SpeechSynthesizer] = {"espeak": EspeakSynthesizer()}
        aligners: dict[str, Aligner] = {"pocketsphinx": PocketsphinxAligner()}
    if settings.profile == "offline":
        log.info("start-up: offline profile: eSpeak NG speaks, PocketSphinx or eSpeak's own events time the words")
        return Models(engines, aligners)
    synthesizer, wav2vec2, transcriber = _load_volume_models(settings)
    if wav2vec2 is not None:
        aligners["wav2vec2"] = wav2vec2
    return Models({**engines, "f5": synthesizer}, aligners, transcriber)


def _load_volume_models(settings: Settings) -> tuple[F5Synthesizer, Wav2Vec2Aligner | None, Transcriber | None]:
    """F5-TTS and Vocos must be there. An alignment or speech recognition model that is not is only a warning:
    PocketSphinx times English without one, a job in another language gets an error naming the setting, and a
    clip without a transcript gets an error asking for one."""
    layout = settings.layout
    all_missing = missing_models(settings)
    missing_alignment = [
        language
        for language in settings.align_languages
        if any(path.is_relative_to(layout.align_dir(language)) for path in all_missing)
    ]
    optional = (layout.models_dir / "align", layout.models_dir / "asr")
    missing = [path for path in all_missing if not any(path.is_relative_to(folder) for folder in optional)]
    if missing:
        # Files went missing after the weights were fetched: let the next bootstrap fetch them again.
        for marker in settings.layout.models_dir.glob(".weights-complete-*"):
            marker.unlink(missing_ok=True)
        listed = "\n  ".join(str(path) for path in missing)
        raise ModelError(f"model files are missing from the volume:\n  {listed}\nTo put them there: {HOW_TO_FILL}")
    device = pick_device(settings.device)
    runtime = detect_runtime(device, settings.tts_dtype)
    log.info("start-up: F5-TTS runs on %s; volume %s", runtime.describe(), settings.volume_dir)
    with phase("F5-TTS + Vocos load"):
        synthesizer = F5Synthesizer.load(
            layout.f5_dir(settings.f5_model), layout.vocos_dir, runtime, trained_languages=settings.f5_languages
        )
    with phase("F5-TTS warm-up"):
        synthesizer.warm_up()
    if missing_alignment:
        log.warning(
            "start-up: no wav2vec2 alignment model on the volume for %s (%s); PocketSphinx aligns English instead",
            ", ".join(missing_alignment),
            layout.models_dir / "align",
        )
    present = [language for language in settings.align_languages if language not in missing_alignment]
    aligner = None
    if present:
        with phase("alignment model load"):
            aligner = Wav2Vec2Aligner.load({language: layout.align_dir(language) for language in present}, device)
    return synthesizer, aligner, _load_transcriber(settings, device, all_missing)


def _load_transcriber(settings: Settings, device: str, all_missing: list[Path]) -> Transcriber | None:
    if settings.asr_model is None:
        return None
    folder = settings.layout.asr_dir(settings.asr_model)
    if any(path.is_relative_to(folder) for path in all_missing):
        log.warning(
            "start-up: no speech recognition model in %s; voice clips need their transcript (voice.text)", folder
        )
        return None
    with phase("speech recognition model load"):
        return WhisperTranscriber.load(folder, device)


def open_storage(settings: Settings) -> Storage:
    if settings.s3 is None:
        log.info("start-up: no S3 bucket configured; results go to %s", settings.output_dir)
        return LocalStorage(settings.output_dir, max_bytes=settings.cache_max_bytes)
    log.info("start-up: results go to S3 bucket %s", settings.s3.bucket)
    return S3Storage.connect(settings.s3)


def choose_concurrency(setting: int | None, device: str, gpu_memory_bytes: int | None) -> int:
    """Jobs one worker runs at once: the setting, else 1 on the CPU (jobs would only share its cores) and one per
    `GPU_GIB_PER_JOB` of GPU memory on a GPU, at most `MAX_AUTO_CONCURRENCY`."""
    if setting is not None:
        return setting
    if device != "cuda" or not gpu_memory_bytes:
        return 1
    return max(1, min(MAX_AUTO_CONCURRENCY, gpu_memory_bytes // (GPU_GIB_PER_JOB * 2**30)))


def worker_concurrency(settings: Settings) -> int:
    """`choose_concurrency` for this machine, logged."""
    device, memory = "cpu", None
    if settings.profile != "offline":
        device = pick_device(settings.device)
        if device == "cuda":
            import torch

            memory = torch.cuda.get_device_properties(0).total_memory
    concurrency = choose_concurrency(settings.concurrency, device, memory)
    how = "WORKER_CONCURRENCY" if settings.concurrency is not None else f"chosen for {device}"
    log.info(
        "start-up: up to %d jobs at once (%s); set the endpoint's per-worker concurrency to match", concurrency, how
    )
    return concurrency
