"""The GPU's memory, asked without importing torch: only code that already loaded torch can run out of GPU
memory, and the offline profile runs without it."""

from __future__ import annotations

import sys


def is_out_of_memory(error: BaseException) -> bool:
    """Whether `error` is torch's out-of-memory error."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(error, torch.OutOfMemoryError)


def free_gpu_cache() -> None:
    """Give the memory a failed call held back to the device, so the next call can use it."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
