"""Security: URLs chosen by strangers cannot reach inside the network, and nothing secret reaches the logs."""

from __future__ import annotations

import base64
import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from common.errors import VoiceError
from storage import object_key
from tests.conftest import s3_env, worker_env
from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY, run_worker_on_queue
from voice.fetch import AddressPolicy, FetchRefused, fetch_to_file
from worker.logs import RedactingStream, Redactor

CAP_BYTES = 1024 * 1024


class ClipServer(ThreadingHTTPServer):
    """Serves /clip.wav, /redirect?to=URL, /huge (declares 100 MiB) and /endless (no length, never ends)."""

    def __init__(self, address: tuple[str, int], family: int = socket.AF_INET, clip: bytes = b"RIFF....") -> None:
        self.address_family = family
        super().__init__(address, ClipHandler)
        self.clip = clip
        self.sent_bytes = 0


class ClipHandler(BaseHTTPRequestHandler):
    server: ClipServer

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.end_headers()
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(100 * 1024 * 1024))
            self.end_headers()
            self._stream(100 * 1024 * 1024)
        elif self.path == "/endless":
            self.send_response(200)
            self.end_headers()
            self._stream(100 * 1024 * 1024)
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.server.clip)))
            self.end_headers()
            self.wfile.write(self.server.clip)

    def _stream(self, total: int) -> None:
        block = b"\0" * 65536
        try:
            while self.server.sent_bytes < total:
                self.wfile.write(block)
                self.server.sent_bytes += len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(host: str, family: int = socket.AF_INET, clip: bytes = b"RIFF....") -> Iterator[ClipServer]:
    server = ClipServer((host, 0), family, clip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def v4() -> Iterator[ClipServer]:
    yield from serve("127.0.0.1")


@pytest.fixture
def v6() -> Iterator[ClipServer]:
    yield from serve("::1", socket.AF_INET6)


@pytest.fixture
def second_loopback() -> Iterator[ClipServer]:
    """A server on 127.0.0.2, which the tests allow explicitly to stand in for a public host."""
    yield from serve("127.0.0.2")


def port(server: ClipServer) -> int:
    return int(server.server_address[1])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1:{v4}/clip.wav",
        "http://2130706433:{v4}/clip.wav",
        "http://0x7f000001:{v4}/clip.wav",
        "http://127.0.0.1:{v4}/clip.wav",
        "http://localhost:{v4}/clip.wav",
        "http://[::1]:{v6}/clip.wav",
        "http://[::ffff:127.0.0.1]:{v4}/clip.wav",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/clip.wav",
        "http://100.64.0.1/clip.wav",
        "http://0.0.0.0:{v4}/clip.wav",
    ],
)
def test_internal_addresses_are_refused_before_any_request_is_sent(url, v4, v6, tmp_path):
    target = url.format(v4=port(v4), v6=port(v6))
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="which the worker does not fetch from"):
        fetch_to_file(target, tmp_path / "clip", CAP_BYTES, AddressPolicy())
    assert time.monotonic() - started < 2  # refused, not timed out
    assert not (tmp_path / "clip").exists()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/clip.wav", "gopher://x/", "http:///nohost"])
def test_other_schemes_are_refused(url, tmp_path):
    with pytest.raises(FetchRefused, match="http:// or https://|no host name"):
        fetch_to_file(url, tmp_path / "clip", CAP_BYTES, AddressPolicy())


