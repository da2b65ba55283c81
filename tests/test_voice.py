"""Reference clips: any common format decodes; bad clips are refused from their header, cleanly."""

from __future__ import annotations

import base64
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from common.errors import InvalidInput, VoiceError
from tests.conftest import make_clip
from voice import ReferenceVoice
from voice.clip import decode_clip, fetch_clip
from worker.contract import VoiceInput

pytestmark = pytest.mark.slow


def load_voice(voice: VoiceInput, work_dir: Path, rate_hz: int) -> ReferenceVoice:
    """The clip as the voice stage fetches and decodes it, before preparing it."""
    source = voice.source("voice")
    return decode_clip(fetch_clip(source, work_dir), source.text or "", rate_hz)


def voice_from(path: Path) -> VoiceInput:
    return VoiceInput(base64=base64.b64encode(path.read_bytes()).decode(), text="A hum.")


@pytest.mark.parametrize(("suffix", "codec"), [("wav", "pcm_s16le"), ("mp3", "libmp3lame"), ("flac", "flac"),
                                               ("ogg", "libvorbis"), ("m4a", "aac")])  # fmt: skip
def test_common_formats_decode_to_mono_at_the_models_rate(tmp_path, suffix, codec):
    clip = make_clip(tmp_path / f"voice.{suffix}", duration_s=2.0, sample_rate_hz=44100, codec=codec)
    voice = load_voice(voice_from(clip), tmp_path, 24000)
    assert voice.sample_rate_hz == 24000
    assert voice.samples.ndim == 1 and voice.samples.dtype == np.float32
    assert abs(voice.duration_s - 2.0) < 0.1


def silent(path: Path, duration_s: float, codec: str = "flac") -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", str(duration_s),
         "-c:a", codec, str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_a_two_hour_clip_is_refused_from_its_header(tmp_path):
    clip = silent(tmp_path / "long.flac", 2 * 3600)
    assert clip.stat().st_size < 5_000_000  # small on the wire, two hours once decoded
    with pytest.raises(VoiceError, match=r"7200\.0 s long; use a clip of 3 to 12 s"):
        load_voice(voice_from(clip), tmp_path, 24000)


def test_a_silent_clip_is_refused(tmp_path):
    with pytest.raises(VoiceError, match="silent"):
        load_voice(voice_from(silent(tmp_path / "quiet.flac", 3)), tmp_path, 24000)


@pytest.mark.parametrize("payload", [b"\x00", b"\x00\x01garbage" * 100, b"%PDF-1.4 not a sound"])
def test_corrupt_and_non_audio_clips_are_refused(tmp_path, payload):
    voice = VoiceInput(base64=base64.b64encode(payload).decode(), text="A hum.")
    with pytest.raises(VoiceError, match="not audio that ffmpeg can read"):
        load_voice(voice, tmp_path, 24000)


def test_an_empty_clip_is_refused_by_the_contract():
    with pytest.raises(ValueError, match="give exactly one of base64, url, s3_key, name or espeak"):
        VoiceInput(base64="", text="A hum.")


def test_a_zip_bomb_is_not_audio(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("silence.raw", b"\0" * 50_000_000)  # 50 MB that packs to ~50 kB
    with pytest.raises(VoiceError, match="not audio that ffmpeg can read"):
        load_voice(voice_from(bomb), tmp_path, 24000)


def test_a_truncated_clip_decodes_what_is_there(tmp_path):
    clip = make_clip(tmp_path / "voice.mp3", duration_s=3.0, codec="libmp3lame")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    voice = load_voice(voice_from(cut), tmp_path, 24000)
    assert 1.2 < voice.duration_s < 1.6  # the first half of 3 s (1.44 s measured: mp3 frames, encoder delay)


def test_a_data_uri_without_data_or_with_bad_base64_is_a_clear_error(tmp_path):
    with pytest.raises(VoiceError, match="the voice clip is empty"):
        load_voice(VoiceInput(base64="data:audio/wav;base64", text="A hum."), tmp_path, 24000)
    with pytest.raises(InvalidInput, match="voice.base64: is not valid base64"):
        load_voice(VoiceInput(base64="data:audio/wav;base64,@@@", text="A hum."), tmp_path, 24000)
