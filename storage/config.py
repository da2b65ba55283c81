"""The bucket's configuration, read from the environment by the worker's Settings.

RunPod's own names for its bucket (`BUCKET_ENDPOINT_URL`, `BUCKET_ACCESS_KEY_ID`, `BUCKET_SECRET_ACCESS_KEY`)
are accepted next to the worker's `S3_*` names, and the AWS SDK's for keys and region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from common.errors import SettingsError

# Every variable read here, for the worker's check for misspelt settings.
VARIABLES = (
    "S3_BUCKET", "BUCKET_NAME", "S3_ENDPOINT_URL", "BUCKET_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "BUCKET_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY", "BUCKET_SECRET_ACCESS_KEY", "S3_REGION", "S3_ADDRESSING_STYLE", "S3_PUBLIC_BASE_URL",
)  # fmt: skip


@dataclass(frozen=True)
class S3Config:
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

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Config | None:
        """The bucket the environment names, or None when it names none. Raises SettingsError on a half
        configuration (an endpoint or key without a bucket, a key without its secret)."""

        def first(*names: str) -> str | None:
            return next((env[name] for name in names if env.get(name)), None)

        bucket = first("S3_BUCKET", "BUCKET_NAME")
        endpoint = first("S3_ENDPOINT_URL", "BUCKET_ENDPOINT_URL")
        key_id = first("S3_ACCESS_KEY_ID", "BUCKET_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
        secret = first("S3_SECRET_ACCESS_KEY", "BUCKET_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
        if bucket is None:
            if endpoint or first("S3_ACCESS_KEY_ID", "BUCKET_ACCESS_KEY_ID"):
                raise SettingsError(
                    "an S3 endpoint or key is set but S3_BUCKET is not: set S3_BUCKET to the bucket name"
                )
            return None
        if (key_id is None) != (secret is None):
            raise SettingsError("set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (to use an IAM role)")
        addressing = env.get("S3_ADDRESSING_STYLE", "auto").lower()
        if addressing not in ("auto", "path", "virtual"):
            raise SettingsError(f"S3_ADDRESSING_STYLE={addressing!r}: use auto, path or virtual")
        public_base_url = env.get("S3_PUBLIC_BASE_URL") or None
        if public_base_url and not public_base_url.startswith(("https://", "http://")):
            raise SettingsError("S3_PUBLIC_BASE_URL must start with https:// or http:// (e.g. https://pub-1234.r2.dev)")
        return cls(
            bucket=bucket,
            endpoint_url=endpoint,
            region=first("S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
            access_key_id=key_id,
            secret_access_key=secret,
            addressing_style=addressing,
            public_base_url=public_base_url,
        )
