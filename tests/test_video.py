"""The finished video, as ffprobe and ffmpeg read it back: one H.264 and one AAC stream as long as the speech; the
karaoke colour on a word while it is spoken and not before; a background image covering the frame, cropped around
its centre; a short background video looped; a poster with the captions; backgrounds that are playlists refused
without a file they name being opened; odd characters in paths; and each failure as the error class it promises.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from common.errors import InternalError, InvalidInput
from subtitles import PRESETS, SubtitleLayout, TimedWord, build_cues, render_ass
from tests.conftest import media_streams
from video import VideoFiles, VideoSpec, nvenc_available, render_video
from video.commands import image_demuxer

WIDTH, HEIGHT = 320, 568
SPEECH_S = 4.37  # not a whole number of frames (30 fps) or AAC frames (1024 samples)
YELLOW = np.array([255, 230, 0])  # the shorts preset's highlight (primary)
WORDS = [TimedWord("ALPHA", 0.50, 1.00), TimedWord("BETA", 1.50, 2.00)]  # one cue; nothing drawn after ~2.6 s
NO_CAPTIONS_S = (0.2, 3.0, 4.0)  # before the cue and after it
SPEC = VideoSpec(resolution=(WIDTH, HEIGHT))


def ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *arguments], check=True)


def speech_wav(path: Path, duration_s: float = SPEECH_S) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=f=220:sample_rate=24000:d={duration_s}", str(path))
    return path


def karaoke_ass(path: Path, words: list[TimedWord] = WORDS, duration_s: float = SPEECH_S) -> Path:
    layout = SubtitleLayout(resolution=(WIDTH, HEIGHT), style=PRESETS["shorts"])
    text = render_ass(build_cues(words, layout, audio_duration_s=duration_s), layout, audio_duration_s=duration_s)
    path.write_text(text, encoding="utf-8-sig")
    return path


def frame_at(video: Path, time_s: float) -> np.ndarray:
    """The video's frame shown at `time_s`, as height x width x RGB."""
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{time_s:.3f}", "-i", str(video), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(completed.stdout, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3)


def picture(path: Path, size: tuple[int, int]) -> np.ndarray:
    """A PNG's pixels (read as PNG bytes: the image2 reader would take `%d` in a name as a sequence)."""
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "png_pipe", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    width, height = size
    assert len(completed.stdout) == width * height * 3, f"{path} is not {width}x{height}"
    return np.frombuffer(completed.stdout, dtype=np.uint8).reshape(height, width, 3)


def near(frame: np.ndarray, colour: tuple[int, int, int] | np.ndarray, tolerance: int = 50) -> np.ndarray:
    return np.all(np.abs(frame.astype(int) - np.asarray(colour)) < tolerance, axis=-1)


def highlight_columns(frame: np.ndarray) -> np.ndarray:
    return np.nonzero(near(frame, YELLOW).any(axis=0))[0]


def white_columns(frame: np.ndarray) -> np.ndarray:
    return np.nonzero(np.all(frame > 200, axis=-1).any(axis=0))[0]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    return speech_wav(folder / "speech.wav"), karaoke_ass(folder / "captions.ass")


