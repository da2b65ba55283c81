"""On a CUDA machine: the real load path with full-size random weights. Skipped elsewhere.

A full-size checkpoint is written as a release is (safetensors + vocab) and loaded through `F5Synthesizer.load`
with the runtime the machine gets (`detect_runtime`), warmed up, run, and made to run out of memory for real.
Speed is measured by bench/gpu_check.py, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.gpu, pytest.mark.slow]

TEXT = (
    "Captions light up exactly when each word is spoken, so the video and the voice never drift apart. "
    "This paragraph is long enough to take about ten seconds to say at a calm and steady pace."
)


@pytest.fixture(scope="module")
def full_size_volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device: run `uv run pytest -m gpu` on a GPU machine (or bench/gpu_check.py)")
    from scripts.tiny_volume import build_tiny_volume

    volume = tmp_path_factory.mktemp("full-size")
    build_tiny_volume(volume, full_size=True, speech_recognition=False)
    return volume


def load(volume: Path, dtype: str):
    from tts.f5 import F5Synthesizer
    from tts.runtime import detect_runtime
    from worker.layout import VolumeLayout

    layout = VolumeLayout.on(volume)
    synthesizer = F5Synthesizer.load(layout.f5_dir("F5TTS_v1_Base"), layout.vocos_dir, detect_runtime("cuda", dtype))
    synthesizer.warm_up()
    return synthesizer


def reference():
    from voice import ReferenceVoice

    samples = (np.random.default_rng(0).standard_normal(3 * 24000) * 0.1).astype(np.float32)
    return ReferenceVoice(samples, 24000, "This is the voice you hear, three seconds of it.")


@pytest.mark.parametrize(("setting", "expected"), [("auto", "float16"), ("bfloat16", "bfloat16")])
def test_a_full_size_checkpoint_loads_and_speaks_in_half_precision(full_size_volume, setting, expected):
    import torch

    from tts import SynthesisOptions

    synthesizer = load(full_size_volume, setting)
    speech = synthesizer.synthesize(TEXT, reference(), SynthesisOptions(nfe_step=16, seed=1))
    assert speech.duration_s > 5.0 and np.isfinite(speech.samples).all()
    assert next(synthesizer._model.parameters()).dtype == getattr(torch, expected)
    assert sum(p.numel() for p in synthesizer._model.parameters()) > 300e6  # F5TTS_v1_Base's size


def test_running_out_of_gpu_memory_is_a_model_error_and_the_next_job_runs(full_size_volume):
    import torch

    from common.errors import ModelError
    from tts import SynthesisOptions

    synthesizer = load(full_size_volume, "auto")
    free_bytes, _ = torch.cuda.mem_get_info()
    hog = torch.empty(free_bytes - 16 * 2**20, dtype=torch.uint8, device="cuda")  # leave 16 MiB
    try:
        with pytest.raises(ModelError, match="ran out of memory for this job"):
            synthesizer.synthesize(TEXT * 4, reference(), SynthesisOptions(nfe_step=16, seed=1))
    finally:
        del hog
        torch.cuda.empty_cache()
    assert synthesizer.synthesize(TEXT, reference(), SynthesisOptions(nfe_step=16, seed=1)).duration_s > 5.0
