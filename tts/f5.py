"""F5-TTS from local files on the volume, through F5's own model classes.

Only what inference needs is imported: `f5_tts.model.cfm`, `.backbones.dit` and `.utils`, without the package's
`__init__` (which imports the trainer: wandb, accelerate, datasets) and without `f5_tts.infer.utils_infer` (which
imports transformers' pipelines, matplotlib, pydub and torchvision). That halves the modules start-up imports;
the loading and the per-chunk inference below do what `utils_infer.load_model`, `load_vocoder` and
`infer_batch_process` do, step for step, and tests/test_f5_equivalence.py checks that the results are identical.

Text is split into whole-word chunks within F5's duration budget (tts.chunking). All of a job's chunks are
generated at once: `tts.batching.BatchScheduler` puts them, and those of every other job in flight, into batched
model calls (`sample_batch`, F5's `CFM.sample` with each item's own starting noise). Each chunk's noise comes from
its own generator seeded from (job seed, chunk index), so a chunk's audio does not depend on its company. This
module joins the chunks itself so it knows each chunk's exact sample span in the final audio, which the aligner
needs.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import numpy as np

from alignment import MAX_SPAN_S
from common.dsp import TARGET_RMS  # F5 raises quieter references to this loudness and scales the output back
from common.errors import InvalidInput
from common.text import unspaced
from tts import ChunkSpan, Speech, SynthesisOptions
from tts.batching import MAX_BATCH_ITEMS, BatchScheduler
from tts.chunking import chunk_text
from tts.runtime import Runtime, batch_budget
from voice import ReferenceVoice

log = logging.getLogger(__name__)

CHECKPOINT_NAMES = ("model.safetensors", "model.pt")  # a release's EMA weights, in the order looked for
SAMPLE_RATE_HZ = 24_000
HOP_LENGTH = 256  # samples per mel frame (F5's packaged configs)
MAX_FRAMES = 65_536  # CFM.sample's own cap on a window
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

    def __init__(
        self,
        model: Any,
        vocoder: Any,
        device: str,
        name: str,
        budget: int,
        trained_languages: tuple[str, ...] | None = None,
    ) -> None:
        self._model = model
        self._vocoder = vocoder
        self._device = device
        self.name = name
        self.trained_languages = trained_languages
        self._window_frames = window_frames(model)
        # The only caller of the model: it batches the chunks of every job in flight.
        # On the CPU every call already uses all cores: batching only adds padding and the attention mask's cost
        # (a 5,000-character job took 0.6× as fast batched here: BENCHMARKS.md), so chunks go one per call there.
        self.scheduler: BatchScheduler[ChunkRequest, np.ndarray] = BatchScheduler(
            self._generate_batch,
            cost=ChunkRequest.cost,
            key=ChunkRequest.batch_key,
            budget=budget,
            max_items=1 if device == "cpu" else MAX_BATCH_ITEMS,
        )

    def speaks(self, language: str) -> bool:
        """F5-TTS reads any text it is given; how well depends on what the checkpoint was trained on."""
        return True

    @classmethod
    def load(
        cls, model_dir: Path, vocos_dir: Path, runtime: Runtime, trained_languages: tuple[str, ...] | None = None
    ) -> F5Synthesizer:
        """Load `model.safetensors`/`model.pt` + `vocab.txt` from `model_dir` and Vocos from `vocos_dir`;
        `trained_languages`: what the checkpoint was trained on, where known (a job in another gets a warning).

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
        # Batched items of different lengths must not attend to each other's padding (F5's configs leave the mask
        # off: they generate one item at a time). A batch of one passes no mask, so nothing changes for it.
        arch["attn_mask_enabled"] = True
        mel = cast(dict[str, Any], OmegaConf.to_container(config.mel_spec))

        vocab_char_map, vocab_size = f5_utils.get_tokenizer(str(model_dir / "vocab.txt"), "custom")
        with warnings.catch_warnings():  # F5 warns that SDPA with a mask takes memory: the batch budget counts it
            warnings.filterwarnings("ignore", message="attn_mask_enabled=True with attn_backend='torch'")
            transformer = dit_class(**arch, text_num_embeds=vocab_size, mel_dim=mel["n_mel_channels"])
        model = cfm_class(
            transformer=transformer,
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
        vocoder = _load_vocos(vocos_dir, runtime.device)
        budget = batch_budget(runtime.device, int(arch["heads"]), torch.finfo(getattr(torch, runtime.dtype)).bits // 8)
        name = f"F5-TTS/{model_dir.name}"
        return cls(model, vocoder, runtime.device, name=name, budget=budget, trained_languages=trained_languages)

    def warm_up(self) -> None:
        """One short synthesis at start-up, so the first job does not pay for kernel selection and caches."""
        noise = (np.random.default_rng(0).standard_normal(SAMPLE_RATE_HZ) * 0.05).astype(np.float32)
        self.synthesize("Warm up.", ReferenceVoice(noise, SAMPLE_RATE_HZ, "Hello."), SynthesisOptions(nfe_step=4))

    def synthesize(self, text: str, voice: ReferenceVoice | None, options: SynthesisOptions) -> Speech:
        if voice is None:
            raise ValueError("F5-TTS clones a reference voice: it needs one")
        if voice.sample_rate_hz != SAMPLE_RATE_HZ:
            raise ValueError(f"reference voice must be decoded at {SAMPLE_RATE_HZ} Hz")
        chunks = chunk_text(text, self._chunk_budget_bytes(voice, options.speed))
        reference = self.reference(voice)  # once per job, on the device
        requests = [
            # The model reads Chinese and Japanese as written, without the spaces between characters' units.
            ChunkRequest.of(reference, unspaced(chunk), options, chunk_seed(options.seed, i))
            for i, chunk in enumerate(chunks)
        ]
        self._check_window(requests)
        pieces = self.scheduler.run(requests)
        samples, spans = join_chunks(pieces, chunks, int(options.cross_fade_s * SAMPLE_RATE_HZ))
        return Speech(samples=samples, sample_rate_hz=SAMPLE_RATE_HZ, chunks=spans)

    def close(self) -> None:
        """Stop the model's thread, so the model can be freed (the worker itself never needs to)."""
        self.scheduler.close()

    def _check_window(self, requests: Sequence[ChunkRequest]) -> None:
        """Refuse a chunk that would outgrow the model's window: F5 fails on it deep inside the transformer."""
        longest = max(request.window for request in requests)
        if longest > self._window_frames:
            frames_per_s = SAMPLE_RATE_HZ / HOP_LENGTH
            raise InvalidInput(
                "text",
                f"with this reference voice one part of the text needs {longest / frames_per_s:.0f} s of audio in "
                f"one window, over F5-TTS's {self._window_frames / frames_per_s:.0f} s. Give voice.text the clip's "
                "whole transcript (a transcript much shorter than what the clip says stretches every word), or "
                "raise tts.speed",
            )

    def reference(self, voice: ReferenceVoice) -> F5Reference:
        """The reference as F5 conditions on it, its mel frames computed once for all of a job's chunks."""
        import torch

        with torch.inference_mode():
            return F5Reference.of(voice, self._device, self._model)

    def _generate_batch(self, requests: list[ChunkRequest]) -> list[np.ndarray]:
        """One model call for the batch, then Vocos for each item (batched Vocos would change the end of
        shorter items: its convolutions would see the padding)."""
        import torch

        with torch.inference_mode():
            mels = sample_batch(self._model, requests)
            return [self._decode(mel, request.reference) for mel, request in zip(mels, requests, strict=True)]

    def _decode(self, mel: Any, reference: F5Reference) -> np.ndarray:
        import torch

        wave = self._vocoder.decode(mel.to(torch.float32).unsqueeze(0).permute(0, 2, 1))
        if reference.level < TARGET_RMS:
            wave = wave * reference.level / TARGET_RMS
        return np.asarray(wave.squeeze().cpu().numpy(), dtype=np.float32).reshape(-1)

    @staticmethod
    def _chunk_budget_bytes(voice: ReferenceVoice, speed: float) -> int:
        # Same estimate as F5's infer_process: text bytes per second of the reference, times the time left.
        bytes_per_s = len(voice.transcript.encode("utf-8")) / voice.duration_s
        return max(MIN_CHUNK_BYTES, int(bytes_per_s * (WINDOW_BUDGET_S - voice.duration_s) * speed))


@dataclass(frozen=True)
class F5Reference:
    """The reference as F5 conditions on it: raised to TARGET_RMS if quieter, its mel frames on the device, with
    its transcript ended as F5 ends it."""

    mel: Any  # torch tensor, mel frames × channels, in the model's dtype
    frames: int  # samples // hop: what F5 counts as the reference's length when it estimates and cuts
    level: float  # the clip's own RMS, to scale the output back
    transcript: str

    @classmethod
    def of(cls, voice: ReferenceVoice, device: str, model: Any) -> F5Reference:
        import torch

        audio = torch.from_numpy(voice.samples).unsqueeze(0)
        level = float(torch.sqrt(torch.mean(torch.square(audio))))
        if level < TARGET_RMS:
            audio = audio * TARGET_RMS / level
        transcript = reference_text(voice.transcript)
        if len(transcript[-1].encode("utf-8")) == 1:  # F5 adds a space after a one-byte last character, even
            transcript += " "  # after the one reference_text ends with: same input, same duration estimate
        # As CFM.sample computes it from a waveform: its own mel spectrogram, in the transformer's dtype.
        mel = model.mel_spec(audio.to(device)).permute(0, 2, 1)[0]
        return cls(mel.to(next(model.parameters()).dtype), audio.shape[-1] // HOP_LENGTH, level, transcript)


@dataclass(frozen=True)
class ChunkRequest:
    """One chunk for the scheduler: the reference, the text as F5 tokenizes it, how many frames to generate in
    all (reference included), the seed of its starting noise, and the sampling options a batch must share."""

    reference: F5Reference
    text: tuple[str, ...]  # F5's tokens for reference transcript + chunk text (characters, or pinyin for Chinese)
    total_frames: int
    seed: int
    steps: int
    cfg_strength: float
    sway_sampling_coef: float

    @classmethod
    def of(cls, reference: F5Reference, text: str, options: SynthesisOptions, seed: int) -> ChunkRequest:
        _, _, f5_utils = f5_model_modules()
        speed = 0.3 if len(text.encode("utf-8")) < SHORT_TEXT_BYTES else options.speed
        # As F5 estimates it: the reference's frames per transcript byte, times the new text's bytes.
        transcript_bytes = len(reference.transcript.encode("utf-8"))
        new_frames = int(reference.frames / transcript_bytes * len(text.encode("utf-8")) / speed)
        tokens = f5_utils.convert_char_to_pinyin([reference.transcript + text])[0]
        return cls(
            reference=reference,
            text=tuple(tokens),
            total_frames=reference.frames + new_frames,
            seed=seed,
            steps=options.nfe_step,
            cfg_strength=options.cfg_strength,
            sway_sampling_coef=options.sway_sampling_coef,
        )

    @property
    def window(self) -> int:
        """The frames the model's window holds for this chunk: as CFM.sample sizes it, at least one per token."""
        return max(self.total_frames, len(self.text) + 1)

    def cost(self) -> int:
        """Attention's work and memory grow with the square of the frames in the window."""
        return self.window**2

    def batch_key(self) -> Hashable:
        return (self.steps, self.cfg_strength, self.sway_sampling_coef)


def window_frames(model: Any) -> int:
    """The most mel frames (reference + generated) one window may hold: the text embedding's positions where it
    has them (8,192 frames, about 87 s, in F5's v1 configs), and never more than an aligner takes at once."""
    aligner_limit = int(MAX_SPAN_S * SAMPLE_RATE_HZ / HOP_LENGTH)
    text_embed = model.transformer.text_embed
    if text_embed.extra_modeling:
        return min(int(text_embed.precompute_max_pos), aligner_limit)
    return aligner_limit


def chunk_seed(job_seed: int, chunk_index: int) -> int:
    """The seed of one chunk's starting noise: a function of the job's seed and the chunk's place alone."""
    return int(np.random.SeedSequence([job_seed, chunk_index]).generate_state(1)[0])


def sample_batch(model: Any, requests: Sequence[ChunkRequest]) -> list[Any]:
    """F5's `CFM.sample` for a batch whose items each bring their own starting noise: the generated mel frames of
    each item (reference frames left out), frames × channels.

    Step for step what `CFM.sample` does with a reference mel, text, per-item durations and `lens` (a batch of one
    runs without a mask, as there): tests/test_f5_equivalence.py holds it to F5's own inference.
    """
    import torch
    import torch.nn.functional as F  # noqa: N812 (torch's own convention)
    from torch.nn.utils.rnn import pad_sequence
    from torchdiffeq import odeint

    _, _, f5_utils = f5_model_modules()
    first = requests[0]
    device, dtype = first.reference.mel.device, first.reference.mel.dtype
    lens = torch.tensor([request.reference.mel.shape[0] for request in requests], device=device)
    text = f5_utils.list_str_to_idx([list(request.text) for request in requests], model.vocab_char_map).to(device)
    duration = torch.tensor([request.total_frames for request in requests], device=device)
    duration = torch.maximum(torch.maximum((text != -1).sum(dim=-1), lens) + 1, duration).clamp(max=MAX_FRAMES)
    longest = int(duration.amax())
    cond = pad_sequence([request.reference.mel for request in requests], batch_first=True)
    cond = F.pad(cond, (0, 0, 0, longest - cond.shape[1]), value=0.0)
    cond_mask = F.pad(f5_utils.lens_to_mask(lens), (0, longest - int(lens.amax())), value=False).unsqueeze(-1)
    step_cond = torch.where(cond_mask, cond, torch.zeros_like(cond))
    mask = f5_utils.lens_to_mask(duration) if len(requests) > 1 else None
    noise = [
        _noise(int(frames), model.num_channels, request.seed, device, dtype)
        for frames, request in zip(duration, requests, strict=True)
    ]
    y0 = pad_sequence(noise, padding_value=0, batch_first=True)

    def flow(t: Any, x: Any) -> Any:
        if first.cfg_strength < 1e-5:
            return model.transformer(
                x=x, cond=step_cond, text=text, time=t, mask=mask, drop_audio_cond=False, drop_text=False, cache=True
            )
        both = model.transformer(x=x, cond=step_cond, text=text, time=t, mask=mask, cfg_infer=True, cache=True)
        conditioned, unconditioned = torch.chunk(both, 2, dim=0)
        return conditioned + (conditioned - unconditioned) * first.cfg_strength

    t = f5_utils.get_epss_timesteps(first.steps, device=device, dtype=dtype)
    t = t + first.sway_sampling_coef * (torch.cos(torch.pi / 2 * t) - 1 + t)
    try:
        trajectory = odeint(flow, y0, t, **model.odeint_kwargs)
    finally:
        model.transformer.clear_cache()
    out = torch.where(cond_mask, cond, trajectory[-1])
    # Cut where F5 cuts: after `reference.frames` (samples // hop), one frame before the reference's mel ends.
    return [out[index, request.reference.frames : int(duration[index])] for index, request in enumerate(requests)]


def _noise(frames: int, channels: int, seed: int, device: Any, dtype: Any) -> Any:
    import torch

    generator = torch.Generator(device=device).manual_seed(seed)
    return torch.randn(frames, channels, generator=generator, device=device, dtype=dtype)


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
