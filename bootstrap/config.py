"""Bootstrap settings: a pure function of the environment (standard library only)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

from bootstrap import log

APP_DIR_NAME = "f5tts-worker"
RUNPOD_VOLUME = Path("/runpod-volume")
PROJECT_DIR = Path(__file__).resolve().parent.parent
# What must import before an environment is published; the files it touches become the local start-up copy
# (bootstrap/startup_copy.py), so it names what start-up and jobs import, lazily loaded modules included.
DEFAULT_SMOKE_IMPORTS = (
    "import runpod, torch, torchaudio, transformers, vocos, omegaconf, safetensors.torch, boto3, pydantic, "
    "requests, espeakng_loader, pocketsphinx, faster_whisper, pyloudnorm, scipy.signal, scipy.ndimage, "
    "transformers.models.wav2vec2.modeling_wav2vec2, handler, worker.pipeline, worker.startup, tts.f5; "
    "tts.f5.f5_model_modules()"
)
DEFAULT_LOCAL_COPY_DIR = "/tmp/f5tts-worker-envs"  # noqa: S108 (the container's own disk, one folder per key)
# A lease must outlive more than this many heartbeats before it counts as stale, so one late beat is not a takeover.
LEASE_BEATS_PER_STALE = 2


class BootstrapConfig:
    """Read-only settings. A plain class: `dataclasses` costs ~5 ms to import on the fast path."""

    def __init__(
        self,
        *,
        app_dir: Path,
        project_dir: Path,  # holds pyproject.toml, uv.lock and handler.py
        smoke_imports: str,
        lease_enabled: bool,
        lease_heartbeat_s: float,
        lease_stale_s: float,
        build_timeout_s: float,
        temp_max_age_s: float,
        prune_old_envs: bool,
        flash_attn_wheel: str | None,
        fetch_weights: bool,
        local_copy_dir: Path | None = None,
        local_volume: bool = False,
    ) -> None:
        self.app_dir = app_dir
        self.project_dir = project_dir
        self.smoke_imports = smoke_imports
        self.lease_enabled = lease_enabled
        self.lease_heartbeat_s = lease_heartbeat_s
        self.lease_stale_s = lease_stale_s
        self.build_timeout_s = build_timeout_s
        self.temp_max_age_s = temp_max_age_s
        self.prune_old_envs = prune_old_envs
        self.flash_attn_wheel = flash_attn_wheel
        self.fetch_weights = fetch_weights
        self.local_copy_dir = local_copy_dir  # where the environment's start-up files are unpacked; None: not
        # No network volume: the environment and uv's cache share this machine's disk and nothing else uses them.
        self.local_volume = local_volume

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
        volume, local_volume = choose_volume(env)
        heartbeat_s = _seconds(env, "WORKER_LEASE_HEARTBEAT_S", 5, above_zero=True)
        stale_s = _seconds(env, "WORKER_LEASE_STALE_S", 60)
        if stale_s <= LEASE_BEATS_PER_STALE * heartbeat_s:
            # Otherwise a late beat (a slow volume, a busy host) lets another worker take over a live build.
            fix = f"set WORKER_LEASE_STALE_S above {LEASE_BEATS_PER_STALE * heartbeat_s:g}"
            if stale_s > 0:
                fix += f" or WORKER_LEASE_HEARTBEAT_S below {stale_s / LEASE_BEATS_PER_STALE:g}"
            raise ConfigError(
                f"WORKER_LEASE_STALE_S={stale_s:g} must be more than {LEASE_BEATS_PER_STALE} times "
                f"WORKER_LEASE_HEARTBEAT_S={heartbeat_s:g}, or a live lease goes stale between beats: {fix}"
            )
        return cls(
            app_dir=volume / APP_DIR_NAME,
            project_dir=Path(env.get("WORKER_PROJECT_DIR") or PROJECT_DIR),
            smoke_imports=env.get("WORKER_SMOKE_IMPORTS") or DEFAULT_SMOKE_IMPORTS,
            lease_enabled=_flag(env, "WORKER_BUILD_LEASE", True),
            lease_heartbeat_s=heartbeat_s,
            lease_stale_s=stale_s,
            build_timeout_s=_seconds(env, "WORKER_BUILD_TIMEOUT_S", 3600, above_zero=True),
            temp_max_age_s=_seconds(env, "WORKER_TEMP_MAX_AGE_S", 6 * 3600),
            prune_old_envs=_flag(env, "WORKER_PRUNE_OLD_ENVS", False),
            flash_attn_wheel=env.get("WORKER_FLASH_ATTN_WHEEL") or None,
            fetch_weights=_flag(env, "WORKER_FETCH_WEIGHTS", True),
            local_copy_dir=_optional_dir(env.get("WORKER_LOCAL_COPY_DIR", DEFAULT_LOCAL_COPY_DIR)),
            local_volume=local_volume,
        )


def choose_volume(env: Mapping[str, str]) -> tuple[Path, bool]:
    """WORKER_VOLUME, else /runpod-volume, else ./.volume; a volume that cannot be written falls back too.
    Returns the folder, and whether it is the local fallback (no volume: a folder on this machine's disk)."""
    candidate = Path(env["WORKER_VOLUME"]) if env.get("WORKER_VOLUME") else RUNPOD_VOLUME
    if _writable(candidate):
        return candidate, False
    fallback = Path(env.get("WORKER_LOCAL_VOLUME") or ".volume").absolute()
    if candidate != RUNPOD_VOLUME or RUNPOD_VOLUME.exists():
        log.warning(f"volume {candidate} is missing or read-only: using {fallback} (not shared between workers)")
    else:
        log.warning(f"no /runpod-volume: using {fallback} (not shared between workers)")
    return fallback, True


def _writable(path: Path) -> bool:
    """Really writable: `os.access` says yes for root on a read-only mount."""
    if not path.is_dir():
        return False
    probe = path / f".write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _optional_dir(value: str) -> Path | None:
    return None if value.strip().lower() in ("", "0", "off", "none") else Path(value).absolute()


class ConfigError(ValueError):
    """A bootstrap variable has a value it cannot use; the message names the variable and what it takes."""


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if value == "":
        return default
    if value not in TRUE_WORDS + FALSE_WORDS:
        raise ConfigError(f"{name}={env[name]!r}: use 1 or 0, true or false, yes or no, on or off")
    return value in TRUE_WORDS


def _seconds(env: Mapping[str, str], name: str, default: float, *, above_zero: bool = False) -> float:
    """A finite number of seconds: 0 is refused where it would mean spinning (a heartbeat) or failing at once
    (a time limit), and `inf` where it would overflow a timeout."""
    value = env.get(name, "").strip()
    if value == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and (seconds > 0 if above_zero else seconds >= 0)):  # refuses nan too
        above = " above 0" if above_zero else ""
        raise ConfigError(f"{name}={env[name]!r}: use a number of seconds{above}, such as {default:g}")
    return seconds
