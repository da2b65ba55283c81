"""Settings: built once at start-up from the environment, a pure function of its arguments.

The README has the same table. Each stage's own configuration is its own type (the bucket: `storage.config.
S3Config`), composed here. Variables under the worker's prefixes that nothing reads are reported at start-up
(`Settings.unknown_variables`), so a misspelt setting is not silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import SettingsError
from storage import CACHE_MAX_MB_DEFAULT
from storage.config import VARIABLES as S3_VARIABLES
from storage.config import S3Config
from worker.layout import VolumeLayout

RUNPOD_VOLUME = Path("/runpod-volume")
LOCAL_VOLUME = Path(".volume")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")
CHECKED_PREFIXES = ("WORKER_", "S3_", "BUCKET_")
WORKER_VARIABLES = (
    "WORKER_VOLUME", "WORKER_DEVICE", "WORKER_OUTPUT_DIR", "WORKER_LOG_LEVEL", "WORKER_URL_ALLOW_NETWORKS",
    "WORKER_ALIGN_LANGUAGES", "WORKER_PROFILE", "WORKER_ASR_MODEL", "WORKER_TTS_DTYPE", "WORKER_CONCURRENCY",
    "WORKER_CACHE_MAX_MB",
)  # fmt: skip
MAX_CONCURRENCY = 64
F5_RELEASES = "SWivid/F5-TTS"  # the released checkpoints (worker.weights fetches F5_REPO, this by default)
F5_BASE_LANGUAGES = ("en", "zh")  # what they were trained on (the Emilia corpus)
MAX_CACHE_MB = 1024 * 1024  # 1 TiB: anything larger is a typo
# Read by the bootstrap (bootstrap/config.py), or set by it for the handler.
BOOTSTRAP_VARIABLES = (
    "WORKER_PROJECT_DIR", "WORKER_SMOKE_IMPORTS", "WORKER_BUILD_LEASE", "WORKER_LEASE_HEARTBEAT_S",
    "WORKER_LEASE_STALE_S", "WORKER_BUILD_TIMEOUT_S", "WORKER_TEMP_MAX_AGE_S", "WORKER_PRUNE_OLD_ENVS",
    "WORKER_FLASH_ATTN_WHEEL", "WORKER_FETCH_WEIGHTS", "WORKER_LOCAL_COPY_DIR", "WORKER_LOCAL_VOLUME",
    "WORKER_ENV_USER_FILE", "WORKER_BOOTSTRAP_TEST_PAUSE_AT",
)  # fmt: skip
KNOWN_VARIABLES = frozenset((*WORKER_VARIABLES, *BOOTSTRAP_VARIABLES, *S3_VARIABLES))


@dataclass(frozen=True)
class Settings:
    volume_dir: Path
    device: str
    f5_model: str
    output_dir: Path
    s3: S3Config | None
    log_level: str
    url_allow_networks: str  # CIDRs voice URLs may reach besides the public internet (voice.fetch)
    align_languages: tuple[str, ...] = ("en",)  # an alignment model is loaded for each
    # What the F5 checkpoint was trained on; a job in another language gets a warning. None: not known.
    f5_languages: tuple[str, ...] | None = F5_BASE_LANGUAGES
    profile: str = "full"  # full: F5-TTS + wav2vec2 from the volume; offline: eSpeak NG + PocketSphinx only
    asr_model: str | None = "large-v3-turbo"  # faster-whisper model for clips without a transcript; None: off
    tts_dtype: str = "auto"  # auto | float32 | float16 | bfloat16 (tts.runtime)
    concurrency: int | None = None  # jobs one worker runs at once; None: chosen at start-up (worker.startup)
    # Each folder the worker fills for itself (local results without a bucket, the transcript cache) stays
    # within this size, oldest files evicted first (storage.FolderBound).
    cache_max_bytes: int = CACHE_MAX_MB_DEFAULT * 2**20
    on_endpoint: bool = False  # RunPod serverless (RUNPOD_ENDPOINT_ID set): callers reach no file:// result
    unknown_variables: tuple[str, ...] = field(default=(), compare=False)  # misspelt settings, for a warning

    @property
    def default_engine(self) -> str:
        return "espeak" if self.profile == "offline" else "f5"

    @property
    def layout(self) -> VolumeLayout:
        return VolumeLayout.on(self.volume_dir)

    @classmethod
    def from_env(cls, env: Mapping[str, str], volume_mounted: bool = False) -> Settings:
        """The settings `env` gives. `volume_mounted`: whether RunPod's network volume is there (the default
        volume then); `Settings.from_env(os.environ, runpod_volume_mounted())` on a worker."""
        default_volume = RUNPOD_VOLUME if volume_mounted else LOCAL_VOLUME
        volume_dir = Path(env.get("WORKER_VOLUME") or default_volume)
        device = env.get("WORKER_DEVICE", "auto").lower()
        if device not in DEVICES:
            raise SettingsError(f"WORKER_DEVICE={device!r}: use one of {', '.join(DEVICES)}")
        layout = VolumeLayout.on(volume_dir)
        return cls(
            volume_dir=volume_dir,
            device=device,
            f5_model=env.get("F5_MODEL", "F5TTS_v1_Base"),
            output_dir=_output_dir(env.get("WORKER_OUTPUT_DIR"), layout),
            s3=S3Config.from_env(env),
            log_level=_log_level(env.get("WORKER_LOG_LEVEL", "INFO")),
            url_allow_networks=_networks(env.get("WORKER_URL_ALLOW_NETWORKS", "")),
            align_languages=_languages(env.get("WORKER_ALIGN_LANGUAGES", "en")),
            f5_languages=_f5_languages(env),
            profile=_profile(env.get("WORKER_PROFILE", "full")),
            asr_model=_asr_model(env.get("WORKER_ASR_MODEL", "large-v3-turbo")),
            tts_dtype=_dtype(env.get("WORKER_TTS_DTYPE", "auto")),
            concurrency=_concurrency(env.get("WORKER_CONCURRENCY", "auto")),
            cache_max_bytes=_cache_max_mb(env.get("WORKER_CACHE_MAX_MB", str(CACHE_MAX_MB_DEFAULT))) * 2**20,
            on_endpoint=bool(env.get("RUNPOD_ENDPOINT_ID")),
            unknown_variables=unknown_variables(env),
        )


def runpod_volume_mounted() -> bool:
    """Whether this machine has RunPod's network volume: the one disk probe, made by the caller of from_env."""
    return RUNPOD_VOLUME.is_dir()


