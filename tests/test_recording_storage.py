"""An align or transcribe job's recording, stored back for the result: as sent where it is audio a player opens by
its name, else its audio stream alone, copied out unchanged (or as lossless FLAC where no container fits)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from common import ffmpeg
from tests.conftest import audio_packets, media_streams
from voice.recording import decode_recording, store_as_sent

TONE = ["-f", "lavfi", "-i", "sine=frequency=300:duration=2"]
PICTURE = ["-f", "lavfi", "-i", "color=c=red:size=64x64:duration=2"]


def make(path: Path, *arguments: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *arguments, str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def cover(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make(tmp_path_factory.mktemp("cover") / "cover.png", *PICTURE, "-frames:v", "1")


@pytest.mark.parametrize(
    ("name", "encoding", "extension", "content_type"),
    [
        ("speech.wav", ["-c:a", "pcm_s16le"], "wav", "audio/wav"),
        ("speech.flac", ["-c:a", "flac"], "flac", "audio/flac"),
        ("speech.ogg", ["-c:a", "libopus"], "ogg", "audio/ogg"),
        ("speech.m4a", ["-c:a", "aac"], "m4a", "audio/mp4"),
        ("speech.webm", ["-c:a", "libopus"], "webm", "audio/webm"),  # what browsers' MediaRecorder makes
    ],
)
def test_audio_a_player_opens_by_its_name_is_stored_exactly_as_sent(tmp_path, name, encoding, extension, content_type):
    sent = make(tmp_path / name, *TONE, *encoding)
    stored = store_as_sent(decode_recording(sent, 16000), tmp_path)
    assert stored.path.read_bytes() == sent.read_bytes()
    assert (stored.path.name, stored.extension, stored.content_type) == (
        f"recording.{extension}",
        extension,
        content_type,
    )


def test_an_mp3_with_cover_art_is_stored_as_sent(tmp_path, cover):
    sent = make(tmp_path / "speech.mp3", *TONE, "-i", str(cover), "-map", "0", "-map", "1", "-c:a", "libmp3lame",
                "-c:v", "mjpeg", "-disposition:v", "attached_pic")  # fmt: skip
    stored = store_as_sent(decode_recording(sent, 16000), tmp_path)
    assert stored.path.read_bytes() == sent.read_bytes() and stored.extension == "mp3"


@pytest.mark.parametrize(
    ("name", "encoding", "extension", "content_type"),
    [
        ("talk.mp4", [*PICTURE, "-c:v", "libx264", "-c:a", "aac", "-shortest"], "m4a", "audio/mp4"),
        ("talk.webm", [*PICTURE, "-c:v", "libvpx-vp9", "-c:a", "libopus", "-shortest"], "ogg", "audio/ogg"),
        ("talk.mkv", ["-c:a", "libopus"], "ogg", "audio/ogg"),  # Matroska, which .webm players refuse
        ("talk.mov", ["-c:a", "pcm_s16le"], "wav", "audio/wav"),
        ("talk.mkv", ["-c:a", "mp3"], "mp3", "audio/mpeg"),
    ],
)
def test_from_a_video_or_another_container_the_audio_stream_alone_is_copied_out_unchanged(
    tmp_path, name, encoding, extension, content_type
):
    sent = make(tmp_path / name, *TONE, *encoding)
    stored = store_as_sent(decode_recording(sent, 16000), tmp_path)
    assert (stored.extension, stored.content_type) == (extension, content_type)
    assert [stream["codec_type"] for stream in media_streams(stored.path)] == ["audio"]
    assert audio_packets(stored.path) == audio_packets(sent)


def test_audio_no_container_of_those_holds_is_stored_as_lossless_flac(tmp_path):
    sent = make(tmp_path / "talk.mov", *TONE, "-c:a", "pcm_s16be")  # big-endian PCM: WAV holds only little-endian
    stored = store_as_sent(decode_recording(sent, 16000), tmp_path)
    assert (stored.extension, stored.content_type) == ("flac", "audio/flac")
    assert np.array_equal(ffmpeg.decode_mono(stored.path, 44100, 10), ffmpeg.decode_mono(sent, 44100, 10))


def test_of_several_audio_streams_the_first_is_the_one_timed_and_stored(tmp_path):
    """The one ffprobe describes: ffmpeg left to itself decodes the default stream, or the one with most channels."""
    sent = make(
        tmp_path / "two-tracks.mp4",
        "-f", "lavfi", "-i", "sine=frequency=300:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=500:duration=3",
        "-map", "0:a", "-map", "1:a", "-c:a", "aac", "-ac:1", "2", "-disposition:a:0", "0", "-disposition:a:1", "default",
    )  # fmt: skip
    recording = decode_recording(sent, 16000)
    assert recording.duration_s == pytest.approx(2.0, abs=0.05)
    stored = store_as_sent(recording, tmp_path)
    assert [stream["codec_type"] for stream in media_streams(stored.path)] == ["audio"]  # which a player would play
    assert audio_packets(stored.path) == audio_packets(sent)  # the first stream's packets (0:a:0)
