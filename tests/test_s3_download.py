"""A clip named by `voice.s3_key`: its size asked before a byte is read, then streamed to disk under the same cap
as URLs; a connection that breaks while the body is read is a storage error, not an internal one."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator

import pytest

import voice.clip
from common.errors import StorageError, VoiceError
from storage import ObjectTooLarge
from storage.config import S3Config
from storage.local import LocalStorage
from storage.s3 import S3Storage
from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY
from voice import VoiceSource
from voice.clip import fetch_clip

pytestmark = pytest.mark.slow


def connect(endpoint: str, bucket: str) -> S3Storage:
    return S3Storage.connect(
        S3Config(
            bucket=bucket,
            endpoint_url=endpoint,
            region=None,
            access_key_id=S3_ACCESS_KEY,
            secret_access_key=S3_SECRET_KEY,
        )
    )


def record_calls(storage: S3Storage) -> list[str]:
    """The S3 operations the storage's real client sends, in order (botocore's own event hooks)."""
    calls: list[str] = []
    storage._client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    return calls


def test_an_object_within_the_cap_is_streamed_to_disk_byte_identical(s3_server, bucket, tmp_path):
    payload = os.urandom(3 * 1024 * 1024 + 17)  # more than one read of the body
    s3_server.client().put_object(Bucket=bucket, Key="clips/me.wav", Body=payload)
    storage = connect(s3_server.endpoint_url, bucket)
    assert storage.download("clips/me.wav", tmp_path / "clip", max_bytes=len(payload)) is True
    assert (tmp_path / "clip").read_bytes() == payload
    assert storage.download("clips/missing.wav", tmp_path / "other", max_bytes=len(payload)) is False
    assert not (tmp_path / "other").exists()


def test_an_object_over_the_cap_is_refused_from_its_size_before_its_body_is_asked_for(s3_server, bucket, tmp_path):
    s3_server.client().put_object(Bucket=bucket, Key="clips/big.wav", Body=os.urandom(50_000))
    storage = connect(s3_server.endpoint_url, bucket)
    calls = record_calls(storage)
    with pytest.raises(ObjectTooLarge) as refused:
        storage.download("clips/big.wav", tmp_path / "clip", max_bytes=10_000)
    assert refused.value.size_bytes == 50_000
    assert calls == ["HeadObject"] and not (tmp_path / "clip").exists()


def test_a_voice_s3_key_over_the_cap_is_a_voice_error_naming_the_field(s3_server, bucket, tmp_path, monkeypatch):
    s3_server.client().put_object(Bucket=bucket, Key="clips/big.wav", Body=os.urandom(2**20 + 1))
    monkeypatch.setattr(voice.clip, "MAX_VOICE_BYTES", 2**20)
    source = VoiceSource(s3_key="clips/big.wav", text="A hum.", field="voice")
    with pytest.raises(VoiceError, match=r"voice.s3_key is larger than 1 MiB"):
        fetch_clip(source, tmp_path, bucket=connect(s3_server.endpoint_url, bucket))


class _OddEndpoint(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that says an object has 100 bytes, then for `/clips/cut.wav` drops the connection after 10 of
    them, and for `/clips/grown.wav` sends 5,000 (the object replaced by a larger one in between)."""

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self._headers(100)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/clips/grown.wav"):
            self._headers(5000)
            self.wfile.write(b"x" * 5000)
        else:
            self._headers(100)
            self.wfile.write(b"0123456789")
        self.wfile.flush()
        self.close_connection = True

    def _headers(self, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Type", "audio/wav")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def odd_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OddEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_object_that_grew_since_its_size_was_asked_is_cut_off_at_the_cap(odd_endpoint, tmp_path):
    with pytest.raises(ObjectTooLarge):
        connect(odd_endpoint, "clips").download("grown.wav", tmp_path / "clip", max_bytes=1000)
    assert not (tmp_path / "clip").exists()


def test_a_connection_that_breaks_while_the_body_is_read_is_a_storage_error(odd_endpoint, tmp_path):
    storage = connect(odd_endpoint, "clips")
    with pytest.raises(
        StorageError, match="download of cut.wav from bucket clips failed while reading: IncompleteReadError"
    ):
        storage.download("cut.wav", tmp_path / "clip", max_bytes=1000)
    assert not (tmp_path / "clip").exists()


def test_local_storage_downloads_under_the_same_cap(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    storage.put_bytes("clips/me.wav", b"x" * 500, "audio/wav")
    assert storage.download("clips/me.wav", tmp_path / "clip", max_bytes=500) is True
    assert (tmp_path / "clip").read_bytes() == b"x" * 500
    assert storage.download("clips/missing.wav", tmp_path / "other", max_bytes=500) is False
    with pytest.raises(ObjectTooLarge):
        storage.download("clips/me.wav", tmp_path / "small", max_bytes=499)
