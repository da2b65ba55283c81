"""What a failing build step said is logged without the credentials it may echo: index URLs with a user and token,
signed query parameters, Authorization headers, and the values of variables that hold secrets."""

from __future__ import annotations

import os
import subprocess

import pytest

from bootstrap.log import REDACTED, redact
from tests.bootstrap_fixture import bootstrap_command, bootstrap_env, make_project, stand_in_uv


@pytest.mark.parametrize(
    ("said", "logged"),
    [
        (
            "Failed to fetch: `https://user:s3cr3t-pass@pypi.example.com/simple/torch/`",
            f"Failed to fetch: `https://{REDACTED}@pypi.example.com/simple/torch/`",
        ),
        ("git+https://ghp_abcdef123456@github.com/org/repo", f"git+https://{REDACTED}@github.com/org/repo"),
        (
            "GET https://host/wheel.whl?X-Amz-Signature=abc123&X-Amz-Credential=AKIA/x&expires=60",
            f"GET https://host/wheel.whl?X-Amz-Signature={REDACTED}&X-Amz-Credential={REDACTED}&expires=60",
        ),
        (
            "https://host/simple/?token=tok123&access_token=tok456",
            f"https://host/simple/?token={REDACTED}&access_token={REDACTED}",
        ),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", f"Authorization: {REDACTED}"),
        ("password=hunter22 for index", f"password={REDACTED} for index"),
    ],
)
def test_credentials_in_what_a_child_said_are_redacted(said, logged):
    assert redact(said, env={}) == logged


def test_the_values_of_secret_variables_are_redacted_wherever_they_appear():
    env = {"UV_INDEX_PRIVATE_PASSWORD": "correct-horse-battery", "HF_TOKEN": "hf_abcdefghijklmnop", "DEBUG": "1"}
    said = "auth failed for correct-horse-battery (token hf_abcdefghijklmnop), debug 1"
    assert redact(said, env=env) == f"auth failed for {REDACTED} (token {REDACTED}), debug 1"


def test_ordinary_build_output_is_left_as_it_is():
    said = (
        "Resolved 250 packages in 6ms\n"
        "error: Failed to download `torch==2.8.0` from https://download.pytorch.org/whl/cu128/torch.whl\n"
        "  Caused by: No space left on device (os error 28) at /runpod-volume/f5tts-worker/envs/.tmp-ab12/lib"
    )
    assert redact(said, env={"WORKER_BUILD_LEASE": "1", "PATH": "/usr/bin"}) == said


@pytest.mark.slow
def test_a_failing_uv_sync_is_reported_without_the_credentials_it_printed(tmp_path):
    failing_sync = (
        "echo 'error: Failed to fetch: https://me:s3cr3t-index-pass@pypi.example.com/simple/torch/?token=abc123def'"
        " >&2\n"
        'echo "  Caused by: HTTP 401 for token $UV_INDEX_PRIVATE_PASSWORD" >&2\n'
        "exit 2"
    )
    project = make_project(tmp_path / "project")
    env = bootstrap_env(project, tmp_path / "volume", UV_INDEX_PRIVATE_PASSWORD="correct-horse-battery")
    env["PATH"] = f"{stand_in_uv(tmp_path / 'bin', failing_sync)}{os.pathsep}{env['PATH']}"
    completed = subprocess.run(bootstrap_command(), env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 3
    assert "bootstrap failed: could not install the locked packages (exit 2)" in completed.stderr
    assert f"https://{REDACTED}@pypi.example.com/simple/torch/?token={REDACTED}" in completed.stderr
    assert f"HTTP 401 for token {REDACTED}" in completed.stderr
    for secret in ("s3cr3t-index-pass", "abc123def", "correct-horse-battery"):
        assert secret not in completed.stderr
