"""Storage against a real S3 server (SeaweedFS on 127.0.0.1) and the local output folder."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from storage.local import LocalStorage
from storage.s3 import S3Storage
from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY
from worker.errors import StorageError

pytestmark = pytest.mark.slow


def connect(s3_server, bucket: str, secret: str = S3_SECRET_KEY) -> S3Storage:
    return S3Storage.connect(bucket, s3_server.endpoint_url, None, S3_ACCESS_KEY, secret)


def test_an_upload_round_trips_byte_identical_and_its_presigned_url_works(s3_server, bucket, tmp_path):
    payload = os.urandom(300_000)
    source = tmp_path / "speech.wav"
    source.write_bytes(payload)
    stored = connect(s3_server, bucket).put_file(source, "a/b/speech.wav", "audio/wav", 600)

    assert stored.sha256 == hashlib.sha256(payload).hexdigest()
    assert stored.bytes == len(payload)
    assert s3_server.client().get_object(Bucket=bucket, Key="a/b/speech.wav")["Body"].read() == payload
    assert requests.get(stored.url, timeout=30).content == payload
    tampered = stored.url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert requests.get(tampered, timeout=30).status_code == 403


def test_a_missing_bucket_is_a_clear_storage_error(s3_server, tmp_path):
    source = tmp_path / "x.txt"
    source.write_text("x")
    with pytest.raises(StorageError, match="bucket no-such-bucket failed: NoSuchBucket"):
        connect(s3_server, "no-such-bucket").put_file(source, "x.txt", "text/plain", 600)


def test_wrong_credentials_are_a_clear_storage_error_without_the_secret(s3_server, bucket, tmp_path):
    source = tmp_path / "x.txt"
    source.write_text("x")
    with pytest.raises(StorageError) as caught:
        connect(s3_server, bucket, secret="wrong-secret-value").put_file(source, "x.txt", "text/plain", 600)
    assert "SignatureDoesNotMatch" in str(caught.value) or "AccessDenied" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


def test_local_storage_writes_under_its_folder_and_refuses_keys_that_leave_it(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("hello")
    storage = LocalStorage(tmp_path / "out")
    stored = storage.put_file(source, "job/in.txt", "text/plain", 600)
    assert (tmp_path / "out" / "job" / "in.txt").read_text() == "hello"
    assert stored.url == (tmp_path / "out" / "job" / "in.txt").as_uri()
    with pytest.raises(ValueError, match="leaves the output folder"):
        storage.put_file(source, "../escape.txt", "text/plain", 600)
