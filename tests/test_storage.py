"""Storage against a real S3 server (SeaweedFS on 127.0.0.1, over HTTP and HTTPS) and the local output folder."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from common.errors import StorageError
from storage import UPLOAD_THREADS, SmallObject, StoredObject, put_files
from storage.config import S3Config
from storage.local import LocalStorage
from storage.s3 import MULTIPART_THRESHOLD_BYTES, S3Storage
from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY, SeaweedS3, start_seaweedfs

pytestmark = pytest.mark.slow


def settings(endpoint: str, bucket: str, secret: str = S3_SECRET_KEY, **extra: str) -> S3Config:
    return S3Config(
        bucket=bucket,
        endpoint_url=endpoint,
        region=None,
        access_key_id=S3_ACCESS_KEY,
        secret_access_key=secret,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory) -> Iterator[SeaweedS3]:  # type: ignore[no-untyped-def]
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs-tls"), tls=True)
    yield server
    server.stop()


def random_file(path: Path, size: int) -> bytes:
    payload = os.urandom(size)
    path.write_bytes(payload)
    return payload


@pytest.mark.parametrize("transport", ["http", "https"])
def test_an_upload_round_trips_byte_identical_and_its_presigned_url_works(
    transport, s3_server, tls_server, tmp_path, monkeypatch
):
    server = s3_server if transport == "http" else tls_server
    endpoint = server.endpoint_url if transport == "http" else server.https_url
    verify: str | bool = True
    if transport == "https":
        # boto3 trusts the self-signed certificate through AWS_CA_BUNDLE, as a user's private CA would be.
        monkeypatch.setenv("AWS_CA_BUNDLE", str(server.ca_bundle))
        verify = str(server.ca_bundle)
    server.client().create_bucket(Bucket=f"round-trip-{transport}")
    payload = random_file(tmp_path / "speech.wav", 300_000)
    storage = S3Storage.connect(settings(endpoint, f"round-trip-{transport}"))  # type: ignore[arg-type]
    stored = storage.put_file(tmp_path / "speech.wav", "a/b/speech.wav", "audio/wav", 600)

    assert stored.sha256 == hashlib.sha256(payload).hexdigest()
    assert stored.bytes == len(payload)
    obj = server.client().get_object(Bucket=f"round-trip-{transport}", Key="a/b/speech.wav")
    assert obj["Body"].read() == payload
    assert obj["Metadata"]["sha256"] == stored.sha256
    assert obj["ContentType"] == "audio/wav"
    assert stored.url.startswith(f"{transport}://")
    assert requests.get(stored.url, timeout=30, verify=verify).content == payload
    tampered = stored.url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert requests.get(tampered, timeout=30, verify=verify).status_code == 403


def test_a_20_mib_file_goes_up_in_parts_and_comes_back_whole(s3_server, bucket, tmp_path):
    size = 20 * 1024 * 1024
    assert size > MULTIPART_THRESHOLD_BYTES
    payload = random_file(tmp_path / "big.bin", size)
    stored = S3Storage.connect(settings(s3_server.endpoint_url, bucket)).put_file(
        tmp_path / "big.bin", "big.bin", "application/octet-stream", 600
    )
    head = s3_server.client().head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # three 8 MiB parts: a multipart upload
    assert (
        hashlib.sha256(requests.get(stored.url, timeout=60).content).hexdigest() == hashlib.sha256(payload).hexdigest()
    )


def test_presigned_urls_never_outlive_s3s_seven_days(s3_server, bucket):
    url = S3Storage.connect(settings(s3_server.endpoint_url, bucket)).url_for("k", 30 * 24 * 3600)
    assert "X-Amz-Expires=604800" in url


def test_a_public_base_url_gives_plain_links(s3_server, bucket):
    storage = S3Storage.connect(settings(s3_server.endpoint_url, bucket, public_base_url="https://pub.example.com/"))
    assert storage.url_for("jobs/a b/speech.wav", 600) == "https://pub.example.com/jobs/a%20b/speech.wav"


def test_a_missing_bucket_is_a_clear_storage_error(s3_server, tmp_path):
    random_file(tmp_path / "x.txt", 10)
    with pytest.raises(StorageError, match="bucket no-such-bucket failed: NoSuchBucket"):
        S3Storage.connect(settings(s3_server.endpoint_url, "no-such-bucket")).put_file(
            tmp_path / "x.txt", "x.txt", "text/plain", 600
        )


def test_wrong_credentials_are_a_clear_storage_error_without_the_secret(s3_server, bucket, tmp_path):
    random_file(tmp_path / "x.txt", 10)
    with pytest.raises(StorageError) as caught:
        S3Storage.connect(settings(s3_server.endpoint_url, bucket, secret="wrong-secret-value")).put_file(
            tmp_path / "x.txt", "x.txt", "text/plain", 600
        )
    assert "SignatureDoesNotMatch" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


def test_a_server_that_dies_mid_upload_gives_a_bounded_clear_error_and_no_partial_object(tmp_path):
    server = start_seaweedfs(tmp_path / "doomed")
    server.client().create_bucket(Bucket="doomed")
    random_file(tmp_path / "big.bin", 48 * 1024 * 1024)
    storage = S3Storage.connect(settings(server.endpoint_url, "doomed"))
    outcome: dict[str, object] = {}

    def upload() -> None:
        started = time.monotonic()
        try:
            storage.put_file(tmp_path / "big.bin", "big.bin", "application/octet-stream", 600)
        except StorageError as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    uploader = threading.Thread(target=upload)
    uploader.start()
    time.sleep(0.3)
    server.stop()
    uploader.join(timeout=120)
    assert not uploader.is_alive()
    assert isinstance(outcome.get("error"), StorageError), outcome
    assert "big.bin" in str(outcome["error"]) and "doomed" in str(outcome["error"])
    assert float(outcome["seconds"]) < 90  # type: ignore[arg-type]

    restarted = start_seaweedfs(tmp_path / "doomed", ports=server.ports)
    try:
        listing = restarted.client().list_objects_v2(Bucket="doomed")
        assert listing.get("KeyCount", 0) == 0
    finally:
        restarted.stop()


def test_local_storage_writes_under_its_folder_and_refuses_keys_that_leave_it(tmp_path):
    random_file(tmp_path / "in.txt", 5)
    storage = LocalStorage(tmp_path / "out")
    stored = storage.put_file(tmp_path / "in.txt", "job/in.txt", "text/plain", 600)
    assert (tmp_path / "out" / "job" / "in.txt").read_bytes() == (tmp_path / "in.txt").read_bytes()
    assert stored.url == (tmp_path / "out" / "job" / "in.txt").as_uri()
    with pytest.raises(StorageError, match="leaves the output folder"):
        storage.put_file(tmp_path / "in.txt", "../escape.txt", "text/plain", 600)


def voice_set(token: str, takes: int = 0) -> list[SmallObject]:
    """A voice record, its clip and `takes` more files (a bigger set takes longer to delete once replaced)."""
    return [
        SmallObject(f"clip-{token}", token.encode() * 100, "application/octet-stream"),
        *(SmallObject(f"take{take}-{token}", b"take", "application/octet-stream") for take in range(takes)),
        SmallObject("voice.json", f'{{"clip": "clip-{token}"}}'.encode(), "application/json"),
    ]


def test_a_local_folder_is_replaced_whole_and_a_reader_never_sees_part_of_a_set(tmp_path):
    storage = LocalStorage(tmp_path / "out")
    writers, rounds, takes = 4, 25, 20
    storage.put_folder("voices/a", voice_set("first", takes))
    assert len(storage.list_keys("voices/")) == 2 + takes
    together = threading.Barrier(writers, timeout=60)
    errors: list[BaseException] = []

    def replace_again_and_again(writer: int) -> None:
        try:
            for turn in range(rounds):
                together.wait()
                storage.put_folder("voices/a", voice_set(f"{writer}x{turn}", takes))
        except BaseException as error:  # reported below
            errors.append(error)

    partial_sets: list[list[str]] = []
    done = threading.Event()

    def list_throughout() -> None:
        while not done.is_set():
            keys = storage.list_keys("voices/")
            # none (one folder being replaced by another this instant) or a whole set
            if keys and len(keys) != 2 + takes:
                partial_sets.append(keys)

    threads = [threading.Thread(target=replace_again_and_again, args=(writer,)) for writer in range(writers)]
    reader = threading.Thread(target=list_throughout)
    for thread in (*threads, reader):
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    reader.join(timeout=60)

    assert errors == [] and partial_sets == []
    clip, *_, record = storage.list_keys("voices/")
    assert storage.get_bytes(record) == f'{{"clip": "{clip.rsplit("/", 1)[-1]}"}}'.encode()  # one writer's set
    assert [path.name for path in (tmp_path / "out" / "voices").iterdir()] == ["a"]  # nothing left over


def test_a_local_folder_write_in_progress_is_never_listed(tmp_path):
    storage = LocalStorage(tmp_path / "out")
    (tmp_path / "out" / "voices" / "b.0123456789ab.partial").mkdir(parents=True)  # a writer that crashed
    (tmp_path / "out" / "voices" / "b.0123456789ab.partial" / "voice.json").write_text("{}")
    assert storage.list_keys("voices/") == []
    with pytest.raises(StorageError, match="plain names"):
        storage.put_folder("voices/c", [SmallObject("../escape", b"x", "text/plain")])


def test_a_folder_in_a_bucket_is_written_in_order_with_its_content_types(s3_server, bucket):
    storage = S3Storage.connect(settings(s3_server.endpoint_url, bucket))
    storage.put_folder("voices/a", voice_set("first"))
    client = s3_server.client()
    assert storage.list_keys("voices/") == ["voices/a/clip-first", "voices/a/voice.json"]
    assert client.get_object(Bucket=bucket, Key="voices/a/clip-first")["Body"].read() == b"first" * 100
    assert client.head_object(Bucket=bucket, Key="voices/a/voice.json")["ContentType"] == "application/json"


class InFlight:
    """A storage that counts how many of its `put_file` calls run at once, and hands each to the real one."""

    def __init__(self, storage: S3Storage | LocalStorage) -> None:
        self.storage, self.now, self.most = storage, 0, 0
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> object:
        return getattr(self.storage, name)

    def put_file(self, path: Path, key: str, content_type: str, url_expiry_s: int) -> StoredObject:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.02)  # long enough for the others to start, as a round trip to a bucket is
            return self.storage.put_file(path, key, content_type, url_expiry_s)
        finally:
            with self.lock:
                self.now -= 1


def test_a_jobs_files_go_up_several_at_once_and_each_comes_back_whole(s3_server, bucket, tmp_path):
    storage = InFlight(S3Storage.connect(settings(s3_server.endpoint_url, bucket)))
    payloads = {f"line-{n:03d}.srt": random_file(tmp_path / f"line-{n:03d}.srt", 2000 + n) for n in range(40)}
    files = {name: (tmp_path / name, "text/plain") for name in payloads}
    stored = put_files(storage, files, "split", "job-1", 3600)  # type: ignore[arg-type]
    assert list(stored) == list(files) and storage.most == UPLOAD_THREADS
    client = s3_server.client()
    for name, payload in payloads.items():
        assert stored[name].key == f"split/job-1/{name}"
        assert client.get_object(Bucket=bucket, Key=stored[name].key)["Body"].read() == payload
        assert stored[name].sha256 == hashlib.sha256(payload).hexdigest()


def test_one_failed_upload_fails_the_set_only_after_the_others_are_stored(tmp_path):
    storage = LocalStorage(tmp_path / "out")
    files = {f"f{n}": (tmp_path / f"f{n}.txt", "text/plain") for n in range(10)}
    for n, (path, _) in enumerate(files.values()):
        if n != 3:
            path.write_text(f"file {n}")
    with pytest.raises(StorageError, match="f3.txt"):
        put_files(storage, files, None, "job-2", 3600)
    assert sorted(path.name for path in (tmp_path / "out" / "job-2").iterdir()) == sorted(
        f"f{n}.txt" for n in range(10) if n != 3
    )
