"""Delivery is checked before it leaves: the Dockerfile, the workflows and RunPod's own files."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from worker.contract import parse_job
from worker.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, with continuation lines joined."""
    joined = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def test_hadolint_passes_on_the_dockerfile():
    completed = subprocess.run([str(BIN / "hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_actionlint_passes_on_the_workflows():
    workflows = sorted(str(path) for path in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    completed = subprocess.run([str(BIN / "actionlint"), *workflows], cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_path_the_dockerfile_copies_exists_and_is_not_docker_ignored():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    copies = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "COPY"]
    assert copies
    for arguments in copies:
        parts = shlex.split(arguments)
        if any(part.startswith("--from=") for part in parts):
            continue
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert source.rstrip("/") not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_the_image_starts_the_bootstrap_and_carries_no_ml_packages():
    instructions = dockerfile_instructions()
    entrypoints = [arguments for keyword, arguments in instructions if keyword == "ENTRYPOINT"]
    assert entrypoints == ['["python", "-m", "bootstrap"]']
    installs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    for heavy in ("torch", "f5-tts", "whisperx", "pip install", "uv sync"):
        assert heavy not in installs


def test_the_entrypoint_module_imports_with_the_standard_library_alone():
    completed = subprocess.run(
        [sys.executable, "-S", "-E", "-c", "import bootstrap.__main__"], cwd=ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr


def test_test_input_and_the_hub_tests_are_valid_jobs():
    parse_job(json.loads((ROOT / "test_input.json").read_text())["input"])
    tests = json.loads((ROOT / ".runpod" / "tests.json").read_text())
    assert tests["tests"]
    for test in tests["tests"]:
        parse_job(test["input"])
        assert test["name"] and test["timeout"] > 0
    assert tests["config"]["gpuCount"] >= 1


def test_the_hub_listing_is_complete_and_its_settings_are_the_workers():
    hub = json.loads((ROOT / ".runpod" / "hub.json").read_text())
    for field in ("title", "description", "type", "category", "config"):
        assert hub[field], field
    assert (hub["type"], hub["category"], hub["config"]["runsOn"]) == ("serverless", "audio", "GPU")
    documented = (ROOT / "README.md").read_text()
    defaults = {}
    for variable in hub["config"]["env"]:
        assert f"`{variable['key']}`" in documented, f"{variable['key']} is not in the README's settings"
        defaults[variable["key"]] = variable.get("value", variable.get("input", {}).get("default", ""))
    Settings.from_env(defaults)  # the Hub's defaults start a worker without a settings error


@pytest.mark.slow
def test_the_image_size_estimate_stays_within_budget():
    sys.path.insert(0, str(ROOT))
    from bench.image_size import BUDGET_BYTES, estimate

    result = estimate()
    assert result.apt_packages > 10 and result.apt_bytes > 10_000_000  # really measured
    assert result.total_bytes <= BUDGET_BYTES, result


def test_the_image_carries_every_package_of_the_worker():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench", "scripts"}
    copied = {
        source.strip("/")
        for keyword, arguments in dockerfile_instructions()
        if keyword == "COPY" and "--from=" not in arguments
        for source in shlex.split(arguments)[:-1]
    }
    assert packages and packages <= copied, f"not copied into the image: {sorted(packages - copied)}"
