"""Where things live on the volume.

One place names every path the worker reads or writes under its app folder, so the bootstrap, the model
loaders, the demo-volume script and the tests agree on the layout:

    <volume>/f5tts-worker/
        envs/<key>/                        Python environments (the bootstrap's own, standard-library code)
        models/f5/<model name>/            model.safetensors (or model.pt), vocab.txt, optional arch.json
        models/vocos/                      config.yaml, pytorch_model.bin
        models/align/<language>/           a Hugging Face wav2vec2 CTC folder
        models/asr/<model>/                a faster-whisper (CTranslate2) model, for clips without a transcript
        cache/transcripts/                 transcripts of clips, by hash (voice/transcriber.py)
        outputs/                           results when no S3 bucket is configured
        voices/<name>/                     the voice library when no S3 bucket is configured (voice/library.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tts.f5 import CHECKPOINT_NAMES as F5_CHECKPOINT_NAMES

APP_DIR_NAME = "f5tts-worker"


@dataclass(frozen=True)
class VolumeLayout:
    """Paths under one app folder on a volume."""

    app_dir: Path

    @classmethod
    def on(cls, volume_dir: Path) -> VolumeLayout:
        return cls(app_dir=volume_dir / APP_DIR_NAME)

    @property
    def models_dir(self) -> Path:
        return self.app_dir / "models"

    def f5_dir(self, model_name: str) -> Path:
        return self.models_dir / "f5" / model_name

    def f5_checkpoint(self, model_name: str) -> Path | None:
        """The checkpoint file in the model's folder, or None when there is none yet."""
        for name in F5_CHECKPOINT_NAMES:
            candidate = self.f5_dir(model_name) / name
            if candidate.is_file():
                return candidate
        return None

    @property
    def vocos_dir(self) -> Path:
        return self.models_dir / "vocos"

    def align_dir(self, language: str) -> Path:
        return self.models_dir / "align" / language

    def asr_dir(self, model: str) -> Path:
        """`model` is a faster-whisper size (large-v3-turbo) or a hub id (owner/name): one folder either way."""
        return self.models_dir / "asr" / model.replace("/", "--")

    @property
    def transcripts_dir(self) -> Path:
        return self.app_dir / "cache" / "transcripts"

    @property
    def outputs_dir(self) -> Path:
        return self.app_dir / "outputs"
