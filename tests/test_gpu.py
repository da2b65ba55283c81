"""On a CUDA machine: full-size random-weight F5-TTS runs in half precision on the GPU. Skipped elsewhere.

Speed is measured by bench/tts_rtf.py, not asserted here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.gpu, pytest.mark.slow]


@pytest.fixture(scope="module")
def cuda() -> str:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device: run `uv run pytest -m gpu` on a GPU machine")
    return "cuda"


def test_full_size_f5_synthesizes_in_half_precision_on_the_gpu(cuda):
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.tts_rtf import TEXT, build
    from tts import SynthesisOptions
    from voice import ReferenceVoice

    synthesizer, _ = build(small=False, device=cuda, dtype=torch.float16)
    reference = ReferenceVoice(np.zeros(24000 * 3, dtype=np.float32) + 0.01, 24000, "This is the voice you hear.")
    speech = synthesizer.synthesize(TEXT, reference, SynthesisOptions(nfe_step=16, seed=1))
    assert speech.duration_s > 5.0 and np.isfinite(speech.samples).all()
    assert next(synthesizer._model.parameters()).dtype == torch.float16  # type: ignore[attr-defined]
