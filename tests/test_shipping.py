"""Delivery is checked before it leaves: the Dockerfile, the workflows and RunPod's own files."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def test_the_image_copies_every_package_of_the_worker():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
    copied = {
        part.rstrip("/")
        for keyword, arguments in dockerfile_instructions()
        if keyword == "COPY"
        for part in shlex.split(arguments)[:-1]
    }
    assert set(packages) <= copied, f"the image lacks {sorted(set(packages) - copied)}"


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


def test_the_hub_tests_run_without_a_transcription_model_since_every_job_carries_its_transcript():
    tests = json.loads((ROOT / ".runpod" / "tests.json").read_text())
    env = {variable["key"]: variable["value"] for variable in tests["config"]["env"]}
    assert env["WORKER_ASR_MODEL"] == "none"
    Settings.from_env(env)
    for test in tests["tests"]:
        assert test["input"]["voice"]["text"].strip(), test["name"]


def test_the_hub_admits_every_driver_the_cuda_12_8_wheels_run_on_and_no_older_one():
    for name in ("hub.json", "tests.json"):
        versions = json.loads((ROOT / ".runpod" / name).read_text())["config"]["allowedCudaVersions"]
        # The values RunPod's API accepts, newest first; torch's cu128 wheels need a 12.8 driver or newer.
        assert set(versions) == {"13.0", "12.9", "12.8"}, name


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


def ci_workflow() -> dict:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def test_pull_requests_build_and_check_the_image_without_logging_in_or_pushing():
    workflow = ci_workflow()
    assert "pull_request" in workflow["on"] and workflow["on"]["push"]["branches"] == ["main"]
    image = workflow["jobs"]["image"]
    assert "if" not in image, "the image job must run for pull requests too"
    only_on_push = "github.event_name == 'push'"
    for step in image["steps"]:
        uses = step.get("uses", "")
        if uses.startswith(("docker/login-action", "docker/metadata-action")) or step.get("with", {}).get("push"):
            assert only_on_push in step.get("if", ""), step
    builds = [step for step in image["steps"] if step.get("uses", "").startswith("docker/build-push-action")]
    assert any(step["with"].get("load") and "if" not in step for step in builds), "no unconditional local build"
    checks = " ".join(step.get("run", "") for step in image["steps"] if "if" not in step)
    assert "IMAGE_BUDGET_BYTES" in checks


def test_the_image_smoke_test_runs_the_bootstrap_ffmpeg_and_uv_inside_the_image():
    runs = " ".join(step.get("run", "") for step in ci_workflow()["jobs"]["image"]["steps"])
    for command in (
        'python worker:candidate -c "import bootstrap.__main__"',
        "ffmpeg worker:candidate -version",
        "uv worker:candidate --version",
    ):
        assert f"docker run --rm --entrypoint {command}" in runs, command


def test_a_newer_push_cancels_the_run_in_progress_on_a_pull_request_but_never_a_publish_from_main():
    concurrency = ci_workflow()["concurrency"]
    assert "github.ref" in concurrency["group"]
    # An expression, true for pull requests only: a push to main (or a tag) runs to the end and publishes its image.
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_dependabot_keeps_the_images_the_actions_and_the_lock_current_every_week():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(updates) == {"docker", "github-actions", "uv"}
    for update in updates.values():
        assert update["directory"] == "/" and update["schedule"]["interval"] == "weekly"


def test_every_image_the_dockerfile_starts_from_is_tagged_and_written_out_where_dependabot_can_update_it():
    images = [arguments.split()[0] for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert images and all(":" in image.partition("@")[0] for image in images), images
    # A build argument in a FROM line hides the reference from Dependabot, which reads the line as written.
    assert not any("$" in image for image in images), images
    tag, _, digest = images[-1].partition("@")
    assert tag == "python:3.11-slim-bookworm", images[-1]
    assert digest == "" or re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"not a digest: {digest}"  # optional


def test_the_image_carries_every_package_of_the_worker():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench", "scripts"}
    copied = {
        source.strip("/")
        for keyword, arguments in dockerfile_instructions()
        if keyword == "COPY" and "--from=" not in arguments
        for source in shlex.split(arguments)[:-1]
    }
    assert packages and packages <= copied, f"not copied into the image: {sorted(packages - copied)}"
