"""The GPU's failures and memory, asked without importing torch: only code that already loaded torch can run out of
GPU memory, and the offline profile runs without it."""

from __future__ import annotations

import contextlib
import sys

from common.errors import DeviceFailure, ModelError

OUT_OF_MEMORY_ADVICE = (
    "the GPU ran out of memory for this job; retry it, and if it happens again lower the worker's "
    "WORKER_CONCURRENCY (jobs in flight share the GPU)"
)
DEVICE_FAILURE_ADVICE = "the GPU failed ({}); this worker is being replaced: send the job again"
# CUDA errors after which the context is corrupt and every later call fails: only a new process recovers.
STICKY_CUDA_ERRORS = (
    "device-side assert",
    "illegal memory access",
    "illegal instruction",
    "misaligned address",
    "unspecified launch failure",
    "uncorrectable ECC error",
    "CUDA error: unknown error",
    "STATUS_EXECUTION_FAILED",  # cuBLAS and cuDNN report a failed kernel so
)


def is_out_of_memory(error: BaseException) -> bool:
    """Whether `error` is torch's out-of-memory error, or CTranslate2's (faster-whisper), which is a RuntimeError."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "CUDA failed with error out of memory" in str(error)


def is_sticky_device_error(error: BaseException) -> bool:
    """Whether `error` is a CUDA error that leaves the device unusable for this process."""
    return isinstance(error, RuntimeError) and any(marker in str(error) for marker in STICKY_CUDA_ERRORS)


def as_gpu_failure(error: BaseException) -> ModelError | None:
    """The error the caller gets for a GPU failure (out of memory, or a sticky error: DeviceFailure), or None when
    `error` is not one."""
    if is_out_of_memory(error):
        return ModelError(OUT_OF_MEMORY_ADVICE)
    if is_sticky_device_error(error):
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return DeviceFailure(DEVICE_FAILURE_ADVICE.format(first_line[:200]))
    return None


def free_gpu_cache() -> None:
    """Give the memory a failed call held back to the device, so the next call can use it. Never raises: it runs
    while another error is being reported."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        with contextlib.suppress(RuntimeError):
            torch.cuda.empty_cache()
