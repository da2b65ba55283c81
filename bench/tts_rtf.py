"""F5-TTS real-time factor with full-size random weights (the real compute cost, no checkpoint needed).

    uv run python bench/tts_rtf.py                 # on a GPU: NFE 16 and 32, fp16 and bf16, eager and compiled
    uv run python bench/tts_rtf.py --small         # anywhere: a shrunk model on the CPU, to check the script

Builds `CFM(DiT)` from F5's packaged F5TTS_v1_Base config and a Vocos with the charactr/vocos-mel-24khz
architecture, both with random weights, and times the worker's own `F5Synthesizer.synthesize` on a 3 s reference
and about 10 s of text. RTF = synthesis seconds / audio seconds (lower is faster); the median of `--runs` after
one warm-up run. Anchors: 0.15 in the F5 paper (RTX 3090), 0.147 PyTorch and 0.039 TensorRT-LLM on an L20, NFE 16.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT = (
    "Captions light up exactly when each word is spoken, so the video and the voice never drift apart. "
    "This paragraph is long enough to take about ten seconds to say at a calm and steady pace."
)
VOCOS_FULL = {"dim": 512, "intermediate_dim": 1536, "num_layers": 8}
VOCOS_SMALL = {"dim": 64, "intermediate_dim": 128, "num_layers": 2}
SMALL_F5 = {"dim": 128, "depth": 4, "heads": 4, "text_dim": 64, "conv_layers": 2}


def build(small: bool, device: str, dtype: object):
    import torch
    from vocos import Vocos
    from vocos.feature_extractors import MelSpectrogramFeatures
    from vocos.heads import ISTFTHead
    from vocos.models import VocosBackbone

    from scripts.tiny_volume import random_f5
    from tts.f5 import F5Synthesizer
    from tts.runtime import batch_budget

    model = random_f5(SMALL_F5 if small else {}).to(device, dtype=dtype)
    sizes = VOCOS_SMALL if small else VOCOS_FULL
    vocoder = Vocos(
        feature_extractor=MelSpectrogramFeatures(sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100),
        backbone=VocosBackbone(input_channels=100, **sizes),
        head=ISTFTHead(dim=sizes["dim"], n_fft=1024, hop_length=256),
    ).to(device).eval()  # fmt: skip
    parameters = sum(p.numel() for p in model.parameters()) / 1e6
    heads = model.transformer.transformer_blocks[0].attn.heads
    budget = batch_budget(device, heads, torch.finfo(dtype).bits // 8)
    return F5Synthesizer(model.eval(), vocoder, device, name="random-weights", budget=budget), parameters


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="a shrunk model, for a CPU")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import torch

    from tts import SynthesisOptions
    from voice import ReferenceVoice

    device = "cuda" if torch.cuda.is_available() and not args.small else "cpu"
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16} if device == "cuda" else {"fp32": torch.float32}
    reference = ReferenceVoice(
        (np.random.default_rng(0).standard_normal(24000 * 3) * 0.1).astype(np.float32), 24000,
        "This is the voice you will hear.",
    )  # fmt: skip
    print(f"device {device}{' (' + torch.cuda.get_device_name() + ')' if device == 'cuda' else ''}")
    print(f"{'dtype':>5} {'compile':>8} {'NFE':>4} {'audio':>7} {'median':>8} {'RTF':>7}")
    for dtype_name, dtype in dtypes.items():
        for compiled in (False, True) if device == "cuda" else (False,):
            synthesizer, parameters = build(args.small, device, dtype)
            if compiled:
                synthesizer._model.transformer = torch.compile(synthesizer._model.transformer)
            for nfe in (16, 32):
                options = SynthesisOptions(nfe_step=nfe, seed=1)
                synthesizer.synthesize(TEXT, reference, options)  # warm-up (and compilation)
                times, duration = [], 0.0
                for _ in range(args.runs):
                    if device == "cuda":
                        torch.cuda.synchronize()
                    started = time.perf_counter()
                    speech = synthesizer.synthesize(TEXT, reference, options)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    times.append(time.perf_counter() - started)
                    duration = speech.duration_s
                median = statistics.median(times)
                row = f"{dtype_name:>5} {str(compiled):>8} {nfe:>4} {duration:6.1f}s {median:7.2f}s"
                print(f"{row} {median / duration:7.3f}")
    print(f"F5 DiT parameters: {parameters:.0f} M")


if __name__ == "__main__":
    main()
