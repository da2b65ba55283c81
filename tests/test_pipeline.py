"""The whole pipeline in-process on tiny random-weight models: real F5-TTS, wav2vec2 alignment, ffmpeg, files."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.invariants import check_ass_file, check_audio_file, check_result
from worker.contract import parse_job

pytestmark = pytest.mark.slow

TEXT = "Hello world, this is the worker speaking. It reads 2 sentences and then stops!"


def job_for(voice_clip: Path, text: str = TEXT, **extra: object):  # type: ignore[no-untyped-def]
    voice = {"base64": base64.b64encode(voice_clip.read_bytes()).decode(), "text": "A voice that hums a tune."}
    return parse_job({"text": text, "voice": voice, "tts": {"nfe_step": 8, "seed": 3}, **extra})


def local_path(url: str) -> Path:
    return Path(urlparse(url).path)


def test_a_job_writes_audio_and_all_four_subtitle_files_that_match_the_result(local_pipeline, voice_clip):
    stages: list[str] = []
    result = local_pipeline.run(job_for(voice_clip), "job-1", lambda progress: stages.append(progress["stage"]))

    parsed = check_result(result, TEXT)
    assert stages == ["voice", "tts", "alignment", "subtitles", "audio", "storage"]
    assert set(parsed.timings_s) == {*stages, "total"}
    audio_path = local_path(parsed.audio.url)
    assert audio_path.stat().st_size == parsed.audio.bytes
    check_audio_file(audio_path, parsed.audio.sample_rate_hz, parsed.audio.duration_s, tolerance_s=0.001)
    assert set(parsed.subtitles) == {"ass", "srt", "vtt", "json"}
    check_ass_file(local_path(parsed.subtitles["ass"].url), len(TEXT.split()))
    assert local_path(parsed.subtitles["vtt"].url).read_text().startswith("WEBVTT")
    assert "-->" in local_path(parsed.subtitles["srt"].url).read_text()


@pytest.mark.parametrize("audio_format", ["wav", "mp3", "flac", "ogg", "opus"])
def test_every_output_format_decodes_at_the_reported_rate_and_length(local_pipeline, voice_clip, audio_format):
    job = job_for(voice_clip, text="Short and sweet.", audio={"format": audio_format, "sample_rate_hz": 22050})
    parsed = check_result(local_pipeline.run(job, f"fmt-{audio_format}", lambda _: None), "Short and sweet.")
    expected_rate = 48000 if audio_format == "opus" else 22050
    assert parsed.audio.sample_rate_hz == expected_rate
    check_audio_file(local_path(parsed.audio.url), expected_rate, parsed.audio.duration_s)


def test_long_text_is_chunked_and_the_chunks_tile_the_audio(local_pipeline, voice_clip):
    text = " ".join(f"Sentence number {n} is here, and it goes on for a while." for n in range(12))
    parsed = check_result(local_pipeline.run(job_for(voice_clip, text=text), "long", lambda _: None), text)
    assert len(parsed.segments) > 1
    assert " ".join(segment.text for segment in parsed.segments) == parsed.text  # the spoken text, whole
    assert "Sentence number eleven is here" in parsed.text


def test_the_same_seed_gives_the_same_audio(local_pipeline, voice_clip):
    first = local_pipeline.run(job_for(voice_clip), "seed-a", lambda _: None)
    second = local_pipeline.run(job_for(voice_clip), "seed-b", lambda _: None)
    assert first["audio"]["sha256"] == second["audio"]["sha256"]
    assert first["seed"] == second["seed"] == 3


def test_scratch_files_are_removed_after_a_job(local_pipeline, voice_clip):
    local_pipeline.run(job_for(voice_clip), "clean", lambda _: None)
    assert list(local_pipeline.work_dir.iterdir()) == []


def test_the_preset_and_style_overrides_reach_the_ass_file(local_pipeline, voice_clip):
    import ass

    job = job_for(
        voice_clip,
        subtitles={
            "preset": "shorts",
            "resolution": [1080, 1920],
            "style": {"primary_colour": "#FF0000", "font": "Serif"},
        },
    )
    parsed = check_result(local_pipeline.run(job, "styled", lambda _: None), TEXT)
    with local_path(parsed.subtitles["ass"].url).open(encoding="utf-8-sig") as handle:
        style = ass.parse(handle).styles[0]
    assert (style.fontname, style.alignment) == ("Serif", 5)
    assert (style.primary_color.r, style.primary_color.g, style.primary_color.b) == (255, 0, 0)


def test_a_language_without_a_loaded_model_is_refused_naming_the_setting(local_pipeline, voice_clip):
    from common.errors import InvalidInput

    with pytest.raises(InvalidInput, match="language: no alignment model is loaded for 'de'.*WORKER_ALIGN_LANGUAGES"):
        local_pipeline.run(job_for(voice_clip, language="de"), "de", lambda _: None)


def test_character_timings_come_back_when_asked_for(local_pipeline, voice_clip):
    parsed = check_result(
        local_pipeline.run(job_for(voice_clip, alignment={"characters": True}), "c", lambda _: None), TEXT
    )
    for word in parsed.words:
        if word.text == "2":  # said as "two": its characters are not the written ones, so none are given
            assert word.chars is None
            continue
        assert word.chars is not None
        assert "".join(char.text for char in word.chars) == word.text
    assert (
        check_result(local_pipeline.run(job_for(voice_clip), "no-chars", lambda _: None), TEXT).words[0].chars is None
    )


def test_numbers_are_spoken_as_words_and_subtitles_show_them_as_written(local_pipeline, voice_clip):
    text = "In 1990, I paid $3.50 for 2 tickets."
    parsed = check_result(local_pipeline.run(job_for(voice_clip, text=text), "numbers", lambda _: None), text)
    assert parsed.text == "In nineteen ninety, I paid three dollars and fifty cents for two tickets."
    assert " ".join(segment.text for segment in parsed.segments) == parsed.text
    ass_text = local_path(parsed.subtitles["ass"].url).read_text(encoding="utf-8-sig")
    assert "$3.50" in ass_text and "dollars" not in ass_text
    as_written = job_for(voice_clip, text=text, tts={"nfe_step": 8, "seed": 3, "normalize_text": False})
    assert check_result(local_pipeline.run(as_written, "raw", lambda _: None), text).text == text


def test_a_5000_character_text_completes(local_pipeline, voice_clip):
    sentence = "The river ran past 3 old mills, and every mill had a story of its own to tell. "
    text = (sentence * (5000 // len(sentence) + 1))[:5000].rsplit(" ", 1)[0]
    job = job_for(voice_clip, text=text, tts={"nfe_step": 4, "seed": 1}, subtitles={"formats": ["ass", "json"]})
    parsed = check_result(local_pipeline.run(job, "5000", lambda _: None), text)
    assert len(text) > 4900 and len(parsed.segments) > 10


def test_running_out_of_gpu_memory_is_a_clear_error_and_the_next_job_runs(local_pipeline, voice_clip, monkeypatch):
    import torch

    import tts.f5
    from common.errors import ModelError

    def out_of_memory(*args: object, **kwargs: object) -> None:
        """Stands in for a GPU allocation that fails inside F5's sampler; the handling around it is tested."""
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(tts.f5, "sample_batch", out_of_memory)
    with pytest.raises(ModelError, match="ran out of memory for this job; retry it"):
        local_pipeline.run(job_for(voice_clip), "oom", lambda _: None)
    monkeypatch.undo()
    check_result(local_pipeline.run(job_for(voice_clip), "after-oom", lambda _: None), TEXT)


def test_a_language_the_f5_base_model_was_not_trained_on_is_warned_about(loaded_models):
    from worker.plan import Plan

    assert loaded_models.engines["f5"].trained_languages == ("en", "zh")  # the released checkpoints' (the default)
    voice = {"url": "https://example.com/voice.wav", "text": "Hello."}
    warned = {}
    for language in ("en", "zh", "ja", "fr"):
        plan = Plan.of(parse_job({"text": "Hello.", "voice": voice, "language": language}), default_engine="f5")
        warned[language] = plan.engine_warnings(plan.choose_engines(loaded_models.engines))
    assert warned["en"] == warned["zh"] == []
    assert warned["ja"] == [
        "language: F5-TTS/F5TTS_v1_Base was trained on en and zh, not 'ja': expect speech that is hard to understand "
        "(tts.engine espeak speaks it; for a checkpoint trained on it, set F5_REPO and F5_CHECKPOINT_FILE, and "
        "F5_LANGUAGES to what it knows)"
    ]
    assert len(warned["fr"]) == 1
