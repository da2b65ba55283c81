"""Where and how F5-TTS runs: device, floating-point type and attention kernel, chosen once at start-up.

`choose_runtime` is a pure function of what the machine offers, so every rule below is tested without a GPU;
`detect_runtime` asks torch what the machine offers.

- CPU: float32 and torch's scaled-dot-product attention (half precision is slow or missing on CPUs).
- CUDA: float16 on compute capability 7.0 or newer (tensor cores; F5-TTS's own default, the precision its
  checkpoints are published and tested with), float32 on older cards. bfloat16 only when asked for
  (WORKER_TTS_DTYPE=bfloat16): same speed, fewer mantissa bits, not what F5 was tuned with.
- flash-attn when it is importable, the device is CUDA with a half type, and the card is Ampere (8.0) or newer,
  which flash-attn 2 needs; torch SDPA otherwise (it picks its own flash or memory-efficient kernel).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from common.errors import ModelError


@dataclass(frozen=True)
class Runtime:
    device: str  # cpu | cuda
    dtype: str  # float32 | float16 | bfloat16
    attention: str  # torch (SDPA) | flash_attn: F5's DiT `attn_backend`

    def describe(self) -> str:
        return f"{self.device}, {self.dtype}, {'flash-attn' if self.attention == 'flash_attn' else 'torch SDPA'}"


def choose_runtime(
    device: str,
    dtype_setting: str,
    capability: tuple[int, int] | None,
    bf16_supported: bool,
    flash_attn_importable: bool,
) -> Runtime:
    """The runtime for `device` (cpu or cuda) given the card's compute capability and what is installed."""
    if device == "cpu":
        if dtype_setting not in ("auto", "float32"):
            raise ModelError(f"WORKER_TTS_DTYPE={dtype_setting} is not supported on the CPU; use auto or float32")
        return Runtime("cpu", "float32", "torch")
    major = capability[0] if capability else 0
    dtype = dtype_setting
    if dtype == "auto":
        dtype = "float16" if major >= 7 else "float32"
    if dtype == "bfloat16" and not bf16_supported:
        raise ModelError("WORKER_TTS_DTYPE=bfloat16 but this GPU has no bfloat16; use auto or float16")
    half = dtype in ("float16", "bfloat16")
    attention = "flash_attn" if flash_attn_importable and half and major >= 8 else "torch"
    return Runtime("cuda", dtype, attention)


def detect_runtime(device: str, dtype_setting: str) -> Runtime:
    import torch

    on_cuda = device == "cuda"
    return choose_runtime(
        device,
        dtype_setting,
        capability=torch.cuda.get_device_capability() if on_cuda else None,
        bf16_supported=on_cuda and torch.cuda.is_bf16_supported(),
        flash_attn_importable=importlib.util.find_spec("flash_attn") is not None,
    )


# What one batch may cost, in frames² summed over its (padded) items: attention's work and memory grow with the
# square of the frames in the window. On the CPU: four 30 s windows (2,600 frames). On a GPU: from free memory,
# counting per frame² and head: guidance's doubled batch, the scores and softmax's copy, and the padding mask.
CPU_BUDGET_FRAMES2 = 4 * 2_600**2
MEMORY_SHARE = 0.5  # of the memory free after loading: the rest for activations, Vocos and the other models


def batch_budget(device: str, heads: int, bytes_per_value: int, free_bytes: int | None = None) -> int:
    """The scheduler's budget for a batch on `device` (tts.batching), from the free memory (asked of torch
    unless given), the transformer's heads and the size of one value in its dtype. An estimate until
    bench/gpu_check.py has measured the memory a batch really takes."""
    if device == "cpu":
        return CPU_BUDGET_FRAMES2
    if free_bytes is None:
        import torch

        free_bytes, _ = torch.cuda.mem_get_info()
    bytes_per_frame2 = heads * (2 * 2 * bytes_per_value + 1)  # 2 × (scores + softmax), + one byte of mask
    return max(CPU_BUDGET_FRAMES2 // 4, int(free_bytes * MEMORY_SHARE) // bytes_per_frame2)