def test_a_host_name_that_does_not_resolve_is_named_with_the_fix(tmp_path):
    from voice import VoiceSource
    from voice.clip import fetch_clip

    with pytest.raises(VoiceError) as raised:
        fetch_clip(VoiceSource(url="http://voice.nonexistent.invalid/clip.wav"), tmp_path, AddressPolicy())
    assert str(raised.value) == (
        "voice_error: voice.url names a host, 'voice.nonexistent.invalid', that does not resolve (check its spelling)"
    )


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(v4, tmp_path, monkeypatch):
    real_getaddrinfo = socket.getaddrinfo

    def resolver(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real_getaddrinfo("127.0.0.1" if host == "voices.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(FetchRefused, match="loopback"):
        fetch_to_file(f"http://voices.example.com:{port(v4)}/clip.wav", tmp_path / "clip", CAP_BYTES, AddressPolicy())


def test_a_redirect_from_an_allowed_host_to_loopback_is_refused_at_the_second_hop(second_loopback, v4, tmp_path):
    allowed = AddressPolicy.from_setting("127.0.0.2/32")
    direct = f"http://127.0.0.2:{port(second_loopback)}/clip.wav"
    assert fetch_to_file(direct, tmp_path / "ok", CAP_BYTES, allowed) == len(second_loopback.clip)
    hop = f"http://127.0.0.2:{port(second_loopback)}/redirect?to=http://127.0.0.1:{port(v4)}/clip.wav"
    with pytest.raises(FetchRefused, match="loopback"):
        fetch_to_file(hop, tmp_path / "clip", CAP_BYTES, allowed)


def test_a_redirect_to_a_file_url_is_refused(second_loopback, tmp_path):
    allowed = AddressPolicy.from_setting("127.0.0.2/32")
    hop = f"http://127.0.0.2:{port(second_loopback)}/redirect?to=file:///etc/passwd"
    with pytest.raises(FetchRefused, match="http:// or https://"):
        fetch_to_file(hop, tmp_path / "clip", CAP_BYTES, allowed)


@pytest.mark.parametrize("path", ["/huge", "/endless"])
def test_a_response_larger_than_the_cap_is_refused_without_reading_it_all(second_loopback, tmp_path, path):
    allowed = AddressPolicy.from_setting("127.0.0.2/32")
    with pytest.raises(FetchRefused, match="MiB"):
        fetch_to_file(f"http://127.0.0.2:{port(second_loopback)}{path}", tmp_path / "clip", CAP_BYTES, allowed)
    time.sleep(0.2)
    assert second_loopback.sent_bytes < 20 * CAP_BYTES  # the server was cut off long before its 100 MiB


@pytest.mark.slow
def test_a_voice_url_is_refused_by_the_pipeline_unless_its_network_is_allowed(local_pipeline, voice_clip):
    from common.errors import InvalidInput
    from worker.contract import parse_job

    for server in serve("127.0.0.1", clip=voice_clip.read_bytes()):
        job = parse_job(
            {
                "text": "Fetched over HTTP.",
                "voice": {"url": f"http://127.0.0.1:{port(server)}/clip.wav", "text": "A hum."},
                "tts": {"nfe_step": 4},
            }
        )
        with pytest.raises(InvalidInput, match=r"voice.url: the URL leads to a loopback address"):
            local_pipeline.run(job, "ssrf", lambda _: None)
        local_pipeline.voices.url_policy = AddressPolicy.from_setting("127.0.0.0/8")
        result = local_pipeline.run(job, "allowed", lambda _: None)
        assert result["words"][0]["text"] == "Fetched"


def test_hostile_job_ids_cannot_steer_object_keys():
    assert object_key("videos", "../../etc/passwd", "speech.wav") == "videos/______etc_passwd/speech.wav"
    assert object_key(None, "a/b\\c\x00", "subtitles.ass") == "a_b_c_/subtitles.ass"


def test_the_redactor_removes_signatures_credentials_secrets_and_clips():
    redact = Redactor(["s3cr3t-value-123"])
    url = (
        "https://b.s3.example.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101"
        "&X-Amz-Signature=0123456789abcdef&X-Amz-Expires=60"
    )
    line = redact(f"url={url} secret=s3cr3t-value-123 Authorization: Bearer abc.def clip={'QUJD' * 100}")
    assert "0123456789abcdef" not in line and "AKIAEXAMPLE" not in line
    assert "beef" not in redact("Signature:\n" + "beef" * 16)
    assert "s3cr3t-value-123" not in line and "abc.def" not in line and "QUJD" * 10 not in line
    assert "X-Amz-Expires=60" in line
    assert redact("fetching https://mirror:hf_pass@hub.example.com/x failed") == (
        "fetching https://[redacted]@hub.example.com/x failed"
    )
    assert redact("mail me@example.com at 10:30") == "mail me@example.com at 10:30"


def test_a_secret_split_across_two_writes_is_still_redacted(tmp_path):
    with (tmp_path / "log").open("w") as target:
        stream = RedactingStream(target, Redactor(["s3cr3t-value-123"]))
        stream.write("key s3cr3t-")
        stream.write("value-123 and a clip ")
        stream.write("QUJD" * 40)  # 160 characters: each half is below the base64 run's length on its own
        stream.write("QUJD" * 40 + "\n")
        stream.flush()
        assert (stream.fileno(), stream.encoding, stream.buffer) == (target.fileno(), target.encoding, target.buffer)
        assert not stream.isatty()
    line = (tmp_path / "log").read_text()
    assert line == "key [redacted] and a clip [320 base64 characters]\n"


def test_a_partial_line_is_redacted_when_flushed_or_closed():
    target = io.StringIO()
    stream = RedactingStream(target, Redactor(["s3cr3t-value-123"]))
    stream.write("progress s3cr3t-")
    assert target.getvalue() == ""  # held until its line is complete
    stream.write("value-123")
    stream.flush()
    assert target.getvalue() == "progress [redacted]"
    stream.write(" then sig=abc")
    stream.close()
    assert target.getvalue() == "progress [redacted] then sig=[redacted]"


@pytest.mark.slow
def test_the_logs_of_a_whole_job_hold_no_secret_signature_or_payload(tiny_volume, voice_clip, s3_server, tmp_path):
    bucket = "log-scan"
    s3_server.client().create_bucket(Bucket=bucket)
    clip = base64.b64encode(voice_clip.read_bytes()).decode()
    text = "Zebras quantify umbrellas"
    job = {
        "id": "log-scan-1",
        "input": {"text": text, "voice": {"base64": clip, "text": "Hum."}, "tts": {"nfe_step": 4}},
    }
    env = worker_env(tiny_volume, tmp_path, **s3_env(s3_server, bucket), WORKER_LOG_LEVEL="DEBUG")
    log_path = tmp_path / "worker.log"
    queue = run_worker_on_queue(job, env, log_path)

    result = next(post for post in queue.posts if post.get("status") != "IN_PROGRESS")["output"]
    signature = re.search(r"X-Amz-Signature=([0-9a-f]+)", result["audio"]["url"])
    assert signature, "the result itself carries presigned URLs"
    log = log_path.read_text()
    assert "job log-scan-1 done" in log  # the log is really this job's
    for secret in (
        S3_SECRET_KEY,
        S3_ACCESS_KEY,
        signature.group(1),
        clip[:64],
        queue.worker_env()["RUNPOD_AI_API_KEY"],
    ):
        assert secret not in log
    for word in text.split():
        assert word not in log
    assert Path(log_path).stat().st_size > 0


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of the metadata address
        ("::127.0.0.1", "loopback"),  # IPv4-compatible
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private or reserved"),  # Teredo
        ("fd00::1", "private"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_ipv6_forms_that_carry_an_internal_address_are_refused(address, reason):
    refusal = AddressPolicy().refusal(address)
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address):
    assert AddressPolicy().refusal(address) is None
