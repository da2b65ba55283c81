"""F5-TTS from local files on the volume, through F5's own model classes.

Only what inference needs is imported: `f5_tts.model.cfm`, `.backbones.dit` and `.utils`, without the package's
`__init__` (which imports the trainer: wandb, accelerate, datasets) and without `f5_tts.infer.utils_infer` (which
imports transformers' pipelines, matplotlib, pydub and torchvision). That halves the modules start-up imports;
the loading and the per-chunk inference below do what `utils_infer.load_model`, `load_vocoder` and
`infer_batch_process` do, step for step, and tests/test_f5_equivalence.py checks that the results are identical.

Text is split into whole-word chunks within F5's duration budget (tts.chunking); each chunk is one model call,
and this module joins the chunks itself so it knows each chunk's exact sample span in the final audio, which the
aligner needs.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import numpy as np

from common.dsp import TARGET_RMS  # F5 raises quieter references to this loudness and scales the output back
from common.gpu import out_of_memory_as_model_error
from tts import ChunkSpan, Speech, SynthesisOptions
from tts.chunking import chunk_text
from tts.runtime import Runtime
from voice import ReferenceVoice

log = logging.getLogger(__name__)

CHECKPOINT_NAMES = ("model.safetensors", "model.pt")  # a release's EMA weights, in the order looked for
SAMPLE_RATE_HZ = 24_000
HOP_LENGTH = 256  # samples per mel frame (F5's packaged configs)
# F5 generates reference + text in one window of about 30 s; infer_process budgets 22 s minus the reference.
WINDOW_BUDGET_S = 22.0
MIN_CHUNK_BYTES = 40
SHORT_TEXT_BYTES = 10  # F5 gives a chunk this short a slow speed (0.3), or it comes out clipped
# Checkpoint keys of buffers F5 computes itself (kept out for compatibility with older checkpoints).
COMPUTED_BUFFERS = ("mel_spec.mel_stft.mel_scale.fb", "mel_spec.mel_stft.spectrogram.window")


def f5_model_modules() -> tuple[Any, Any, ModuleType]:
    """F5's `CFM`, `DiT` and `f5_tts.model.utils`, imported without the package's training-stack `__init__`.

    The package is registered unexecuted (its submodules import it by name), then given the two class names its
    `__init__` would export, so `from f5_tts.model import CFM, DiT` keeps working in the same process.
    """
    import importlib.util
    import sys

    if "f5_tts.model" not in sys.modules:
        spec = importlib.util.find_spec("f5_tts.model")
        if spec is None:
            raise ModuleNotFoundError("f5_tts is not installed")
        sys.modules["f5_tts.model"] = importlib.util.module_from_spec(spec)
    from f5_tts.model import utils
    from f5_tts.model.backbones.dit import DiT
    from f5_tts.model.cfm import CFM

    package = sys.modules["f5_tts.model"]
    for name, value in (("CFM", CFM), ("DiT", DiT)):
        if not hasattr(package, name):
            setattr(package, name, value)
    return CFM, DiT, utils


class F5Synthesizer:
    """Loads an F5-TTS checkpoint and a Vocos vocoder once; synthesizes any number of jobs after that."""

    sample_rate_hz = SAMPLE_RATE_HZ
    needs_reference = True  # it clones the reference voice
    times_words = False  # the aligner finds when each word is spoken

    def __init__(self, model: Any, vocoder: Any, device: str, name: str) -> None:
        self._model = model
        self._vocoder = vocoder
        self._device = device
        self.name = name
        self._lock = threading.Lock()  # one job at a time: the seed is process-wide torch state

    def speaks(self, language: str) -> bool:
        """F5-TTS reads any text it is given; how well depends on what the checkpoint was trained on."""
        return True

    @classmethod
    def load(cls, model_dir: Path, vocos_dir: Path, runtime: Runtime) -> F5Synthesizer:
        """Load `model.safetensors`/`model.pt` + `vocab.txt` from `model_dir` and Vocos from `vocos_dir`.

        The architecture comes from F5's packaged config named like the folder (e.g. F5TTS_v1_Base); an
        `arch.json` in the folder overrides its fields, for fine-tunes of another size. The transformer runs in
        the runtime's dtype and attention kernel; Vocos stays in float32 (F5 decodes in float32 too).
        """
        from importlib.resources import files

        import torch
        from omegaconf import OmegaConf

        cfm_class, dit_class, f5_utils = f5_model_modules()
        checkpoint = next((model_dir / n for n in CHECKPOINT_NAMES if (model_dir / n).is_file()), None)
        if checkpoint is None:
            raise FileNotFoundError(f"no model.safetensors or model.pt in {model_dir}")
        config_path = Path(str(files("f5_tts").joinpath(f"configs/{model_dir.name}.yaml")))
        if not config_path.is_file():
            raise FileNotFoundError(f"F5-TTS has no packaged config named {model_dir.name}")
        config = OmegaConf.load(config_path).model
        arch = cast(dict[str, Any], OmegaConf.to_container(config.arch))
        if (model_dir / "arch.json").is_file():
            arch.update(json.loads((model_dir / "arch.json").read_text()))
        arch["attn_backend"] = runtime.attention
        mel = cast(dict[str, Any], OmegaConf.to_container(config.mel_spec))

        vocab_char_map, vocab_size = f5_utils.get_tokenizer(str(model_dir / "vocab.txt"), "custom")
        model = cfm_class(
            transformer=dit_class(**arch, text_num_embeds=vocab_size, mel_dim=mel["n_mel_channels"]),
            mel_spec_kwargs={
                "n_fft": mel["n_fft"],
                "hop_length": mel["hop_length"],
                "win_length": mel["win_length"],
                "n_mel_channels": mel["n_mel_channels"],
                "target_sample_rate": mel["target_sample_rate"],
                "mel_spec_type": "vocos",
            },
            odeint_kwargs={"method": "euler"},
            vocab_char_map=vocab_char_map,
        )
        model.load_state_dict(_ema_weights(checkpoint))
        model = model.to(runtime.device, getattr(torch, runtime.dtype)).eval()
        return cls(model, _load_vocos(vocos_dir, runtime.device), runtime.device, name=f"F5-TTS/{model_dir.name}")

    def warm_up(self) -> None:
        """One short synthesis at start-up, so the first job does not pay for kernel selection and caches."""
        noise = (np.random.default_rng(0).standard_normal(SAMPLE_RATE_HZ) * 0.05).astype(np.float32)
        self.synthesize("Warm up.", ReferenceVoice(noise, SAMPLE_RATE_HZ, "Hello."), SynthesisOptions(nfe_step=4))

    def synthesize(self, text: str, voice: ReferenceVoice | None, options: SynthesisOptions) -> Speech:
        import torch

        if voice is None:
            raise ValueError("F5-TTS clones a reference voice: it needs one")
        if voice.sample_rate_hz != SAMPLE_RATE_HZ:
            raise ValueError(f"reference voice must be decoded at {SAMPLE_RATE_HZ} Hz")
        chunks = chunk_text(text, self._chunk_budget_bytes(voice, options.speed))
        pieces: list[np.ndarray] = []
        advice = "retry with a shorter text or a lower tts.nfe_step"
        with self._lock, torch.inference_mode(), out_of_memory_as_model_error(advice):
            reference = _Reference.of(voice, self._device)  # once per job, on the device
            torch.manual_seed(options.seed)
            for chunk in chunks:
                pieces.append(self._generate(reference, chunk, options))
        samples, spans = join_chunks(pieces, chunks, int(options.cross_fade_s * SAMPLE_RATE_HZ))
        return Speech(samples=samples, sample_rate_hz=SAMPLE_RATE_HZ, chunks=spans)

    def _generate(self, reference: _Reference, text: str, options: SynthesisOptions) -> np.ndarray:
        """One model call: the reference's mel frames plus enough new frames for `text`, then Vocos."""
        import torch

        _, _, f5_utils = f5_model_modules()
        speed = 0.3 if len(text.encode("utf-8")) < SHORT_TEXT_BYTES else options.speed
        reference_frames = reference.audio.shape[-1] // HOP_LENGTH
        # As F5 estimates it: the reference's frames per transcript byte, times the new text's bytes.
        transcript_bytes = len(reference.transcript.encode("utf-8"))
        new_frames = int(reference_frames / transcript_bytes * len(text.encode("utf-8")) / speed)
        mel, _ = self._model.sample(
            cond=reference.audio,
            text=f5_utils.convert_char_to_pinyin([reference.transcript + text]),
            duration=reference_frames + new_frames,
            steps=options.nfe_step,
            cfg_strength=options.cfg_strength,
            sway_sampling_coef=options.sway_sampling_coef,
        )
        mel = mel.to(torch.float32)[:, reference_frames:, :].permute(0, 2, 1)
        wave = self._vocoder.decode(mel)
        if reference.level < TARGET_RMS:
            wave = wave * reference.level / TARGET_RMS
        return np.asarray(wave.squeeze().cpu().numpy(), dtype=np.float32).reshape(-1)

    @staticmethod
    def _chunk_budget_bytes(voice: ReferenceVoice, speed: float) -> int:
        # Same estimate as F5's infer_process: text bytes per second of the reference, times the time left.
        bytes_per_s = len(voice.transcript.encode("utf-8")) / voice.duration_s
        return max(MIN_CHUNK_BYTES, int(bytes_per_s * (WINDOW_BUDGET_S - voice.duration_s) * speed))


