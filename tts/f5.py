"""F5-TTS through the library's own loaders, from local files on the volume.

Text is split into whole-word chunks within F5's duration budget (tts.chunking); each chunk is one model call,
and this module joins the chunks itself (rather than letting F5 cross-fade them) so it knows each chunk's exact
sample span in the final audio, which the aligner needs.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np

from tts import ChunkSpan, ReferenceVoice, Speech, SynthesisOptions
from tts.chunking import chunk_text
from tts.runtime import Runtime
from worker.layout import F5_CHECKPOINT_NAMES

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 24_000
# F5 generates reference + text in one window of about 30 s; infer_process budgets 22 s minus the reference.
WINDOW_BUDGET_S = 22.0
MIN_CHUNK_BYTES = 40


class F5Synthesizer:
    """Loads an F5-TTS checkpoint and a Vocos vocoder once; synthesizes any number of jobs after that."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, model: object, vocoder: object, device: str, name: str) -> None:
        self._model = model
        self._vocoder = vocoder
        self._device = device
        self.name = name
        self._lock = threading.Lock()  # one job at a time: the seed is process-wide torch state

    @classmethod
    def load(cls, model_dir: Path, vocos_dir: Path, runtime: Runtime) -> F5Synthesizer:
        """Load `model.safetensors`/`model.pt` + `vocab.txt` from `model_dir` and Vocos from `vocos_dir`.

        The architecture comes from F5's packaged config named like the folder (e.g. F5TTS_v1_Base); an
        `arch.json` in the folder overrides its fields, for fine-tunes of another size. The transformer runs in
        the runtime's dtype and attention kernel; Vocos stays in float32 (F5 decodes in float32 too).
        """
        from importlib.resources import files

        import torch
        from f5_tts.infer.utils_infer import load_model, load_vocoder
        from f5_tts.model import DiT
        from omegaconf import OmegaConf

        checkpoint = next((model_dir / n for n in F5_CHECKPOINT_NAMES if (model_dir / n).is_file()), None)
        if checkpoint is None:
            raise FileNotFoundError(f"no model.safetensors or model.pt in {model_dir}")
        config_path = Path(str(files("f5_tts").joinpath(f"configs/{model_dir.name}.yaml")))
        if not config_path.is_file():
            raise FileNotFoundError(f"F5-TTS has no packaged config named {model_dir.name}")
        arch = dict(OmegaConf.to_container(OmegaConf.load(config_path).model.arch))  # type: ignore[arg-type]
        if (model_dir / "arch.json").is_file():
            arch.update(json.loads((model_dir / "arch.json").read_text()))
        arch["attn_backend"] = runtime.attention

        device = runtime.device
        model = load_model(
            DiT, arch, str(checkpoint), mel_spec_type="vocos", vocab_file=str(model_dir / "vocab.txt"), device=device
        )
        model = model.to(getattr(torch, runtime.dtype)).eval()
        vocoder = load_vocoder("vocos", is_local=True, local_path=str(vocos_dir), device=device)
        return cls(model, vocoder, device, name=f"F5-TTS/{model_dir.name}")

    def warm_up(self) -> None:
        """One short synthesis at start-up, so the first job does not pay for kernel selection and caches."""
        noise = (np.random.default_rng(0).standard_normal(SAMPLE_RATE_HZ) * 0.05).astype(np.float32)
        self.synthesize("Warm up.", ReferenceVoice(noise, SAMPLE_RATE_HZ, "Hello."), SynthesisOptions(nfe_step=4))

    def synthesize(self, text: str, voice: ReferenceVoice | None, options: SynthesisOptions) -> Speech:
        import torch
        from f5_tts.infer.utils_infer import infer_batch_process

        if voice is None:
            raise ValueError("F5-TTS clones a reference voice: it needs one")
        if voice.sample_rate_hz != SAMPLE_RATE_HZ:
            raise ValueError(f"reference voice must be decoded at {SAMPLE_RATE_HZ} Hz")
        reference = torch.from_numpy(voice.samples).unsqueeze(0)
        transcript = reference_text(voice.transcript)
        chunks = chunk_text(text, self._chunk_budget_bytes(voice, options.speed))

        pieces: list[np.ndarray] = []
        with self._lock, torch.inference_mode():
            torch.manual_seed(options.seed)
            for chunk in chunks:
                wave, _, _ = next(
                    infer_batch_process(
                        (reference, SAMPLE_RATE_HZ),
                        transcript,
                        [chunk],
                        self._model,
                        self._vocoder,
                        progress=None,
                        nfe_step=options.nfe_step,
                        cfg_strength=options.cfg_strength,
                        sway_sampling_coef=options.sway_sampling_coef,
                        speed=options.speed,
                        device=self._device,
                    )
                )
                pieces.append(np.asarray(wave, dtype=np.float32).reshape(-1))
        samples, spans = join_chunks(pieces, chunks, int(options.cross_fade_s * SAMPLE_RATE_HZ))
        return Speech(samples=samples, sample_rate_hz=SAMPLE_RATE_HZ, chunks=spans)

    @staticmethod
    def _chunk_budget_bytes(voice: ReferenceVoice, speed: float) -> int:
        # Same estimate as F5's infer_process: text bytes per second of the reference, times the time left.
        bytes_per_s = len(voice.transcript.encode("utf-8")) / voice.duration_s
        return max(MIN_CHUNK_BYTES, int(bytes_per_s * (WINDOW_BUDGET_S - voice.duration_s) * speed))


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
