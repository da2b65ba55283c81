"""Results uploaded to any S3-compatible bucket (AWS S3, Cloudflare R2, Backblaze B2, MinIO, SeaweedFS).

The client is built once. Large files go up in parts (boto3's transfer manager aborts the multipart upload
when a part fails, so no partial object appears); every object carries its sha256 in its metadata. URLs are
presigned (at most S3's 7 days) or, with a public base URL (R2's public domain, a CDN), plain links.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from common.errors import StorageError
from storage import PRESIGN_MAX_S, ObjectTooLarge, SmallObject, StoredObject
from storage.config import S3Config
from storage.hashing import sha256_file

CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60
MAX_ATTEMPTS = 3  # standard retry mode: the first try plus two retries, with backoff
MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024
MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
MAX_CONNECTIONS = 32  # kept open to the bucket: jobs in flight each store several files at once (UPLOAD_THREADS)


class S3Storage:
    def __init__(self, client: Any, bucket: str, public_base_url: str | None = None) -> None:
        from boto3.s3.transfer import TransferConfig

        self._client = client
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD_BYTES, multipart_chunksize=MULTIPART_CHUNK_BYTES
        )
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.name = "s3"
        self.caller_keys = True  # callers upload to the same bucket: voice.s3_key reads from it

    @classmethod
    def connect(cls, settings: S3Config) -> S3Storage:
        import boto3
        from botocore.config import Config

        custom_endpoint = settings.endpoint_url is not None
        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            max_pool_connections=MAX_CONNECTIONS,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            signature_version="s3v4",
            s3={"addressing_style": settings.addressing_style},
            # boto3 >= 1.36 adds checksum trailers many S3-compatible servers reject; ask only when required.
            request_checksum_calculation="when_required" if custom_endpoint else "when_supported",
            response_checksum_validation="when_required" if custom_endpoint else "when_supported",
        )
        client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region or "us-east-1",
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=config,
        )
        return cls(client, settings.bucket, settings.public_base_url)

    def put_file(self, path: Path, key: str, content_type: str, url_expiry_s: int) -> StoredObject:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        digest = sha256_file(path)
        try:
            self._client.upload_file(
                str(path),
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type, "Metadata": {"sha256": digest}},
                Config=self._transfer,
            )
        except (S3UploadFailedError, ClientError, BotoCoreError) as error:
            raise StorageError(f"upload of {key} to bucket {self.bucket} failed: {_describe(error)}") from None
        return StoredObject(key=key, url=self.url_for(key, url_expiry_s), bytes=path.stat().st_size, sha256=digest)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._call("upload of", key, "put_object", Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def put_folder(self, folder: str, objects: Sequence[SmallObject]) -> None:
        """One object after another, in the order given: S3 has no rename, so the last one marks the set complete
        (a reader that finds it finds the others); nothing else under the folder is touched."""
        for item in objects:
            self.put_bytes(f"{folder}/{item.name}", item.data, item.content_type)

    def get_bytes(self, key: str) -> bytes | None:
        response = self._object_call("download of", key, "get_object")
        if response is None:
            return None
        body: bytes = response["Body"].read()
        return body

    def download(self, key: str, destination: Path, max_bytes: int) -> bool:
        from botocore.exceptions import BotoCoreError

        head = self._object_call("size of", key, "head_object")
        if head is None:
            return False
        if int(head.get("ContentLength", 0)) > max_bytes:
            raise ObjectTooLarge(int(head["ContentLength"]))
        response = self._object_call("download of", key, "get_object")
        if response is None:  # deleted since its size was asked
            return False
        written = 0
        with contextlib.closing(response["Body"]) as body:  # a body left half read never goes back to the pool
            try:
                with destination.open("wb") as file:
                    for piece in body.iter_chunks(DOWNLOAD_CHUNK_BYTES):
                        written += len(piece)
                        if written > max_bytes:  # replaced by a larger object since its size was asked
                            raise ObjectTooLarge(written)
                        file.write(piece)
            except (BotoCoreError, OSError) as error:  # the connection dropped or stalled while reading the body
                destination.unlink(missing_ok=True)
                raise StorageError(
                    f"download of {key} from bucket {self.bucket} failed while reading: {_describe(error)}"
                ) from None
            except ObjectTooLarge:
                destination.unlink(missing_ok=True)
                raise
        return True

    def _object_call(self, what: str, key: str, operation: str) -> dict | None:
        """`operation` on the object `key`; None if there is no such object."""
        from botocore.exceptions import ClientError

        try:
            return self._call(what, key, operation, Bucket=self.bucket, Key=key, raw_errors=True)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StorageError(f"{what} {key} in bucket {self.bucket} failed: {_describe(error)}") from None

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys += [item["Key"] for item in page.get("Contents", [])]
        except Exception as error:  # botocore's errors, reported as storage errors
            raise StorageError(f"listing {prefix} in bucket {self.bucket} failed: {_describe(error)}") from None
        return sorted(keys)

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            self._call("deleting", key, "delete_object", Bucket=self.bucket, Key=key)

    def _call(self, what: str, key: str, operation: str, raw_errors: bool = False, **arguments: object) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self._client, operation)(**arguments)
            return response
        except ClientError as error:
            if raw_errors:
                raise
            raise StorageError(f"{what} {key} in bucket {self.bucket} failed: {_describe(error)}") from None
        except BotoCoreError as error:
            raise StorageError(f"{what} {key} in bucket {self.bucket} failed: {_describe(error)}") from None

    def url_for(self, key: str, expiry_s: int) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(key)}"
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=min(expiry_s, PRESIGN_MAX_S)
        )
        return url


def _describe(error: Exception) -> str:
    """The S3 error code and message, or the network failure's kind; never request ids or signatures."""
    from botocore.exceptions import ClientError

    for candidate in (error, error.__context__, error.__cause__):
        if isinstance(candidate, ClientError):
            details = candidate.response.get("Error", {})
            return f"{details.get('Code', 'error')}: {details.get('Message', '')}".strip()
    cause = error.__context__ or error
    if "Endpoint" in type(cause).__name__ or "Connect" in type(cause).__name__:
        return f"the endpoint could not be reached ({type(cause).__name__}) after {MAX_ATTEMPTS} attempts"
    return type(cause).__name__