def unknown_variables(env: Mapping[str, str]) -> tuple[str, ...]:
    """Variables with the worker's prefixes (WORKER_, S3_, BUCKET_) that no part of the worker reads."""
    return tuple(sorted(name for name in env if name.startswith(CHECKED_PREFIXES) and name not in KNOWN_VARIABLES))


def _output_dir(value: str | None, layout: VolumeLayout) -> Path:
    """Results go to a folder of their own: the oldest are evicted past WORKER_CACHE_MAX_MB, so it must not hold
    the worker's environment, models or voices."""
    if not value:
        return layout.outputs_dir
    folder = Path(value)
    if layout.app_dir.resolve().is_relative_to(folder.resolve()):
        raise SettingsError(
            f"WORKER_OUTPUT_DIR={value!r} holds the worker's own folder {layout.app_dir} (environment, models, "
            "voices), and old results are evicted from it: use a folder of its own, e.g. "
            f"{layout.outputs_dir}"
        )
    return folder


def _networks(value: str) -> str:
    import ipaddress

    for part in filter(None, (piece.strip() for piece in value.split(","))):
        try:
            ipaddress.ip_network(part)
        except ValueError:
            raise SettingsError(f"WORKER_URL_ALLOW_NETWORKS: {part!r} is not a network like 10.1.0.0/16") from None
    return value


def _languages(value: str) -> tuple[str, ...]:
    languages = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    if not languages or not all(code.isalpha() and 2 <= len(code) <= 3 for code in languages):
        raise SettingsError(f"WORKER_ALIGN_LANGUAGES={value!r}: use language codes like en or en,de,fr")
    return languages


def _f5_languages(env: Mapping[str, str]) -> tuple[str, ...] | None:
    """F5_LANGUAGES, else English and Chinese for the released models (the default F5_REPO), else not known."""
    value = env.get("F5_LANGUAGES", "").strip().lower()
    if value in ("any", "unknown"):
        return None
    if value:
        languages = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
        if not all(code.isalpha() and 2 <= len(code) <= 3 for code in languages):
            raise SettingsError(f"F5_LANGUAGES={value!r}: use language codes like en,zh, or any")
        return languages
    return F5_BASE_LANGUAGES if env.get("F5_REPO", F5_RELEASES) == F5_RELEASES else None


def _profile(value: str) -> str:
    if value.lower() not in ("full", "offline"):
        raise SettingsError(f"WORKER_PROFILE={value!r}: use full (F5-TTS + wav2vec2) or offline (eSpeak NG)")
    return value.lower()


def _log_level(value: str) -> str:
    if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"WORKER_LOG_LEVEL={value!r}: use DEBUG, INFO, WARNING or ERROR")
    return value.upper()


def _asr_model(value: str) -> str | None:
    value = value.strip()
    if value.lower() in ("", "none", "off"):
        return None
    if not all(part and part not in (".", "..") for part in value.split("/")) or value.count("/") > 1:
        raise SettingsError(
            f"WORKER_ASR_MODEL={value!r}: use a faster-whisper size (large-v3-turbo), a hub id, or none"
        )
    return value


def _dtype(value: str) -> str:
    value = value.lower()
    if value not in DTYPES:
        raise SettingsError(f"WORKER_TTS_DTYPE={value!r}: use one of {', '.join(DTYPES)}")
    return value


def _concurrency(value: str) -> int | None:
    if value.strip().lower() in ("", "auto"):
        return None
    if not value.strip().isdecimal() or not 1 <= int(value) <= MAX_CONCURRENCY:
        raise SettingsError(f"WORKER_CONCURRENCY={value!r}: use auto or a whole number from 1 to {MAX_CONCURRENCY}")
    return int(value)


def _cache_max_mb(value: str) -> int:
    if not value.strip().isdecimal() or not 1 <= int(value) <= MAX_CACHE_MB:
        raise SettingsError(f"WORKER_CACHE_MAX_MB={value!r}: use a whole number of MiB from 1 to {MAX_CACHE_MB}")
    return int(value)
