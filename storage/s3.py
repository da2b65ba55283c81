"""Results uploaded to any S3-compatible bucket (AWS S3, Cloudflare R2, Backblaze B2, MinIO, SeaweedFS)."""

from __future__ import annotations

from pathlib import Path

from storage import StoredObject
from storage.hashing import sha256_file
from worker.errors import StorageError

PRESIGN_MAX_S = 7 * 24 * 3600
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60
MAX_ATTEMPTS = 4


class S3Storage:
    def __init__(self, client: object, bucket: str) -> None:
        self._client = client
        self.bucket = bucket
        self.name = "s3"

    @classmethod
    def connect(
        cls,
        bucket: str,
        endpoint_url: str | None,
        region: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> S3Storage:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            signature_version="s3v4",
            # boto3 >= 1.36 adds checksum trailers many S3-compatible servers reject; ask only when required.
            request_checksum_calculation="when_required" if endpoint_url else "when_supported",
            response_checksum_validation="when_required" if endpoint_url else "when_supported",
        )
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )
        return cls(client, bucket)

    def put_file(self, path: Path, key: str, content_type: str, url_expiry_s: int) -> StoredObject:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        digest = sha256_file(path)
        try:
            self._client.upload_file(  # type: ignore[attr-defined]
                str(path),
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type, "Metadata": {"sha256": digest}},
            )
        except (S3UploadFailedError, ClientError, BotoCoreError) as error:
            raise StorageError(f"upload of {key} to bucket {self.bucket} failed: {_describe(error)}") from None
        url = self._client.generate_presigned_url(  # type: ignore[attr-defined]
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=min(url_expiry_s, PRESIGN_MAX_S),
        )
        return StoredObject(key=key, url=url, bytes=path.stat().st_size, sha256=digest)


def _describe(error: Exception) -> str:
    """The S3 error code and message, without request ids or signatures."""
    from botocore.exceptions import ClientError

    cause = error.__context__ if not isinstance(error, ClientError) else error
    if isinstance(cause, ClientError):
        details = cause.response.get("Error", {})
        return f"{details.get('Code', 'error')}: {details.get('Message', '')}".strip()
    return type(error).__name__ + (f" ({error})" if "Endpoint" in type(error).__name__ else "")