@dataclass(frozen=True)
class _Reference:
    """The reference as F5 conditions on it: raised to TARGET_RMS if quieter, on the device, with its transcript
    ended as F5 ends it."""

    audio: Any  # torch tensor, 1 × samples
    level: float  # the clip's own RMS, to scale the output back
    transcript: str

    @classmethod
    def of(cls, voice: ReferenceVoice, device: str) -> _Reference:
        import torch

        audio = torch.from_numpy(voice.samples).unsqueeze(0)
        level = float(torch.sqrt(torch.mean(torch.square(audio))))
        if level < TARGET_RMS:
            audio = audio * TARGET_RMS / level
        transcript = reference_text(voice.transcript)
        if len(transcript[-1].encode("utf-8")) == 1:  # F5 adds a space after a one-byte last character, even
            transcript += " "  # after the one reference_text ends with: same input, same duration estimate
        return cls(audio.to(device), level, transcript)


def _ema_weights(checkpoint: Path) -> dict[str, Any]:
    """The EMA weights of a released checkpoint (safetensors: the EMA state itself; .pt: under a key)."""
    import torch

    if checkpoint.suffix == ".safetensors":
        from safetensors.torch import load_file

        ema = load_file(str(checkpoint), device="cpu")
    else:
        ema = torch.load(str(checkpoint), map_location="cpu", weights_only=True)["ema_model_state_dict"]
    weights = {key.replace("ema_model.", ""): value for key, value in ema.items() if key not in ("initted", "step")}
    for key in COMPUTED_BUFFERS:
        weights.pop(key, None)
    return weights


