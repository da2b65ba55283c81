"""Settings come from the environment once, and contradictions are reported at start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import worker.settings
from common.errors import SettingsError
from worker.settings import KNOWN_VARIABLES, Settings, runpod_volume_mounted

ROOT = Path(__file__).resolve().parent.parent


def test_without_a_volume_or_bucket_the_worker_uses_local_folders():
    settings = Settings.from_env({}, volume_mounted=False)
    assert settings.volume_dir == Path(".volume")
    assert settings.output_dir == settings.layout.outputs_dir
    assert settings.s3 is None
    assert settings.device == "auto"


def test_runpods_network_volume_is_the_default_volume_where_it_is_mounted():
    assert Settings.from_env({}, volume_mounted=True).volume_dir == Path("/runpod-volume")
    assert Settings.from_env({"WORKER_VOLUME": "/data"}, volume_mounted=True).volume_dir == Path("/data")


def test_runpods_network_volume_counts_as_mounted_only_where_its_folder_exists(tmp_path, monkeypatch):
    monkeypatch.setattr(worker.settings, "RUNPOD_VOLUME", tmp_path / "runpod-volume")
    assert not runpod_volume_mounted()
    (tmp_path / "runpod-volume").mkdir()
    assert runpod_volume_mounted()


def test_the_cache_bound_is_2048_mib_unless_set():
    assert Settings.from_env({}).cache_max_bytes == 2048 * 2**20
    assert Settings.from_env({"WORKER_CACHE_MAX_MB": "300"}).cache_max_bytes == 300 * 2**20
    assert Settings.from_env({"WORKER_CACHE_MAX_MB": "300"}).unknown_variables == ()


@pytest.mark.parametrize("output", ["{volume}", "{volume}/f5tts-worker", "/"])
def test_an_output_folder_that_holds_the_workers_own_files_is_refused(tmp_path, output):
    env = {"WORKER_VOLUME": str(tmp_path), "WORKER_OUTPUT_DIR": output.format(volume=tmp_path)}
    with pytest.raises(SettingsError, match="WORKER_OUTPUT_DIR=.* holds the worker's own folder"):
        Settings.from_env(env)
    beside = Settings.from_env({**env, "WORKER_OUTPUT_DIR": str(tmp_path / "results")})
    assert beside.output_dir == tmp_path / "results"


def test_misspelt_variables_under_the_workers_prefixes_are_reported():
    env = {"WORKER_DEVCE": "cpu", "S3_BUCKT": "results", "BUCKET_NAME": "b", "WORKER_BUILD_LEASE": "1", "HOME": "/"}
    assert Settings.from_env(env).unknown_variables == ("S3_BUCKT", "WORKER_DEVCE")
    assert Settings.from_env({"WORKER_DEVICE": "cpu", "S3_REGION": "eu"}).unknown_variables == ()


def test_every_variable_the_code_reads_is_known_to_the_misspelling_check():
    named = set()
    for folder in ("worker", "voice", "tts", "alignment", "storage", "common", "bootstrap"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r"\b(?:WORKER|S3|BUCKET)_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    named -= {"S3_VARIABLES", "WORKER_VARIABLES"}  # names of the lists themselves
    assert named and named <= KNOWN_VARIABLES, sorted(named - KNOWN_VARIABLES)


def test_runpods_bucket_variable_names_are_accepted():
    settings = Settings.from_env(
        {
            "S3_BUCKET": "results",
            "BUCKET_ENDPOINT_URL": "https://s3.example.com",
            "BUCKET_ACCESS_KEY_ID": "id",
            "BUCKET_SECRET_ACCESS_KEY": "secret",
        }
    )
    assert settings.s3 is not None
    assert (settings.s3.bucket, settings.s3.endpoint_url, settings.s3.access_key_id) == (
        "results",
        "https://s3.example.com",
        "id",
    )
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WORKER_DEVICE": "tpu"}, "WORKER_DEVICE='tpu': use one of auto, cpu, cuda"),
        ({"S3_ENDPOINT_URL": "https://s3.example.com"}, "S3_BUCKET is not"),
        ({"S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "id"}, "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"),
        ({"WORKER_TTS_DTYPE": "int8"}, "WORKER_TTS_DTYPE='int8': use one of auto, float32, float16, bfloat16"),
        ({"WORKER_ASR_MODEL": "a/b/c"}, "WORKER_ASR_MODEL='a/b/c': use a faster-whisper size"),
        ({"WORKER_ASR_MODEL": "../up"}, "WORKER_ASR_MODEL='../up': use a faster-whisper size"),
        ({"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY='0': use auto or a whole number from 1 to 64"),
        ({"WORKER_CONCURRENCY": "many"}, "WORKER_CONCURRENCY='many': use auto or a whole number from 1 to 64"),
        ({"WORKER_CACHE_MAX_MB": "0"}, "WORKER_CACHE_MAX_MB='0': use a whole number of MiB from 1 to"),
        ({"WORKER_CACHE_MAX_MB": "1.5"}, "WORKER_CACHE_MAX_MB='1.5': use a whole number of MiB"),
        ({"WORKER_CACHE_MAX_MB": "2GB"}, "WORKER_CACHE_MAX_MB='2GB': use a whole number of MiB"),
        ({"F5_LANGUAGES": "french"}, "F5_LANGUAGES='french': use language codes like en,zh, or any"),
    ],
)
def test_bad_settings_stop_start_up_with_a_message(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("env", "languages"),
    [
        ({}, ("en", "zh")),  # the released checkpoints
        ({"F5_REPO": "SWivid/F5-TTS", "F5_CHECKPOINT_FILE": "F5TTS_Base/model_1200000.safetensors"}, ("en", "zh")),
        ({"F5_REPO": "someone/F5-TTS-French"}, None),  # a fine-tune: not known, so no warning
        ({"F5_REPO": "someone/F5-TTS-French", "F5_LANGUAGES": "fr, en"}, ("fr", "en")),
        ({"F5_LANGUAGES": "any"}, None),
    ],
)
def test_the_languages_f5_was_trained_on_come_from_the_setting_or_the_released_checkpoints(env, languages):
    assert Settings.from_env(env).f5_languages == languages


@pytest.mark.parametrize(
    ("value", "model", "repository"),
    [
        (None, "large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo"),  # the default
        ("small", "small", "Systran/faster-whisper-small"),  # a size from faster-whisper's own table
        ("me/my-whisper-ct2", "me/my-whisper-ct2", "me/my-whisper-ct2"),  # a hub id as it is
        ("none", None, None),  # transcription off: nothing to fetch
    ],
)
def test_the_speech_recognition_model_setting_names_what_is_fetched(value, model, repository):
    from worker.weights import ModelSource

    settings = Settings.from_env({} if value is None else {"WORKER_ASR_MODEL": value})
    assert settings.asr_model == model
    source = ModelSource.from_env({}, settings.align_languages, settings.asr_model)
    assert source.asr_repo == repository


def test_an_unknown_speech_recognition_size_is_a_clear_error_before_anything_is_fetched():
    from worker.weights import ModelSource, WeightsMissing

    with pytest.raises(WeightsMissing, match="WORKER_ASR_MODEL='huge' is not a faster-whisper size"):
        ModelSource.from_env({}, ("en",), Settings.from_env({"WORKER_ASR_MODEL": "huge"}).asr_model)


@pytest.mark.parametrize(
    ("setting", "device", "gpu_gib", "expected"),
    [
        (None, "cpu", None, 1),  # jobs would only share the cores
        (None, "cuda", 139.8, 16),  # an H200: capped
        (None, "cuda", 23.6, 2),  # a 24 GB card
        (None, "cuda", 7.5, 1),
        (6, "cuda", 139.8, 6),  # the setting wins
        (3, "cpu", None, 3),
    ],
)
def test_jobs_per_worker_come_from_the_setting_or_the_gpus_memory(setting, device, gpu_gib, expected):
    from worker.startup import choose_concurrency

    memory = None if gpu_gib is None else int(gpu_gib * 2**30)
    assert choose_concurrency(setting, device, memory) == expected
    assert Settings.from_env({"WORKER_CONCURRENCY": "8"}).concurrency == 8
    assert Settings.from_env({}).concurrency is None