@pytest.fixture(scope="module")
def colour_video(inputs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> VideoFiles:
    speech, captions = inputs
    return render_video(speech, captions, SPEC, poster_at_s=1.75, work_dir=tmp_path_factory.mktemp("colour"))


def render(inputs: tuple[Path, Path], work_dir: Path, **spec: object) -> VideoFiles:
    speech, captions = inputs
    return render_video(speech, captions, VideoSpec(resolution=(WIDTH, HEIGHT), **spec), 1.0, work_dir)


@pytest.mark.slow
def test_the_mp4_has_one_h264_and_one_aac_stream_each_as_long_as_the_speech(colour_video):
    video, audio = sorted(media_streams(colour_video.video), key=lambda stream: stream["codec_type"] != "video")
    assert [stream["codec_type"] for stream in media_streams(colour_video.video)].count("video") == 1
    assert len(media_streams(colour_video.video)) == 2
    assert (video["codec_name"], video["width"], video["height"], video["pix_fmt"]) == (
        "h264",
        WIDTH,
        HEIGHT,
        "yuv420p",
    )
    assert audio["codec_name"] == "aac"
    assert colour_video.duration_s == pytest.approx(SPEECH_S, abs=0.001)
    assert abs(float(video["duration"]) - SPEECH_S) <= 1 / 30  # whole frames
    assert abs(float(audio["duration"]) - SPEECH_S) <= 1024 / 48000  # whole AAC frames
    assert colour_video.encoder == ("h264_nvenc" if nvenc_available() else "libx264")


@pytest.mark.slow
def test_the_index_comes_before_the_media_so_the_video_plays_while_it_downloads(colour_video):
    data, boxes, offset = colour_video.video.read_bytes(), [], 0
    while offset + 8 <= len(data):  # the MP4's top-level boxes: a 32-bit size, then the type
        boxes.append(data[offset + 4 : offset + 8])
        offset += int.from_bytes(data[offset : offset + 4], "big")
    assert boxes.index(b"moov") < boxes.index(b"mdat")


@pytest.mark.slow
def test_a_word_shows_the_karaoke_colour_while_it_is_spoken_and_not_before(colour_video):
    before_beta, middle_of_beta = frame_at(colour_video.video, 1.25), frame_at(colour_video.video, 1.75)
    for time_s in NO_CAPTIONS_S:
        assert not near(frame_at(colour_video.video, time_s), YELLOW).any(), f"captions drawn at {time_s} s"
    # Before BETA is spoken only ALPHA is lit; in the middle of BETA the highlight has reached (part of) BETA: pixels
    # white before it are yellow now.
    lit_before, lit_during = near(before_beta, YELLOW), near(middle_of_beta, YELLOW)
    assert lit_before.sum() > 100
    newly_lit = lit_during & ~lit_before
    assert newly_lit.sum() > 50
    assert np.all(before_beta[newly_lit] > 200, axis=-1).mean() > 0.9, "BETA was white before it was spoken"


@pytest.mark.slow
def test_the_poster_is_a_png_of_the_frame_at_its_time_with_the_captions(colour_video):
    assert colour_video.poster.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    poster = picture(colour_video.poster, (WIDTH, HEIGHT))
    assert np.array_equal(highlight_columns(poster), highlight_columns(frame_at(colour_video.video, 1.75)))
    assert len(highlight_columns(poster)) > 20
    assert near(poster[0, 0], (16, 16, 16), tolerance=8)  # the background colour, #101010


@pytest.mark.slow
def test_a_poster_time_past_the_end_takes_the_last_frame(inputs, tmp_path):
    speech, captions = inputs
    files = render_video(speech, captions, SPEC, poster_at_s=60.0, work_dir=tmp_path)
    assert picture(files.poster, (WIDTH, HEIGHT)).shape == (HEIGHT, WIDTH, 3)


@pytest.mark.slow
def test_a_background_image_covers_the_frame_cropped_around_its_centre(inputs, tmp_path):
    # 600x300, left half red and right half blue: covering 320x568 takes its middle 169 columns, split in two.
    image = tmp_path / "background"  # named as the worker names a fetched file: no extension
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=600x300,drawbox=x=300:y=0:w=300:h=300:c=blue:t=fill",
           "-frames:v", "1", "-f", "image2", "-c:v", "png", str(image))  # fmt: skip
    files = render(inputs, tmp_path, background_image=image)
    for time_s in NO_CAPTIONS_S:
        frame = frame_at(files.video, time_s)
        red, blue = near(frame, (255, 0, 0)), near(frame, (0, 0, 255))
        assert red[:, : WIDTH // 2 - 4].all() and blue[:, WIDTH // 2 + 4 :].all()  # no bars; red left, blue right


@pytest.mark.slow
@pytest.mark.parametrize(("name", "codec"), [("frame%03d.jpg", "mjpeg"), ("frame%03d.webp", "libwebp")])
def test_jpeg_and_webp_backgrounds_are_read_by_their_bytes_whatever_their_name(inputs, tmp_path, name, codec):
    image = tmp_path / name  # image2 would read this name as a numbered sequence
    ffmpeg("-f", "lavfi", "-i", "color=c=0x00C000:s=200x400", "-frames:v", "1", "-c:v", codec, "-f", "image2",
           "-update", "1", str(image))  # fmt: skip
    files = render(inputs, tmp_path, background_image=image)
    assert near(frame_at(files.video, 0.2), (0, 192, 0)).all()


@pytest.mark.slow
def test_a_background_video_shorter_than_the_speech_is_looped_and_its_sound_dropped(inputs, tmp_path):
    # Every pixel changes colour from frame to frame (the hue turns once in 2 s); 2 s at 25 fps is 50 whole frames.
    clip = tmp_path / "background.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=2,hue=H=PI*t", "-f", "lavfi", "-i", "anoisesrc=d=2",
           "-c:v", "libx264", "-crf", "10", "-c:a", "aac", str(clip))  # fmt: skip
    files = render(inputs, tmp_path, background_video=clip)
    assert sorted(stream["codec_type"] for stream in media_streams(files.video)) == ["audio", "video"]
    # Outside the captions (0.5 to 2.0 s): the same picture at 0.2, 2.2 and 4.2 s, another 0.4 s later.
    passes = [frame_at(files.video, time_s).astype(int) for time_s in (0.2, 2.2, 4.2)]
    moved = frame_at(files.video, 2.6).astype(int)
    difference = max(np.abs(passes[0] - later).mean() for later in passes[1:])
    assert difference < 2, "a frame one or two loops (2 s) later should be the same picture"
    assert np.abs(passes[1] - moved).mean() > 10 * max(difference, 1), "the picture should move"
    second_pass = passes[1]
    assert not near(second_pass, (16, 16, 16), tolerance=8).all(), "the background colour, not the video"