def _load_vocos(vocos_dir: Path, device: str) -> Any:
    """Vocos from its `config.yaml` and `pytorch_model.bin` (the mel-spectrogram variant F5 uses)."""
    import torch
    from vocos import Vocos

    vocoder = Vocos.from_hparams(str(vocos_dir / "config.yaml"))
    state = torch.load(str(vocos_dir / "pytorch_model.bin"), map_location="cpu", weights_only=True)
    vocoder.load_state_dict(state)
    return vocoder.eval().to(device)


def reference_text(transcript: str) -> str:
    """The transcript as F5 expects it: ending in a sentence stop and a space, so the generated text starts a
    new sentence instead of running on from the reference's last word (F5's own preprocessing does the same)."""
    text = transcript.strip()
    if text.endswith(("。", "！", "？")):
        return text
    return (text if text.endswith((".", "!", "?")) else text + ".") + " "


def join_chunks(
    pieces: list[np.ndarray], texts: list[str], cross_fade_samples: int
) -> tuple[np.ndarray, tuple[ChunkSpan, ...]]:
    """Cross-fade consecutive pieces and return the joined audio with each text's span in it."""
    if not pieces:
        return np.zeros(0, dtype=np.float32), ()
    joined = pieces[0]
    boundaries = [0]
    for piece in pieces[1:]:
        fade = min(cross_fade_samples, len(joined), len(piece))
        start = len(joined) - fade
        if fade > 0:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            overlap = joined[start:] * (1.0 - ramp) + piece[:fade] * ramp
            joined = np.concatenate([joined[:start], overlap, piece[fade:]])
        else:
            joined = np.concatenate([joined, piece])
        boundaries.append(start + fade // 2)
    boundaries.append(len(joined))
    spans = tuple(
        ChunkSpan(text=text, start_sample=boundaries[i], end_sample=boundaries[i + 1]) for i, text in enumerate(texts)
    )
    return joined.astype(np.float32, copy=False), spans
