"""The job contract: what is accepted, and how a refusal names the field and the fix."""

from __future__ import annotations

import pytest

from common.errors import InvalidInput
from worker.contract import SynthesisJob, parse_job

VOICE = {"url": "https://example.com/voice.wav", "text": "Hello there."}


def error_for(raw: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_job(raw)
    return str(caught.value)


def test_a_minimal_job_gets_the_documented_defaults():
    job = parse_job({"text": "Hi.", "voice": VOICE})
    assert isinstance(job, SynthesisJob)
    assert job.language == "en"
    assert (job.tts.nfe_step, job.tts.speed, job.tts.seed) == (32, 1.0, None)
    assert job.audio.format == "wav"
    assert job.subtitles.formats == ("ass", "srt", "vtt", "json")
    assert (job.subtitles.mode, job.subtitles.karaoke_tag) == ("karaoke", "kf")
    assert job.output.presign_expiry_s == 3600


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "invalid_input: input: must be a JSON object, got NoneType"),
        ([], "invalid_input: input: must be a JSON object, got list"),
        ({"voice": VOICE}, "invalid_input: text: is required: give text, or script (a list of lines and pauses)"),
        ({"text": "   ", "voice": VOICE}, "invalid_input: text: must contain at least one word"),
        (
            {"text": "... !!!", "voice": VOICE},
            "invalid_input: text: must contain at least one word: punctuation alone is not spoken",
        ),
        (
            {"text": "Hi", "tts": {"engine": "f5"}},
            "invalid_input: voice: is required by the f5 engine: give voice.base64, voice.url, voice.s3_key or voice.name",
        ),
        (
            {"text": "Hi", "voice": {"text": "x"}},
            "invalid_input: voice: give exactly one of base64, url, s3_key, name or espeak (got none)",
        ),
        (
            {"text": "Hi", "voice": {**VOICE, "base64": "AAAA"}},
            "invalid_input: voice: give exactly one of base64, url, s3_key, name or espeak (got base64, url)",
        ),
        (
            {"text": "Hi", "voice": VOICE, "language": "zh-CN"},
            "invalid_input: language: use a language code of two or three lowercase letters, such as en, zh or de",
        ),
        (
            {"text": "Hi", "voice": VOICE, "tts": {"speed": 9}},
            "invalid_input: tts.speed: Input should be less than or equal to 3",
        ),
        (
            {"text": "Hi", "voice": VOICE, "audio": {"format": "aiff"}},
            "invalid_input: audio.format: Input should be 'wav', 'mp3', 'flac', 'ogg' or 'opus'",
        ),
        (
            {"text": "Hi", "voice": VOICE, "colour": "red"},
            "invalid_input: input: unknown field 'colour' (see the job contract in the README)",
        ),
        (
            {"text": "Hi", "voice": VOICE, "tts": {"steps": 8}},
            "invalid_input: tts: unknown field 'steps' (see the job contract in the README)",
        ),
        (
            {"text": "Hi", "voice": VOICE, "subtitles": {"formats": ["ass", "ass"]}},
            "invalid_input: subtitles.formats: each format at most once",
        ),
        (
            {"text": "Hi", "voice": VOICE, "output": {"presign_expiry_s": 8 * 86400}},
            "invalid_input: output.presign_expiry_s: Input should be less than or equal to 604800",
        ),
        (
            {"txt": "Hi", "voice": VOICE},
            "invalid_input: text: is required: give text, or script (a list of lines and pauses) ('txt' is not a "
            "field: misspelt?)",
        ),
        (
            {"action": "align", "adio": {"url": "https://example.com/a.wav"}, "text": "Hi"},
            "invalid_input: audio: is required ('adio' is not a field: misspelt?)",
        ),
        (
            {"action": "transcribe", "audio": {"url": "https://example.com/a.wav"}, "text": "Hi"},
            "invalid_input: input: unknown field 'text': transcribe finds the text itself; to time a text you have, "
            "use action align",
        ),
        (
            {"text": "Hi", "voice": VOICE, "subtitles": {"formats": "srt"}},
            "invalid_input: subtitles.formats: must be a list (a JSON array: [...])",
        ),
        (
            {"action": "voice.save", "name": "my voice!", "voice": VOICE},
            "invalid_input: name: use 1 to 64 letters, digits, - and _, starting with a letter or digit, got "
            "'my voice!'",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_and_the_fix(raw, expected):
    assert error_for(raw) == expected


@pytest.mark.parametrize("prefix", ["../up", "/abs", "a//b", "a/./b", "a\\b", "tab\there", "a/../b", "ü"])
def test_unsafe_output_prefixes_are_refused(prefix):
    assert error_for({"text": "Hi", "voice": VOICE, "output": {"prefix": prefix}}).startswith(
        "invalid_input: output.prefix: "
    )


def test_a_safe_prefix_is_kept_without_slashes_at_the_ends():
    assert (
        parse_job({"text": "Hi", "voice": VOICE, "output": {"prefix": "videos/2024/"}}).output.prefix == "videos/2024"
    )


def test_the_subtitles_are_laid_out_for_the_jobs_video_unless_the_job_says_otherwise():
    video = {"video": {"resolution": [1080, 1920]}}
    plain = parse_job({"text": "Hi", "voice": VOICE})
    with_video = parse_job({"text": "Hi", "voice": VOICE, "output": video})
    chosen = parse_job({"text": "Hi", "voice": VOICE, "output": video, "subtitles": {"resolution": [1280, 720]}})
    assert plain.subtitles.layout().resolution == (1920, 1080)
    assert with_video.subtitles.layout(video=(1080, 1920)).resolution == (1080, 1920)
    assert chosen.subtitles.layout(video=(1080, 1920)).resolution == (1280, 720)
