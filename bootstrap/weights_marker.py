"""The marker that says the volume holds the weights for the current model settings.

Shared by the bootstrap (which checks it, standard library only, to skip starting the fetcher) and
`worker.weights` (which writes it after every model is in place).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

# Every setting that changes which weights the worker needs (and any ALIGN_MODEL_<LANGUAGE>).
WEIGHT_SETTINGS = ("F5_MODEL", "F5_REPO", "F5_CHECKPOINT_FILE", "F5_VOCAB_FILE", "VOCOS_REPO", "WORKER_ALIGN_LANGUAGES",
                   "WORKER_ASR_MODEL")  # fmt: skip


def weights_marker(models_dir: Path, env: Mapping[str, str]) -> Path:
    names = sorted({*WEIGHT_SETTINGS, *(name for name in env if name.startswith("ALIGN_MODEL_"))})
    described = "\n".join(f"{name}={env.get(name, '')}" for name in names)
    return models_dir / f".weights-complete-{hashlib.sha256(described.encode()).hexdigest()[:16]}"