@pytest.mark.slow
def test_paths_with_quotes_colons_commas_brackets_and_backslashes_name_exactly_their_files(inputs, tmp_path):
    speech, captions = inputs
    folder = tmp_path / "it's: a,b [c]; d=e \\ %d"
    folder.mkdir()
    odd_captions = folder / "captions, [v]'.ass"
    odd_captions.write_bytes(captions.read_bytes())
    files = render_video(speech, odd_captions, SPEC, poster_at_s=1.75, work_dir=folder)
    assert files.video.parent == folder
    assert len(highlight_columns(picture(files.poster, (WIDTH, HEIGHT)))) > 20


class OpenWatch:
    """Reports whether any process opens a named pipe for reading: opening it for writing without blocking succeeds
    only while a reader has it open (ffmpeg would wait in its open for us)."""

    def __init__(self, fifo: Path) -> None:
        os.mkfifo(fifo)
        self.fifo = fifo
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))
                self.opened = True
            except OSError:  # ENXIO: nobody reads it
                time.sleep(0.002)

    def __enter__(self) -> OpenWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.05)
        self._stop.set()
        self._thread.join()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "playlist"),
    [
        ("video", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\nsecret.ts\n#EXT-X-ENDLIST\n"),
        ("video", "ffconcat version 1.0\nfile secret.ts\n"),
        ("image", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\nsecret.ts\n#EXT-X-ENDLIST\n"),
    ],
    ids=["hls-as-video", "concat-as-video", "hls-as-image"],
)
def test_a_playlist_posing_as_a_background_is_refused_without_opening_the_file_it_names(
    inputs, tmp_path, kind, playlist
):
    disguised = tmp_path / "background.mp4"
    disguised.write_text(playlist)
    with OpenWatch(tmp_path / "secret.ts") as watch, pytest.raises(InvalidInput) as refused:
        render(inputs, tmp_path, **{f"background_{kind}": disguised})
    assert refused.value.field == "output.video.background"
    assert "cannot be read as" in refused.value.problem
    assert not watch.opened, "ffmpeg opened the file the playlist names"
    assert not (tmp_path / "video.mp4").exists()


@pytest.mark.slow
def test_an_image_with_more_pixels_than_allowed_is_refused_as_too_large(inputs, tmp_path):
    image = tmp_path / "background.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=9000x9000", "-frames:v", "1", "-update", "1", str(image))
    with pytest.raises(InvalidInput, match=r"output.video.background: the background image is larger than 8192x8192"):
        render(inputs, tmp_path, background_image=image)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "suffix"), [("image", "mp4"), ("video", "png"), ("video", "txt")])
