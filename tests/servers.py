"""Servers the tests start on 127.0.0.1: SeaweedFS (S3) and the worker's local API (processes, stopped by PID), and
stand-ins for RunPod's job queue and the Hugging Face hub that speak their clients' protocols (threads)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-secret-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_pairs(count: int) -> list[int]:
    """`count` ports p with p + 10000 also free: SeaweedFS puts each gRPC port 10000 above its HTTP port, and
    refuses to start if one server's port is another's gRPC port."""
    taken: set[int] = set()
    chosen: list[int] = []
    for _ in range(200 * count):
        port = free_port()
        if port + 10000 > 65535 or {port, port + 10000} & taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        chosen.append(port)
        taken |= {port, port + 10000}
        if len(chosen) == count:
            return chosen
    raise RuntimeError("no free port pairs")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(check: object, timeout_s: float, what: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # not up yet: connection refused, or the server still starting
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout_s} s")


@dataclass
class SeaweedS3:
    endpoint_url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    ports: dict[str, int]
    https_url: str | None = None
    ca_bundle: Path | None = None

    def client(self, **overrides: object):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        options = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": S3_ACCESS_KEY,
            "aws_secret_access_key": S3_SECRET_KEY,
            "region_name": "us-east-1",
            "config": Config(signature_version="s3v4", retries={"max_attempts": 1}),
        }
        options.update(overrides)
        return boto3.client("s3", **options)

    def stop(self) -> None:
        stop(self.process)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl); returns (certificate, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return cert, key


def start_seaweedfs(data_dir: Path, tls: bool = False, ports: dict[str, int] | None = None) -> SeaweedS3:
    """`weed mini` on loopback with one admin identity; buckets are never created implicitly.

    With `tls`, S3 is served over HTTPS too, with a self-signed certificate (`ca_bundle`). Passing the `ports`
    of a stopped server restarts it on the same ports and data.
    """
    weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "identities": [
            {
                "name": "tester",
                "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (data_dir / "s3.json").write_text(json.dumps(config))
    names = ("master", "volume", "filer", "s3", "admin", "webdav", "s3https")
    ports = ports or dict(zip(names, free_port_pairs(len(names)), strict=True))
    command = [
        weed, "-v=1", "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
        f"-s3.port={ports['s3']}", f"-admin.port={ports['admin']}", f"-webdav.port={ports['webdav']}",
        "-webdav=false", "-admin.ui=false", f"-s3.config={data_dir / 's3.json'}", "-s3.autoCreateBucket=false",
    ]  # fmt: skip
    ca_bundle = None
    if tls:
        ca_bundle, key = data_dir / "cert.pem", data_dir / "key.pem"
        if not ca_bundle.exists():
            make_certificate(data_dir)
        command += [f"-s3.port.https={ports['s3https']}", f"-s3.cert.file={ca_bundle}", f"-s3.key.file={key}"]
    with (data_dir / "weed.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=data_dir)
    server = SeaweedS3(
        endpoint_url=f"http://127.0.0.1:{ports['s3']}",
        process=process,
        data_dir=data_dir,
        ports=ports,
        https_url=f"https://127.0.0.1:{ports['s3https']}" if tls else None,
        ca_bundle=ca_bundle,
    )
    client = server.client()

    def ready() -> bool:
        client.list_buckets()
        if server.https_url:
            server.client(endpoint_url=server.https_url, verify=str(ca_bundle)).list_buckets()
        return True

    try:
        wait_until(ready, 60, "SeaweedFS S3", process)
    except Exception:
        server.stop()
        raise
    return server


@dataclass
class LocalApi:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        stop(self.process)


def start_local_api(env: Mapping[str, str], log_path: Path) -> LocalApi:
    """`python handler.py --rp_serve_api` on a free loopback port; waits until the models are loaded."""
    port = free_port()
    command = [
        sys.executable, "handler.py", "--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port", str(port),
    ]  # fmt: skip
    with log_path.open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    api = LocalApi(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        wait_until(lambda: requests.get(f"{api.url}/docs", timeout=2).ok, 180, "local RunPod API", process)
    except Exception:
        api.stop()
        raise
    return api


class JobQueue:
    """A stand-in for RunPod's job queue on 127.0.0.1, speaking the HTTP protocol the SDK uses in production.

    It hands out its jobs (one per `job-take`, up to `batch_size` per `job-take-batch`, as the SDK asks when it
    runs several jobs at once), then records every update the SDK posts back (progress and the final results).
    """

    def __init__(self, jobs: dict | list[dict]) -> None:
        import threading
        from http.server import ThreadingHTTPServer

        self.jobs: list[dict] = [jobs] if isinstance(jobs, dict) else list(jobs)
        self.expected = len(self.jobs)
        self.posts: list[dict] = []
        self.taken_per_request: list[int] = []
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _queue_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def take(self, count: int) -> list[dict]:
        with self._lock:
            taken, self.jobs = self.jobs[:count], self.jobs[count:]
        if taken:
            self.taken_per_request.append(len(taken))
        return taken

    def record(self, update: dict) -> None:
        with self._lock:
            self.posts.append(update)
            finished = sum(post.get("status") != "IN_PROGRESS" for post in self.posts)
        if finished == self.expected:
            self.done.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def worker_env(self) -> dict[str, str]:
        """The variables a RunPod endpoint gives its worker, pointing at this queue."""
        return {
            "RUNPOD_WEBHOOK_GET_JOB": f"{self.url}/job-take/$RUNPOD_POD_ID?gpu=test",
            "RUNPOD_WEBHOOK_POST_OUTPUT": f"{self.url}/job-done/$RUNPOD_POD_ID/$ID?gpu=test",
            "RUNPOD_WEBHOOK_PING": f"{self.url}/ping/$RUNPOD_POD_ID",
            "RUNPOD_POD_ID": "test-pod",
            "RUNPOD_AI_API_KEY": "test-runpod-api-key-0123456789",
        }

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _queue_handler(queue: JobQueue):  # type: ignore[no-untyped-def]
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import parse_qs, urlsplit

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            batch = parts.path.startswith("/job-take-batch/")
            if batch or parts.path.startswith("/job-take/"):
                size = int(parse_qs(parts.query).get("batch_size", ["1"])[0]) if batch else 1
                taken = queue.take(size)
                if taken:
                    body = json.dumps(taken if batch else taken[0]).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
            if parts.path.startswith("/job-stop/"):
                time.sleep(0.5)  # the SDK long-polls this channel
            self.send_response(204)
            self.end_headers()

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            update = json.loads(self.rfile.read(length))
            update["job_id"] = urlsplit(self.path).path.rstrip("/").rsplit("/", 1)[-1]  # .../job-done/<pod>/<id>
            queue.record(update)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    return Handler


def run_worker_on_queue(
    jobs: dict | list[dict], env: dict[str, str], log_path: Path, timeout_s: float = 240
) -> JobQueue:
    """Start `python handler.py` in production mode against a queue holding `jobs`; return once it answered
    every one."""
    queue = JobQueue(jobs)
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, str(ROOT / "handler.py")],
            cwd=log_path.parent,
            env={**env, **queue.worker_env(), "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if not queue.done.wait(timeout=timeout_s):
            raise TimeoutError(f"no result from the worker; its log ends:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)  # progress updates are posted from their own threads
    finally:
        stop(worker)
        queue.close()
    return queue


class HubStandIn:
    """A stand-in for the Hugging Face hub on 127.0.0.1, answering `huggingface_hub`'s own download protocol: a
    HEAD on `/<repo>/resolve/<revision>/<file>` for the commit, ETag and size, then a GET for the bytes; a file the
    repository lacks is a 404 that the client raises as EntryNotFoundError. Point HF_ENDPOINT at `url`."""

    COMMIT = "0123456789abcdef0123456789abcdef01234567"

    def __init__(self, files: Mapping[tuple[str, str], Path]) -> None:
        import threading
        from http.server import ThreadingHTTPServer

        self.files = dict(files)
        self.requests: list[tuple[str, str, str]] = []  # (method, repository, file)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _hub_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _hub_handler(hub: HubStandIn):  # type: ignore[no-untyped-def]
    import hashlib
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import unquote, urlsplit

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(with_body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(with_body=True)

        def _answer(self, with_body: bool) -> None:
            repo, _, rest = unquote(urlsplit(self.path).path).lstrip("/").partition("/resolve/")
            name = rest.partition("/")[2]  # after the revision
            hub.requests.append((self.command, repo, name))
            path = hub.files.get((repo, name))
            if path is None:  # as the hub answers: the commit it looked in, and what was not there
                self.send_response(404)
                self.send_header("X-Repo-Commit", hub.COMMIT)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("X-Repo-Commit", hub.COMMIT)
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if with_body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    return Handler
