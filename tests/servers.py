"""Real servers the tests start on 127.0.0.1 and stop by PID: SeaweedFS (S3) and the worker's local API."""

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


def free_port_pair() -> int:
    """A port p with p + 10000 also free: SeaweedFS puts each gRPC port 10000 above its HTTP port."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


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


def start_seaweedfs(data_dir: Path) -> SeaweedS3:
    """`weed mini` on loopback with one admin identity; buckets are never created implicitly."""
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
    ports = {name: free_port_pair() for name in ("master", "volume", "filer", "s3", "admin", "webdav")}
    command = [
        weed, "-v=1", "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
        f"-s3.port={ports['s3']}", f"-admin.port={ports['admin']}", f"-webdav.port={ports['webdav']}",
        "-webdav=false", "-admin.ui=false", f"-s3.config={data_dir / 's3.json'}", "-s3.autoCreateBucket=false",
    ]  # fmt: skip
    with (data_dir / "weed.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=data_dir)
    server = SeaweedS3(endpoint_url=f"http://127.0.0.1:{ports['s3']}", process=process, data_dir=data_dir)
    client = server.client()

    def ready() -> bool:
        client.list_buckets()
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
