"""Model weights: fetched once into place with the same publish discipline, or one clear error offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.servers import ROOT, HubStandIn, free_port
from worker.settings import Settings
from worker.startup import load_models, missing_models
from worker.weights import Download, ModelSource, WeightsMissing, ensure_weights

pytestmark = pytest.mark.slow

SOURCE = ModelSource.from_env({})


def hub_files(tiny_volume: Path) -> dict[tuple[str, str], Path]:
    """The tiny models' files under the real repositories' names: (repository, file in it) → file."""
    models = tiny_volume / "f5tts-worker" / "models"
    files = {
        (SOURCE.f5_repo, SOURCE.f5_checkpoint): models / "f5" / "F5TTS_v1_Base" / "model.safetensors",
        (SOURCE.f5_repo, SOURCE.f5_vocab): models / "f5" / "F5TTS_v1_Base" / "vocab.txt",
        (SOURCE.vocos_repo, "config.yaml"): models / "vocos" / "config.yaml",
        (SOURCE.vocos_repo, "pytorch_model.bin"): models / "vocos" / "pytorch_model.bin",
    }
    for path in (models / "align" / "en").iterdir():
        files[(SOURCE.align_repos["en"], path.name)] = path
    for path in (models / "asr" / "large-v3-turbo").iterdir():
        files[(str(SOURCE.asr_repo), path.name)] = path
    return files


def hub_from(tiny_volume: Path):  # type: ignore[no-untyped-def]
    """A stand-in hub's download function serving `hub_files`."""
    files = hub_files(tiny_volume)
    requests: list[tuple[str, str]] = []

    def download(repo: str, name: str, destination: Path) -> None:
        requests.append((repo, name))
        if (repo, name) not in files:
            raise FileNotFoundError(f"{repo} has no {name}")
        shutil.copyfile(files[(repo, name)], destination)

    return download, requests


def settings_for(volume: Path) -> Settings:
    return Settings.from_env({"WORKER_VOLUME": str(volume), "WORKER_DEVICE": "cpu"})


def test_offline_with_models_missing_names_every_missing_file_and_the_fix(tmp_path):
    with pytest.raises(WeightsMissing) as caught:
        ensure_weights(settings_for(tmp_path), SOURCE, lambda *_: None, offline=True)
    message = str(caught.value)
    assert "model.safetensors" in message and "pytorch_model.bin" in message and "align/en/config.json" in message
    assert "HF_HUB_OFFLINE" in message


def test_missing_models_are_fetched_into_place_and_load_with_the_real_loaders(tiny_volume, tmp_path, loaded_models):
    settings = settings_for(tmp_path / "volume")
    download, requests = hub_from(tiny_volume)
    published = ensure_weights(settings, SOURCE, download, offline=False)
    assert missing_models(settings) == []
    assert len(published) == 4
    assert (SOURCE.f5_repo, SOURCE.f5_checkpoint) in requests
    assert not list(settings.layout.models_dir.rglob(".tmp-*"))
    # arch.json is not part of a real release: give the tiny checkpoint its shape the way a fine-tune would.
    shutil.copy(tiny_volume / "f5tts-worker/models/f5/F5TTS_v1_Base/arch.json", settings.layout.f5_dir("F5TTS_v1_Base"))
    models = load_models(settings)
    assert models.engines["f5"].name == "F5-TTS/F5TTS_v1_Base" and models.aligners["wav2vec2"].languages == ("en",)
    assert models.transcriber is not None

    requests.clear()
    assert ensure_weights(settings, SOURCE, download, offline=False) == []
    assert requests == []


def test_a_fetch_that_fails_half_way_publishes_nothing(tiny_volume, tmp_path):
    settings = settings_for(tmp_path / "volume")
    download, _ = hub_from(tiny_volume)
    calls = []

    def flaky(repo: str, name: str, destination: Path) -> None:
        calls.append(name)
        if len(calls) == 2:
            raise ConnectionError("connection reset")
        download(repo, name, destination)

    with pytest.raises(ConnectionError):
        ensure_weights(settings, SOURCE, flaky, offline=False)
    assert not settings.layout.f5_dir("F5TTS_v1_Base").exists()
    assert not list(settings.layout.models_dir.rglob(".tmp-*"))


