"""Shared fixtures: a tiny-model volume, a SeaweedFS S3 server, reference clips, the worker's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY, SeaweedS3, start_seaweedfs  # noqa: E402

# Weights are built locally; any hub lookup must fail at once rather than retry for minutes.
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def tiny_volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A volume holding tiny random-weight F5, Vocos and wav2vec2 models in the real layout."""
    from scripts.tiny_volume import build_tiny_volume

    volume = tmp_path_factory.mktemp("volume")
    build_tiny_volume(volume)
    return volume


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server: SeaweedS3, request: pytest.FixtureRequest) -> str:
    name = "t-" + "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:50].strip("-")
    s3_server.client().create_bucket(Bucket=name)
    return name


def make_clip(path: Path, duration_s: float = 2.0, sample_rate_hz: int = 16000, codec: str = "pcm_s16le") -> Path:
    """A voiced-sounding clip (a vowel-like tone with vibrato and noise) written by ffmpeg."""
    source = (
        f"aevalsrc='0.3*sin(2*PI*(180+8*sin(2*PI*5*t))*t)+0.1*sin(2*PI*360*t)+0.02*random(0)'"
        f":s={sample_rate_hz}:d={duration_s}"
    )
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:a", codec, str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def voice_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "voice.wav")


def worker_env(volume: Path, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment a worker process gets in tests: this volume, its own scratch and output folders."""
    (tmp / "scratch").mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "BUCKET_", "AWS_", "RUNPOD_", "WORKER_"))
    }
    env.update(
        HF_HUB_OFFLINE="1",
        WORKER_VOLUME=str(volume),
        WORKER_OUTPUT_DIR=str(tmp / "output"),
        TMPDIR=str(tmp / "scratch"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def s3_env(server: SeaweedS3, bucket: str) -> dict[str, str]:
    return {
        "S3_ENDPOINT_URL": server.endpoint_url,
        "S3_BUCKET": bucket,
        "S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": S3_SECRET_KEY,
    }


@pytest.fixture(scope="session")
def loaded_models(tiny_volume: Path):  # type: ignore[no-untyped-def]
    """The tiny models (and eSpeak NG, PocketSphinx) loaded once through the worker's real start-up code."""
    from worker.settings import Settings
    from worker.startup import load_models

    return load_models(Settings.from_env({"WORKER_VOLUME": str(tiny_volume), "WORKER_DEVICE": "cpu"}))


@pytest.fixture
def local_pipeline(loaded_models, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A pipeline on the tiny models writing to a local output folder, with its own scratch folder."""
    from storage.local import LocalStorage
    from worker.pipeline import Pipeline

    (tmp_path / "scratch").mkdir()
    return Pipeline(
        loaded_models.engines, loaded_models.aligners, LocalStorage(tmp_path / "output"), work_dir=tmp_path / "scratch"
    )


def offline_pipeline_in(folder: Path, aligners: Mapping[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """A pipeline on the offline engine (eSpeak NG, which times its own words), writing to `folder`/out."""
    from storage.local import LocalStorage
    from tts.espeak import EspeakSynthesizer
    from worker.pipeline import Pipeline

    (folder / "scratch").mkdir()
    return Pipeline(
        {"espeak": EspeakSynthesizer()},
        dict(aligners or {}),
        LocalStorage(folder / "out"),
        default_engine="espeak",
        work_dir=folder / "scratch",
    )


@pytest.fixture(scope="session")
def espeak():  # type: ignore[no-untyped-def]
    """eSpeak NG through its C library: speech, and its own word events, offline."""
    from tts.espeak import EspeakSynthesizer

    return EspeakSynthesizer()


@pytest.fixture(scope="session")
def pocketsphinx():  # type: ignore[no-untyped-def]
    """PocketSphinx aligning English offline, with no weights to fetch."""
    from alignment.pocketsphinx_aligner import PocketsphinxAligner

    return PocketsphinxAligner()


def media_streams(path: Path) -> list[dict[str, Any]]:
    """The streams of a media file as ffprobe reports them (type, codec, duration, size, pixel format)."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,duration,width,height,pix_fmt",
         "-of", "json", str(path)],
        capture_output=True, check=True,
    )  # fmt: skip
    return list(json.loads(completed.stdout)["streams"])


def audio_packets(path: Path) -> str:
    """A hash of the first audio stream's packets as they are stored: equal only if copied unchanged."""
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "streamhash", "-"],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    return completed.stdout.split("=", 1)[1].strip()
