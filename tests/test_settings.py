"""Settings come from the environment once, and contradictions are reported at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.settings import Settings, SettingsError


def test_without_a_volume_or_bucket_the_worker_uses_local_folders():
    settings = Settings.from_env({})
    assert settings.volume_dir in (Path("/runpod-volume"), Path(".volume"))
    assert settings.output_dir == settings.layout.outputs_dir
    assert settings.s3 is None
    assert settings.device == "auto"


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
    ],
)
def test_bad_settings_stop_start_up_with_a_message(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


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
