"""Settings: built once at start-up from the environment, a pure function of it.

The README has the same table. Names RunPod uses for its bucket (`BUCKET_ENDPOINT_URL`, `BUCKET_ACCESS_KEY_ID`,
`BUCKET_SECRET_ACCESS_KEY`) are accepted next to the worker's own `S3_*` names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from worker.errors import WorkerError
from worker.layout import VolumeLayout

RUNPOD_VOLUME = Path("/runpod-volume")
LOCAL_VOLUME = Path(".volume")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")


class SettingsError(WorkerError):
    """A setting is missing, malformed or contradicts another. Raised at start-up only."""

    code = "settings_error"


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint_url: str | None
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None = field(repr=False)
    addressing_style: str = "auto"  # auto | path | virtual
    public_base_url: str | None = None  # e.g. R2's public bucket domain: plain links instead of presigned ones

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line."""
        return tuple(value for value in (self.secret_access_key, self.access_key_id) if value)


@dataclass(frozen=True)
class Settings:
    volume_dir: Path
    device: str
    f5_model: str
    output_dir: Path
    s3: S3Settings | None
    log_level: str
    url_allow_networks: str  # CIDRs voice URLs may reach besides the public internet (worker.fetch)
    align_languages: tuple[str, ...] = ("en",)  # an alignment model is loaded for each
    profile: str = "full"  # full: F5-TTS + wav2vec2 from the volume; offline: eSpeak NG + PocketSphinx only
    asr_model: str | None = "large-v3-turbo"  # faster-whisper model for clips without a transcript; None: off
    tts_dtype: str = "auto"  # auto | float32 | float16 | bfloat16 (tts.runtime)

    @property
    def default_engine(self) -> str:
        return "espeak" if self.profile == "offline" else "f5"

    @property
    def layout(self) -> VolumeLayout:
        return VolumeLayout.on(self.volume_dir)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        volume_dir = Path(env.get("WORKER_VOLUME") or (RUNPOD_VOLUME if RUNPOD_VOLUME.is_dir() else LOCAL_VOLUME))
        device = env.get("WORKER_DEVICE", "auto").lower()
        if device not in DEVICES:
            raise SettingsError(f"WORKER_DEVICE={device!r}: use one of {', '.join(DEVICES)}")
        layout = VolumeLayout.on(volume_dir)
        return cls(
            volume_dir=volume_dir,
            device=device,
            f5_model=env.get("F5_MODEL", "F5TTS_v1_Base"),
            output_dir=Path(env.get("WORKER_OUTPUT_DIR") or layout.outputs_dir),
            s3=_s3_from_env(env),
            log_level=_log_level(env.get("WORKER_LOG_LEVEL", "INFO")),
            url_allow_networks=_networks(env.get("WORKER_URL_ALLOW_NETWORKS", "")),
            align_languages=_languages(env.get("WORKER_ALIGN_LANGUAGES", "en")),
            profile=_profile(env.get("WORKER_PROFILE", "full")),
            asr_model=_asr_model(env.get("WORKER_ASR_MODEL", "large-v3-turbo")),
            tts_dtype=_dtype(env.get("WORKER_TTS_DTYPE", "auto")),
        )


def _s3_from_env(env: Mapping[str, str]) -> S3Settings | None:
    def first(*names: str) -> str | None:
        return next((env[name] for name in names if env.get(name)), None)

    bucket = first("S3_BUCKET", "BUCKET_NAME")
    endpoint = first("S3_ENDPOINT_URL", "BUCKET_ENDPOINT_URL")
    key_id = first("S3_ACCESS_KEY_ID", "BUCKET_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
    secret = first("S3_SECRET_ACCESS_KEY", "BUCKET_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
    if bucket is None:
        if endpoint or first("S3_ACCESS_KEY_ID", "BUCKET_ACCESS_KEY_ID"):
            raise SettingsError("an S3 endpoint or key is set but S3_BUCKET is not: set S3_BUCKET to the bucket name")
        return None
    if (key_id is None) != (secret is None):
        raise SettingsError("set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (to use an IAM role)")
    addressing = env.get("S3_ADDRESSING_STYLE", "auto").lower()
    if addressing not in ("auto", "path", "virtual"):
        raise SettingsError(f"S3_ADDRESSING_STYLE={addressing!r}: use auto, path or virtual")
    public_base_url = env.get("S3_PUBLIC_BASE_URL") or None
    if public_base_url and not public_base_url.startswith(("https://", "http://")):
        raise SettingsError("S3_PUBLIC_BASE_URL must start with https:// or http:// (e.g. https://pub-1234.r2.dev)")
    return S3Settings(
        bucket=bucket,
        endpoint_url=endpoint,
        region=first("S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        access_key_id=key_id,
        secret_access_key=secret,
        addressing_style=addressing,
        public_base_url=public_base_url,
    )


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