def test_a_background_of_the_wrong_kind_is_the_callers_error(inputs, tmp_path, kind, suffix):
    background = tmp_path / f"background.{suffix}"
    if suffix == "txt":
        background.write_text("not a video at all\n" * 100)
    elif suffix == "png":
        ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x64", "-frames:v", "1", "-update", "1", str(background))
    else:
        ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x64:r=25:d=0.2", str(background))
    with pytest.raises(InvalidInput, match=f"output.video.background: the background {kind} cannot be read as"):
        render(inputs, tmp_path, **{f"background_{kind}": background})


@pytest.mark.slow
def test_subtitles_the_encoder_cannot_read_are_an_internal_error_quoting_ffmpeg(inputs, tmp_path):
    speech, _ = inputs
    with pytest.raises(InternalError, match=r"the video encoder \(libx264\) failed: .*libass"):
        render_video(speech, tmp_path / "missing.ass", SPEC, 1.0, tmp_path)


@pytest.mark.slow
def test_an_encode_past_its_time_limit_is_an_internal_error(inputs, tmp_path):
    speech, captions = inputs
    with pytest.raises(InternalError, match=r"did not finish within the video's time limit"):
        render_video(speech, captions, SPEC, 1.0, tmp_path, timeout_s=0.001)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (VideoSpec(resolution=(321, 568)), "output.video.resolution"),
        (VideoSpec(resolution=(8192, 8192)), "output.video.resolution"),
        (VideoSpec(fps=0), "output.video.fps"),
        (VideoSpec(fps=240), "output.video.fps"),
        (VideoSpec(background_colour="red"), "output.video.background_colour"),
        (VideoSpec(background_colour="#10101"), "output.video.background_colour"),
        (VideoSpec(background_image=Path("a.png"), background_video=Path("b.mp4")), "output.video"),
    ],
)
def test_a_spec_out_of_range_is_invalid_input_naming_its_field(tmp_path, spec, field):
    with pytest.raises(InvalidInput) as refused:
        render_video(tmp_path / "speech.wav", tmp_path / "captions.ass", spec, 1.0, tmp_path)
    assert refused.value.field == field


@pytest.mark.parametrize("poster_at_s", [-1.0, float("nan")])
def test_a_negative_poster_time_is_invalid_input(tmp_path, poster_at_s):
    with pytest.raises(InvalidInput, match="output.video.poster_at_s"):
        render_video(tmp_path / "speech.wav", tmp_path / "captions.ass", SPEC, poster_at_s, tmp_path)


@pytest.mark.parametrize(
    ("header", "demuxer"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", "png_pipe"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "jpeg_pipe"),
        (b"RIFF\x24\x00\x00\x00WEBP", "webp_pipe"),
        (b"RIFF\x24\x00\x00\x00WAVE", None),
        (b"#EXTM3U\n#EXT-X", None),
        (b"", None),
    ],
)
def test_an_image_is_read_with_the_demuxer_its_first_bytes_name(header, demuxer):
    assert image_demuxer(header) == demuxer
