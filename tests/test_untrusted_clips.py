"""Clips are untrusted bytes: ffmpeg reads them only as audio containers, never as a list of other files to open;
a clip that hangs ffmpeg, or an encoder that fails, is a clear error of the job, not an internal one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import common.ffmpeg
from common import ffmpeg
from common.errors import ModelError, VoiceError
from tests.conftest import make_clip
from voice.clip import decode_clip

pytestmark = pytest.mark.slow


def secret_recording(folder: Path) -> Path:
    """Audio the caller must not be able to make the worker read: a local MPEG-TS file."""
    path = folder / "secret.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=220:d=3", "-c:a", "aac", "-f", "mpegts", str(path)],
        check=True,
    )  # fmt: skip
    return path


def clip_saying(folder: Path, text: str) -> Path:
    path = folder / "voice-clip"  # as fetch_clip names it: no extension, ffmpeg detects the format from the bytes
    path.write_text(text)
    return path


def test_a_playlist_naming_a_local_file_is_refused_without_reading_it(tmp_path):
    secret = secret_recording(tmp_path)
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n{secret}\n#EXT-X-ENDLIST\n"
    with pytest.raises(VoiceError, match="is not in an audio container the worker reads"):
        decode_clip(clip_saying(tmp_path, playlist), "A hum.", 24000)


def test_a_concat_list_is_refused(tmp_path):
    secret = secret_recording(tmp_path)
    with pytest.raises(VoiceError, match="is not in an audio container the worker reads"):
        decode_clip(clip_saying(tmp_path, f"ffconcat version 1.0\nfile {secret}\n"), "A hum.", 24000)


@pytest.mark.parametrize(("suffix", "codec"), [("ogg", "libopus"), ("mp4", "aac"), ("mov", "aac"),
                                               ("webm", "libopus"), ("mkv", "flac")])  # fmt: skip
def test_every_allowed_container_still_decodes(tmp_path, suffix, codec):
    made = make_clip(tmp_path / f"made.{suffix}", duration_s=2.0, sample_rate_hz=48000, codec=codec)
    clip = tmp_path / "voice-clip"
    made.rename(clip)
    voice = decode_clip(clip, "A hum.", 24000)
    assert abs(voice.duration_s - 2.0) < 0.1


def test_a_video_without_sound_is_named_as_such(tmp_path):
    silent_film = tmp_path / "silent.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:size=64x64:duration=2", "-c:v", "libx264",
         str(silent_film)],
        check=True,
    )  # fmt: skip
    with pytest.raises(VoiceError, match=r"the voice clip has no audio stream \(only video\): send a file with sound"):
        decode_clip(silent_film, "A hum.", 24000)


def test_a_clip_ffmpeg_cannot_read_in_time_is_a_voice_error(tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "voice.wav", duration_s=2.0)
    monkeypatch.setattr(common.ffmpeg, "FFMPEG_TIMEOUT_S", 0.001)  # no ffmpeg starts that fast
    with pytest.raises(VoiceError, match=r"the voice clip could not be probed within 0.001 s"):
        decode_clip(clip, "A hum.", 24000)


def test_an_encoder_that_fails_is_a_model_error_naming_it(tmp_path):
    samples = np.zeros(24000, dtype=np.float32)
    with pytest.raises(ModelError, match=r"the mp3 encoder \(ffmpeg\) failed: .*9000"):
        ffmpeg.encode(samples, 24000, tmp_path / "out.mp3", "mp3", out_rate_hz=9000)


@pytest.mark.parametrize(("requested", "written"), [(9000, 11025), (44100, 44100), (47000, 48000)])
def test_an_mp3_rate_mpeg_audio_lacks_becomes_the_next_one_up_and_encodes(tmp_path, requested, written):
    rate = ffmpeg.output_rate_hz("mp3", requested, 24000)
    assert rate == written
    ffmpeg.encode(np.zeros(24000, dtype=np.float32), 24000, tmp_path / "out.mp3", "mp3", rate)
    assert ffmpeg.probe(tmp_path / "out.mp3").sample_rate_hz == written
