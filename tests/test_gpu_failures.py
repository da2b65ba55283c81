"""GPU failures in any stage: out of memory is the job's model_error and frees what it held; a sticky CUDA error
(the device is unusable from then on) is the job's model_error and asks RunPod for a fresh worker.

No GPU fails here on demand: the stage's model call raises the error torch (or CTranslate2) raises on one, and
what is tested is everything around it: the handler, the pipeline, the scheduler and RunPod's SDK.
"""

from __future__ import annotations

import asyncio
import base64

import pytest
import torch

import worker.pipeline
from alignment.wav2vec2 import Wav2Vec2Aligner
from common.errors import DeviceFailure, ModelError
from common.gpu import as_gpu_failure
from handler import make_handler
from storage.local import LocalStorage
from tests.invariants import check_result
from tts.batching import BatchScheduler
from voice.stage import VoiceStage
from voice.transcriber import WhisperTranscriber
from worker.pipeline import Pipeline

TEXT = "Every word of this sentence gets its own time."
ILLEGAL_ACCESS = "CUDA error: an illegal memory access was encountered\nCUDA kernel errors might be asynchronously"


@pytest.fixture
def handle(loaded_models, tmp_path, voice_clip):  # type: ignore[no-untyped-def]
    (tmp_path / "scratch").mkdir()
    pipeline = Pipeline(
        loaded_models.engines,
        loaded_models.aligners,
        LocalStorage(tmp_path / "output"),
        voices=VoiceStage(transcriber=loaded_models.transcriber, transcript_cache_dir=tmp_path / "transcripts"),
        work_dir=tmp_path / "scratch",
    )
    return make_handler(pipeline)


def job(voice_clip, transcript: str | None = "A voice that hums a tune.") -> dict:  # type: ignore[no-untyped-def]
    voice = {"base64": base64.b64encode(voice_clip.read_bytes()).decode()}
    if transcript is not None:
        voice["text"] = transcript
    return {"id": "gpu-job", "input": {"text": TEXT, "voice": voice, "tts": {"nfe_step": 4, "seed": 1}}}


def test_the_errors_a_gpu_raises_are_told_apart():
    assert isinstance(as_gpu_failure(torch.OutOfMemoryError("CUDA out of memory.")), ModelError)
    assert isinstance(as_gpu_failure(RuntimeError("CUDA failed with error out of memory")), ModelError)
    for sticky in (ILLEGAL_ACCESS, "CUDA error: device-side assert triggered", "CUBLAS_STATUS_EXECUTION_FAILED"):
        failure = as_gpu_failure(torch.AcceleratorError(sticky))
        assert isinstance(failure, DeviceFailure) and "send the job again" in failure.message
    assert as_gpu_failure(RuntimeError("shape mismatch")) is None
    assert as_gpu_failure(ValueError("CUDA error: device-side assert triggered")) is None


@pytest.mark.slow
def test_out_of_memory_in_alignment_is_a_model_error_and_the_next_job_runs(handle, voice_clip, monkeypatch):
    def out_of_memory(*args: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")

    freed: list[bool] = []
    monkeypatch.setattr(Wav2Vec2Aligner, "_log_probs", out_of_memory)
    monkeypatch.setattr(worker.pipeline, "free_gpu_cache", lambda: freed.append(True))
    answer = handle(job(voice_clip))
    assert answer == {"error": answer["error"]}  # no refresh: the device is fine once the memory is back
    assert answer["error"].startswith("model_error: the GPU ran out of memory for this job; retry it")
    assert freed == [True]
    monkeypatch.undo()
    check_result(handle(job(voice_clip)), TEXT)


@pytest.mark.slow
def test_out_of_memory_in_transcription_is_a_model_error(handle, voice_clip, monkeypatch):
    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise RuntimeError("CUDA failed with error out of memory")  # CTranslate2's, under faster-whisper

    monkeypatch.setattr(WhisperTranscriber, "transcribe", out_of_memory)
    answer = handle(job(voice_clip, transcript=None))
    assert answer["error"].startswith("model_error: the GPU ran out of memory") and "refresh_worker" not in answer


@pytest.mark.slow
def test_a_sticky_cuda_error_fails_the_job_and_asks_runpod_for_a_fresh_worker(handle, voice_clip, monkeypatch):
    from runpod.serverless.modules.rp_job import run_job

    def illegal_access(*args: object) -> None:
        raise torch.AcceleratorError(ILLEGAL_ACCESS)

    def device_lost() -> None:
        raise torch.AcceleratorError(ILLEGAL_ACCESS)  # what any later call on a failed device raises

    monkeypatch.setattr(Wav2Vec2Aligner, "_log_probs", illegal_access)
    monkeypatch.setattr(worker.pipeline, "free_gpu_cache", device_lost)  # not called: it would fail again
    answer = handle(job(voice_clip))
    assert answer["refresh_worker"] is True
    assert answer["error"].startswith("model_error: the GPU failed (CUDA error: an illegal memory access")
    # RunPod's SDK turns the flag into stopPod: the worker is stopped after this job and a fresh one started.
    sent = asyncio.run(run_job(handle, job(voice_clip)))
    assert sent["stopPod"] is True and sent["error"] == answer["error"] and "output" not in sent


def test_a_sticky_error_fails_every_item_of_its_batch_without_retrying_them():
    calls: list[int] = []

    def run_batch(items: list[tuple[str, int]]) -> list[int]:
        calls.append(len(items))
        raise torch.AcceleratorError("CUDA error: device-side assert triggered")

    batches: BatchScheduler[tuple[str, int], int] = BatchScheduler(
        run_batch, cost=lambda item: item[1], key=lambda item: item[0], budget=100
    )
    with pytest.raises(torch.AcceleratorError):
        batches.run([("a", 1), ("a", 2), ("a", 3)])
    assert calls == [3]  # one call: the device would fail any split of it too
    batches.close()
