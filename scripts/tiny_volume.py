"""Build a volume of tiny random-weight models in the worker's real layout.

Random weights make noise, not speech: the point is that every stage runs for real (F5-TTS's own loaders,
Vocos, forced alignment with a wav2vec2 CTC model) without downloading gigabytes.
The tests build one of these; a person can build one to try the worker on a laptop:

    uv run python scripts/tiny_volume.py .volume
    WORKER_VOLUME=.volume uv run python handler.py --test_input "$(cat test_input.json)"

The models are the libraries' real classes, shrunk: F5's `CFM(DiT)` from the packaged F5TTS_v1_Base config at
dim 64 / depth 2, a Vocos with a one-layer backbone, a two-layer `Wav2Vec2ForCTC` with a character vocabulary
(Latin letters; for zh and ja also Han characters and kana),
and a two-layer Whisper in faster-whisper's format whose every transcript is " hello" (scripts/tiny_whisper.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from scripts.tiny_whisper import build_tiny_faster_whisper  # noqa: E402
from worker.layout import VolumeLayout  # noqa: E402

F5_MODEL_NAME = "F5TTS_v1_Base"
ASR_MODEL_NAME = "large-v3-turbo"  # the worker's default WORKER_ASR_MODEL
TINY_F5_ARCH = {"dim": 64, "depth": 2, "heads": 2, "dim_head": 32, "text_dim": 32, "conv_layers": 1}
ALIGN_LETTERS = "abcdefghijklmnopqrstuvwxyz'"
# Chinese and Japanese alignment models have a character vocabulary (WhisperX's zh model: about 3,500 Han
# characters); the tiny ones take the whole CJK unified block, and kana for Japanese.
HAN = "".join(chr(code) for code in range(0x4E00, 0xA000))
KANA = "".join(chr(code) for code in range(0x3041, 0x3097)) + "".join(chr(code) for code in range(0x30A1, 0x30FB))
CHARACTER_VOCABULARIES = {"zh": HAN, "ja": KANA + HAN}
# Vocos backbone sizes: charactr/vocos-mel-24khz's, and a tiny one.
VOCOS_FULL = {"dim": 512, "intermediate_dim": 1536, "num_layers": 8}
VOCOS_TINY = {"dim": 32, "intermediate_dim": 64, "num_layers": 1}
TINY_WAV2VEC2 = {
    "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
    "conv_dim": (32, 32, 32, 32, 32, 32, 32), "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4,
}  # fmt: skip


def build_tiny_volume(
    volume_dir: Path,
    languages: tuple[str, ...] = ("en",),
    seed: int = 0,
    full_size: bool = False,
    speech_recognition: bool = True,
) -> VolumeLayout:
    """Write tiny models for F5, Vocos, the given alignment languages and speech recognition into `volume_dir`;
    with `full_size`, F5 (F5TTS_v1_Base, 336 M parameters), Vocos and wav2vec2 (base) at the sizes of the
    released models: the real compute cost without the checkpoints. Without `speech_recognition`, no Whisper
    (for workers run with WORKER_ASR_MODEL=none, and machines without CTranslate2)."""
    import torch

    torch.manual_seed(seed)
    layout = VolumeLayout.on(volume_dir)
    _write_f5(layout.f5_dir(F5_MODEL_NAME), {} if full_size else TINY_F5_ARCH)
    _write_vocos(layout.vocos_dir, VOCOS_FULL if full_size else VOCOS_TINY)
    for language in languages:
        write_wav2vec2(layout.align_dir(language), full_size, language)
    if speech_recognition:
        build_tiny_faster_whisper(layout.asr_dir(ASR_MODEL_NAME), seed=seed)
    return layout


def random_f5(arch_overrides: dict[str, int]):
    """F5's `CFM(DiT)` as its packaged F5TTS_v1_Base config builds it, with `arch_overrides`, random weights."""
    from importlib.resources import files

    from omegaconf import OmegaConf

    from tts.f5 import f5_model_modules  # not `from f5_tts.model import …`: the package imports its trainer

    CFM, DiT, f5_utils = f5_model_modules()
    vocab_map, vocab_size = f5_utils.get_tokenizer(str(files("f5_tts").joinpath("infer/examples/vocab.txt")), "custom")
    config = OmegaConf.load(str(files("f5_tts").joinpath(f"configs/{F5_MODEL_NAME}.yaml")))
    arch = {**cast(dict[str, Any], OmegaConf.to_container(config.model.arch)), **arch_overrides}
    mel = config.model.mel_spec
    transformer = DiT(**arch, text_num_embeds=vocab_size, mel_dim=mel.n_mel_channels)
    _randomize_zero_initialized(transformer)
    return CFM(
        transformer=transformer,
        mel_spec_kwargs=dict(
            n_fft=mel.n_fft,
            hop_length=mel.hop_length,
            win_length=mel.win_length,
            n_mel_channels=mel.n_mel_channels,
            target_sample_rate=mel.target_sample_rate,
            mel_spec_type=mel.mel_spec_type,
        ),
        vocab_char_map=vocab_map,
    )


