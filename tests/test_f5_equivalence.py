"""The worker loads and runs F5-TTS without `f5_tts.infer.utils_infer`; these tests hold it to the library's own
`load_model`, `load_vocoder` and `infer_batch_process`: the same weights, and the same samples for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tts import SynthesisOptions
from tts.f5 import SAMPLE_RATE_HZ, F5Synthesizer, chunk_seed, reference_text
from tts.runtime import Runtime
from voice import ReferenceVoice
from worker.layout import VolumeLayout

pytestmark = pytest.mark.slow

CPU = Runtime("cpu", "float32", "torch")


@pytest.fixture(scope="module")
def library(tiny_volume: Path):  # type: ignore[no-untyped-def]
    """The tiny model and vocoder loaded by F5's own loaders, and the worker's loader's result."""
    from importlib.resources import files

    from f5_tts.infer.utils_infer import load_model, load_vocoder
    from f5_tts.model import DiT
    from omegaconf import OmegaConf

    layout = VolumeLayout.on(tiny_volume)
    model_dir = layout.f5_dir("F5TTS_v1_Base")
    config = OmegaConf.load(str(files("f5_tts").joinpath("configs/F5TTS_v1_Base.yaml")))
    arch = {**OmegaConf.to_container(config.model.arch), **json.loads((model_dir / "arch.json").read_text())}
    model = load_model(
        DiT, arch, str(model_dir / "model.safetensors"), vocab_file=str(model_dir / "vocab.txt"), device="cpu"
    )
    vocoder = load_vocoder("vocos", is_local=True, local_path=str(layout.vocos_dir), device="cpu")
    ours = F5Synthesizer.load(model_dir, layout.vocos_dir, CPU)
    return model, vocoder, ours


def test_the_same_weights_are_loaded(library):
    model, vocoder, ours = library
    for theirs, mine in ((model.state_dict(), ours._model.state_dict()),
                         (vocoder.state_dict(), ours._vocoder.state_dict())):  # fmt: skip
        assert theirs.keys() == mine.keys()
        for key in theirs:
            assert torch.equal(theirs[key], mine[key]), key


def reference(level: float) -> ReferenceVoice:
    noise = np.random.default_rng(3).standard_normal(2 * SAMPLE_RATE_HZ).astype(np.float32)
    return ReferenceVoice(noise / np.sqrt(np.mean(noise**2)) * level, SAMPLE_RATE_HZ, "A reference clip")


@pytest.mark.parametrize(
    ("text", "level", "options"),
    [
        ("Some words to say in the cloned voice.", 0.05, SynthesisOptions(nfe_step=8, seed=11)),  # quiet: raised
        ("Louder, faster, fewer steps.", 0.3, SynthesisOptions(nfe_step=4, speed=1.4, cfg_strength=1.0, seed=5)),
        ("Hi.", 0.1, SynthesisOptions(nfe_step=6, sway_sampling_coef=0.5, seed=7)),  # short text: slow speed
    ],
)
def test_the_same_samples_come_out_for_the_same_seed(library, text, level, options):
    from f5_tts.infer.utils_infer import infer_batch_process

    model, vocoder, ours = library
    voice = reference(level)
    torch.manual_seed(chunk_seed(options.seed, 0))  # the first chunk's noise: F5 draws it from torch's generator
    theirs, _, _ = next(
        infer_batch_process(
            (torch.from_numpy(voice.samples).unsqueeze(0), SAMPLE_RATE_HZ),
            reference_text(voice.transcript),
            [text],
            model,
            vocoder,
            progress=None,
            nfe_step=options.nfe_step,
            cfg_strength=options.cfg_strength,
            sway_sampling_coef=options.sway_sampling_coef,
            speed=options.speed,
            device="cpu",
        )
    )
    mine = ours.synthesize(text, voice, options)
    assert len(mine.chunks) == 1
    np.testing.assert_array_equal(mine.samples, np.asarray(theirs, dtype=np.float32))
