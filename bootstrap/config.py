"""Bootstrap settings: a pure function of the environment (standard library only)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_DIR_NAME = "f5tts-worker"
RUNPOD_VOLUME = Path("/runpod-volume")
PROJECT_DIR = Path(__file__).resolve().parent.parent
# What a built environment must import before it is published: the handler's heavy imports.
DEFAULT_SMOKE_IMPORTS = "import runpod, torch, torchaudio, whisperx.alignment, f5_tts.model, boto3, ass, pydantic"

log = logging.getLogger("bootstrap")


@dataclass(frozen=True)
class BootstrapConfig:
    app_dir: Path
    project_dir: Path  # holds pyproject.toml, uv.lock and handler.py
    smoke_imports: str
    lease_enabled: bool
    lease_heartbeat_s: float
    lease_stale_s: float
    build_timeout_s: float
    temp_max_age_s: float
    prune_old_envs: bool
    flash_attn_wheel: str | None
    fetch_weights: bool

    @property
    def envs_dir(self) -> Path:
        return self.app_dir / "envs"

    @property
    def uv_cache_dir(self) -> Path:
        return self.app_dir / "cache" / "uv"

    @property
    def addons_dir(self) -> Path:
        return self.app_dir / "addons"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BootstrapConfig:
        env = os.environ if env is None else env
        return cls(
            app_dir=choose_volume(env) / APP_DIR_NAME,
            project_dir=Path(env.get("WORKER_PROJECT_DIR") or PROJECT_DIR),
            smoke_imports=env.get("WORKER_SMOKE_IMPORTS") or DEFAULT_SMOKE_IMPORTS,
            lease_enabled=_flag(env, "WORKER_BUILD_LEASE", True),
            lease_heartbeat_s=float(env.get("WORKER_LEASE_HEARTBEAT_S", "5")),
            lease_stale_s=float(env.get("WORKER_LEASE_STALE_S", "60")),
            build_timeout_s=float(env.get("WORKER_BUILD_TIMEOUT_S", "3600")),
            temp_max_age_s=float(env.get("WORKER_TEMP_MAX_AGE_S", str(6 * 3600))),
            prune_old_envs=_flag(env, "WORKER_PRUNE_OLD_ENVS", False),
            flash_attn_wheel=env.get("WORKER_FLASH_ATTN_WHEEL") or None,
            fetch_weights=_flag(env, "WORKER_FETCH_WEIGHTS", True),
        )


def choose_volume(env: Mapping[str, str]) -> Path:
    """WORKER_VOLUME, else /runpod-volume, else ./.volume; a volume that cannot be written falls back too."""
    candidate = Path(env["WORKER_VOLUME"]) if env.get("WORKER_VOLUME") else RUNPOD_VOLUME
    if _writable(candidate):
        return candidate
    fallback = Path(env.get("WORKER_LOCAL_VOLUME") or ".volume").absolute()
    if candidate != RUNPOD_VOLUME or RUNPOD_VOLUME.exists():
        log.warning("volume %s is missing or read-only: using %s (not shared between workers)", candidate, fallback)
    else:
        log.warning("no /runpod-volume: using %s (not shared between workers)", fallback)
    return fallback


def _writable(path: Path) -> bool:
    if not path.is_dir():
        return False
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