def _randomize_zero_initialized(transformer: Any) -> None:
    """DiT starts training with its output layer and its blocks' AdaLN at zero, so a fresh DiT predicts no flow
    at all and the sampler returns its starting noise. Random values there make every part of the sampler
    (guidance, the time schedule, text, masks) change the output, as trained weights do."""
    import torch

    zeroed = [transformer.norm_out.linear, transformer.proj_out]
    zeroed += [block.attn_norm.linear for block in transformer.transformer_blocks]
    with torch.no_grad():
        for layer in zeroed:
            layer.weight.normal_(0.0, 0.02)
            layer.bias.normal_(0.0, 0.02)


def _write_f5(model_dir: Path, arch: dict[str, int]) -> None:
    from importlib.resources import files

    from safetensors.torch import save_file

    model_dir.mkdir(parents=True, exist_ok=True)
    packaged_vocab = Path(str(files("f5_tts").joinpath("infer/examples/vocab.txt")))
    (model_dir / "vocab.txt").write_bytes(packaged_vocab.read_bytes())
    model = random_f5(arch)
    # F5 releases ship the EMA weights as a flat safetensors file, which `load_checkpoint` reads with use_ema.
    state = {f"ema_model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(model_dir / "model.safetensors"))
    if arch:
        (model_dir / "arch.json").write_text(json.dumps(arch, indent=2) + "\n")


def _write_vocos(vocos_dir: Path, sizes: dict[str, int]) -> None:
    import torch
    from vocos import Vocos

    vocos_dir.mkdir(parents=True, exist_ok=True)
    config = """\
feature_extractor:
  class_path: vocos.feature_extractors.MelSpectrogramFeatures
  init_args:
    sample_rate: 24000
    n_fft: 1024
    hop_length: 256
    n_mels: 100
    padding: center
backbone:
  class_path: vocos.models.VocosBackbone
  init_args:
    input_channels: 100
    dim: {dim}
    intermediate_dim: {intermediate_dim}
    num_layers: {num_layers}
head:
  class_path: vocos.heads.ISTFTHead
  init_args:
    dim: {dim}
    n_fft: 1024
    hop_length: 256
    padding: center
"""
    (vocos_dir / "config.yaml").write_text(config.format(**sizes))
    vocos = Vocos.from_hparams(str(vocos_dir / "config.yaml"))
    torch.save(vocos.state_dict(), vocos_dir / "pytorch_model.bin")


def write_wav2vec2(model_dir: Path, full_size: bool, language: str = "en") -> None:
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    model_dir.mkdir(parents=True, exist_ok=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    for letter in ALIGN_LETTERS + CHARACTER_VOCABULARIES.get(language, ""):
        vocab[letter] = len(vocab)
    (model_dir / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(
        str(model_dir / "vocab.json"), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|"
    )
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(str(model_dir))
    sizes = {} if full_size else TINY_WAV2VEC2  # Wav2Vec2Config's defaults are wav2vec2-base's
    config = Wav2Vec2Config(vocab_size=len(vocab), pad_token_id=0, **sizes)
    Wav2Vec2ForCTC(config).save_pretrained(str(model_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("volume", type=Path, help="folder to use as the worker's volume (WORKER_VOLUME)")
    parser.add_argument("--languages", default="en", help="comma-separated alignment languages (default: en)")
    parser.add_argument("--full-size", action="store_true", help="the released models' sizes (GPU benchmarks)")
    args = parser.parse_args(argv)
    layout = build_tiny_volume(args.volume, tuple(args.languages.split(",")), full_size=args.full_size)
    print(f"tiny random-weight models written under {layout.models_dir}")
    print("they make noise, not speech: the plumbing is real, the voice is not")
    return 0


if __name__ == "__main__":
    sys.exit(main())