def test_two_workers_fetching_at_once_never_remove_the_folders_the_first_one_published(tmp_path):
    settings = Settings.from_env(
        {"WORKER_VOLUME": str(tmp_path / "volume"), "WORKER_DEVICE": "cpu", "WORKER_ASR_MODEL": "none"}
    )
    both_downloading = threading.Barrier(2, timeout=30)
    first_published = threading.Event()

    def hub(finish_after: threading.Event | None) -> Download:
        """Serves any file; its first download waits until both workers are downloading (and `finish_after`)."""
        started = threading.Event()

        def download(repo: str, name: str, destination: Path) -> None:
            if not started.is_set():
                started.set()
                both_downloading.wait()
                if finish_after is not None:
                    assert finish_after.wait(30)
            destination.write_bytes(f"{repo}/{name}".encode() * 4096)

        return download

    outcomes: dict[str, list[Path] | BaseException] = {}

    def fetch(worker: str, download: Download) -> None:
        try:
            outcomes[worker] = ensure_weights(settings, SOURCE, download, offline=False)
        except BaseException as error:  # reported by the assertions below
            outcomes[worker] = error

    first = threading.Thread(target=fetch, args=("first", hub(None)))
    second = threading.Thread(target=fetch, args=("second", hub(first_published)))
    first.start()
    second.start()
    first.join(timeout=60)
    published = outcomes["first"]
    assert isinstance(published, list) and len(published) == 3, published  # F5, Vocos, alignment (no ASR)
    expected = {path: path.read_bytes() for folder in published for path in folder.iterdir()}
    folder_ids = {folder: folder.stat().st_ino for folder in published}

    problems: list[str] = []
    reads = 0
    second_finished = threading.Event()

    def read_throughout() -> None:
        nonlocal reads
        while not second_finished.is_set():
            for path, data in expected.items():
                try:
                    if path.read_bytes() != data:
                        problems.append(f"{path} changed")
                except FileNotFoundError:
                    problems.append(f"{path} missing")
            reads += 1
            if reads == 1:
                first_published.set()  # the second worker finishes while this reader is busy

    reader = threading.Thread(target=read_throughout)
    reader.start()
    second.join(timeout=60)
    second_finished.set()
    reader.join(timeout=60)

    assert reads > 1
    assert problems == []
    assert {folder: folder.stat().st_ino for folder in published} == folder_ids  # the first copies stay in place
    assert outcomes["second"] == []  # it found complete folders in place and discarded its own copy
    assert missing_models(settings) == []
    leftovers = [
        path.name for path in settings.layout.models_dir.rglob("*") if path.name.startswith((".tmp-", ".trash-"))
    ]
    assert leftovers == []


def fetch_weights(volume: Path, hub_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`python -m worker.weights`, the bootstrap's step, with the hub at `hub_url`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "WORKER_", "RUNPOD_"))}
    env.update(WORKER_VOLUME=str(volume), WORKER_DEVICE="cpu", HF_ENDPOINT=hub_url, HF_HOME=str(tmp_path / "hf-home"))
    return subprocess.run(
        [sys.executable, "-m", "worker.weights"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_bootstrap_step_fetches_every_model_through_the_hub_client_and_publishes_it(tiny_volume, tmp_path):
    """The real huggingface_hub client against a hub on loopback (`tests.servers.HubStandIn`)."""
    files = hub_files(tiny_volume)
    del files[(str(SOURCE.asr_repo), "preprocessor_config.json")]  # optional: older Whisper conversions have none
    hub = HubStandIn(files)
    try:
        finished = fetch_weights(tmp_path / "volume", hub.url, tmp_path)
    finally:
        hub.close()
    assert finished.returncode == 0, finished.stderr
    settings = settings_for(tmp_path / "volume")
    assert missing_models(settings) == []
    layout = settings.layout
    saved_as = {"F5TTS_v1_Base/model_1250000.safetensors": "model.safetensors", "F5TTS_v1_Base/vocab.txt": "vocab.txt"}
    folders = {
        SOURCE.f5_repo: layout.f5_dir("F5TTS_v1_Base"),
        SOURCE.vocos_repo: layout.vocos_dir,
        SOURCE.align_repos["en"]: layout.align_dir("en"),
        str(SOURCE.asr_repo): layout.asr_dir("large-v3-turbo"),
    }
    for (repo, name), source in files.items():
        assert (folders[repo] / saved_as.get(name, name)).read_bytes() == source.read_bytes(), (repo, name)
    published = sorted(path.relative_to(layout.models_dir) for path in layout.models_dir.rglob("*") if path.is_file())
    assert len(published) == len(files) + 1, published  # each file once, and the marker; no cache left behind
    assert ("HEAD", str(SOURCE.asr_repo), "preprocessor_config.json") in hub.requests  # asked for, a 404, skipped
    assert ("HEAD", SOURCE.align_repos["en"], "pytorch_model.bin") not in hub.requests  # the first weights found


def test_a_hub_that_lacks_a_file_or_does_not_answer_is_named_and_nothing_is_published(tiny_volume, tmp_path):
    files = hub_files(tiny_volume)
    del files[(SOURCE.f5_repo, SOURCE.f5_vocab)]
    hub = HubStandIn(files)
    try:
        lacking = fetch_weights(tmp_path / "lacking", hub.url, tmp_path)
    finally:
        hub.close()
    assert lacking.returncode == 4
    assert f"{SOURCE.f5_repo} has none of {SOURCE.f5_vocab}" in lacking.stderr, lacking.stderr

    silent = fetch_weights(tmp_path / "silent", f"http://127.0.0.1:{free_port()}", tmp_path)
    assert silent.returncode == 4
    assert "could not be asked for SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors" in silent.stderr, (
        silent.stderr
    )
    assert "has none of" not in silent.stderr
    # HF_ENDPOINT may carry credentials (a private mirror): the message names the hub, not them.
    private = fetch_weights(tmp_path / "private", f"http://mirror:s3cr3t-pass@127.0.0.1:{free_port()}", tmp_path)
    assert private.returncode == 4
    assert "http://[redacted]@127.0.0.1:" in private.stderr, private.stderr
    assert "s3cr3t-pass" not in private.stderr + private.stdout and "mirror:" not in private.stderr
    for volume in ("lacking", "silent", "private"):
        models = settings_for(tmp_path / volume).layout.models_dir
        assert [path for path in models.rglob("*") if path.is_file()] == []
