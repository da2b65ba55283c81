"""The video stage: the speech and its ASS subtitles as a finished MP4, captions burned in, and a poster frame.

render_video(audio, subtitles, VideoSpec(...), poster_at_s, work_dir) → VideoFiles(video, poster, encoder, ...)
nvenc_available() → whether this machine's ffmpeg can encode H.264 on an NVIDIA GPU (asked once)

The video lasts as long as the speech, which is its only soundtrack (AAC). The picture is a solid colour, or a
background image or video scaled to cover the frame and cropped around its centre; a background video shorter
than the speech is looped, and its own sound is dropped. libass draws the captions from the subtitle file, which
the caller renders at `spec.resolution`. H.264 comes from NVENC where `nvenc_available()`, else from x264.

Backgrounds are untrusted bytes: ffmpeg reads them only as local files and only with the demuxers of
`commands.BACKGROUND_DEMUXERS`, so a playlist or concat list posing as a video is refused before it names a file.
Errors:
- `InvalidInput("output.video.background", ...)`: the background is not an image or video ffmpeg can read in
  the allowed containers (the caller's file); `InvalidInput("output.video.<field>", ...)` for a spec out of range.
- `InternalError`: ffmpeg failed or ran past the time limit while encoding or reading the worker's own files (the
  speech, the subtitles, the finished video). A failed NVENC encode is retried once with x264 first.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from common import ffmpeg
from common.errors import InternalError, InvalidInput
from video import commands
from video.commands import BACKGROUND_CONTAINERS, Background, BackgroundKind, Encoder

__all__ = ["VideoFiles", "VideoSpec", "nvenc_available", "render_video"]
log = logging.getLogger(__name__)

COLOUR = re.compile(r"^#([0-9A-Fa-f]{6})$")
_ADDRESS = re.compile(r"^\[[\w ]+ @ 0x[0-9a-f]+\] ")
MAX_SIDE_PX = 4096  # H.264 level 5.1 holds 4096x2304 or 2160x3840 (vertical 4K)
MIN_SIDE_PX = 64
MAX_FPS = 60
PROBE_TIMEOUT_S = 30.0  # reading a background's header and first frame; a file slower than this is unreadable
NVENC_CHECK_TIMEOUT_S = 30.0
# The whole render's limit unless the caller gives one: a base for starting up and the poster, plus time per
# second of speech (x264 veryfast renders 1080x1920 at about 1.6x real time on 2 cores: BENCHMARKS.md).
DEFAULT_TIMEOUT_BASE_S = 60.0
DEFAULT_TIMEOUT_PER_SPEECH_S = 4.0
_FIRST_FRAME_SIDE_PX = 8


@dataclass(frozen=True)
class VideoSpec:
    """How the video looks: its size, frame rate and background (the image or video wins over the colour)."""

    resolution: tuple[int, int] = (1080, 1920)  # width, height
    fps: int = 30
    background_colour: str = "#101010"  # used when no image or video is given
    background_image: Path | None = None  # a local file the worker already fetched (png, jpeg, webp)
    background_video: Path | None = None  # a local file the worker already fetched (mp4, mov, webm, mkv)


@dataclass(frozen=True)
class VideoFiles:
    video: Path  # H.264/AAC MP4, faststart
    poster: Path  # PNG frame at `poster_at_s`
    encoder: str  # "h264_nvenc" or "libx264"
    duration_s: float


def render_video(
    audio: Path,
    subtitles: Path,
    spec: VideoSpec,
    poster_at_s: float,
    work_dir: Path,
    timeout_s: float | None = None,
) -> VideoFiles:
    """Write `work_dir/video.mp4` (the speech with its captions burned in) and `work_dir/poster.png` (its frame at
    `poster_at_s`, moved into the video when past its last frame). `timeout_s` bounds the whole render; by
    default it grows with the speech's length."""
    encoder: Encoder = "h264_nvenc" if nvenc_available() else "libx264"
    return render_with(encoder, audio, subtitles, spec, poster_at_s, work_dir, timeout_s)


def render_with(
    encoder: Encoder,
    audio: Path,
    subtitles: Path,
    spec: VideoSpec,
    poster_at_s: float,
    work_dir: Path,
    timeout_s: float | None = None,
) -> VideoFiles:
    """`render_video` with the encoder given (the benchmark compares them); a failed NVENC encode still falls back
    to x264."""
    colour_hex = _check(spec, poster_at_s)
    started = time.monotonic()
    background = _background(spec)
    try:
        duration_s = ffmpeg.probe(audio).duration_s
    except ffmpeg.UnreadableAudio as error:
        raise InternalError(f"the speech to put in the video {error}") from None
    if timeout_s is None:
        timeout_s = DEFAULT_TIMEOUT_BASE_S + DEFAULT_TIMEOUT_PER_SPEECH_S * duration_s
    deadline = started + timeout_s
    if background is not None:
        _check_background(background, deadline)

    video = work_dir / "video.mp4"
    render = functools.partial(
        commands.render_command, audio, subtitles, spec.resolution, spec.fps, colour_hex, duration_s, background
    )
    completed = _run(render(encoder, video), deadline, f"the video encoder ({encoder})")
    if completed.returncode != 0 and encoder == "h264_nvenc":
        # NVENC can fail where its test passed (every encoder session of the GPU taken): x264 still delivers.
        log.warning("NVENC failed, encoding with x264 instead: %s", _said(completed.stderr))
        encoder = "libx264"
        completed = _run(render(encoder, video), deadline, f"the video encoder ({encoder})")
    if completed.returncode != 0:
        video.unlink(missing_ok=True)
        raise InternalError(f"the video encoder ({encoder}) failed: {_said(completed.stderr)}")

    poster = work_dir / "poster.png"
    last_frame_s = max(0.0, (max(1, round(duration_s * spec.fps)) - 1) / spec.fps)
    at_s = min(poster_at_s, last_frame_s)
    completed = _run(commands.poster_command(video, at_s, poster), deadline, "the poster frame (ffmpeg)")
    if completed.returncode != 0 or not poster.is_file():
        raise InternalError(f"the poster frame could not be taken: {_said(completed.stderr)}")
    elapsed_s = time.monotonic() - started
    log.info("video: %.1f s of %dx%d by %s in %.1f s", duration_s, *spec.resolution, encoder, elapsed_s)
    return VideoFiles(video=video, poster=poster, encoder=encoder, duration_s=duration_s)


@functools.cache
def nvenc_available() -> bool:
    """True only when ffmpeg has the h264_nvenc encoder and encodes a frame with it: a build with NVENC on a
    machine without an NVIDIA GPU (or on one without an encoder, such as the H100) answers False. Asked once."""
    try:
        listed = subprocess.run(  # noqa: S603
            ["ffmpeg", "-hide_banner", "-encoders"],  # noqa: S607
            capture_output=True,
            timeout=NVENC_CHECK_TIMEOUT_S,
            check=False,
        )
        if b" h264_nvenc " not in listed.stdout:
            log.info("NVENC: this ffmpeg has no h264_nvenc; videos are encoded with x264")
            return False
        encoded = subprocess.run(  # noqa: S603
            commands.nvenc_test_command(), capture_output=True, timeout=NVENC_CHECK_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.info("NVENC: the check did not finish (%s); videos are encoded with x264", error)
        return False
    if encoded.returncode != 0:
        log.info(
            "NVENC: the encoder could not be opened (expected without an NVIDIA GPU, on GPUs without NVENC such as "
            "the H100 and A100, and where the container lacks the driver's video capability; ffmpeg: %s); videos "
            "are encoded with x264",
            _said(encoded.stderr),
        )
        return False
    log.info("NVENC: available; videos are encoded on the GPU")
    return True


def _check(spec: VideoSpec, poster_at_s: float) -> str:
    """The spec's background colour as RRGGBB hex; InvalidInput for a spec out of range."""
    width, height = spec.resolution
    if not all(MIN_SIDE_PX <= side <= MAX_SIDE_PX and side % 2 == 0 for side in (width, height)):
        raise InvalidInput(
            "output.video.resolution", f"each side must be even and {MIN_SIDE_PX} to {MAX_SIDE_PX} pixels"
        )
    if not 1 <= spec.fps <= MAX_FPS:
        raise InvalidInput("output.video.fps", f"must be 1 to {MAX_FPS}")
    match = COLOUR.match(spec.background_colour)
    if match is None:
        raise InvalidInput("output.video.background_colour", "must be a colour as #RRGGBB")
    if spec.background_image is not None and spec.background_video is not None:
        raise InvalidInput("output.video", "give a background image or a background video, not both")
    if not poster_at_s >= 0:  # also refuses NaN
        raise InvalidInput("output.video.poster_at_s", "must be 0 or more seconds")
    return match.group(1)


def _background(spec: VideoSpec) -> Background | None:
    """The spec's background, an image with the demuxer its first bytes name; InvalidInput for an image in none
    of the allowed formats."""
    if spec.background_video is not None:
        return Background("video", spec.background_video)
    if spec.background_image is None:
        return None
    try:
        with spec.background_image.open("rb") as file:
            header = file.read(commands.IMAGE_HEADER_BYTES)
    except OSError as error:
        raise InternalError(f"the fetched background image cannot be opened: {error.strerror}") from None
    demuxer = commands.image_demuxer(header)
    if demuxer is None:
        raise _unreadable("image")
    return Background("image", spec.background_image, demuxer)


def _check_background(background: Background, deadline: float) -> None:
    """Refuse a background ffmpeg cannot read as a picture in the allowed containers, before the encode starts:
    its header must name a picture stream and its first frame must decode."""
    limit_s = max(0.0, min(PROBE_TIMEOUT_S, deadline - time.monotonic()))
    try:
        probed = subprocess.run(  # noqa: S603
            commands.probe_command(background), capture_output=True, timeout=limit_s, check=False
        )
        streams = (json.loads(probed.stdout or b"{}").get("streams") or []) if probed.returncode == 0 else []
        if not streams or streams[0].get("codec_type") != "video":
            raise _unreadable(background.kind, probed.stderr)
        side = _FIRST_FRAME_SIDE_PX
        decoded = subprocess.run(  # noqa: S603
            commands.first_frame_command(background, side), capture_output=True, timeout=limit_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise InvalidInput(
            "output.video.background", f"the background {background.kind} could not be read within {limit_s:.0f} s"
        ) from None
    if len(decoded.stdout) != side * side * 3:
        raise _unreadable(background.kind, decoded.stderr)


def _unreadable(kind: BackgroundKind, stderr: bytes = b"") -> InvalidInput:
    """The caller's background is no picture the worker reads; says so, or that it has too many pixels."""
    if b"exceeds specified max pixel count" in stderr:
        side = math.isqrt(commands.MAX_PIXELS)
        return InvalidInput("output.video.background", f"the background {kind} is larger than {side}x{side} pixels")
    return InvalidInput(
        "output.video.background", f"the background {kind} cannot be read as {BACKGROUND_CONTAINERS[kind]}"
    )


def _run(command: list[str], deadline: float, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg on the worker's own files until `deadline`; InternalError if it is still running then."""
    limit_s = deadline - time.monotonic()
    try:
        return subprocess.run(command, capture_output=True, timeout=max(0.0, limit_s), check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise InternalError(f"{what} did not finish within the video's time limit ({limit_s:.0f} s left)") from None


def _said(stderr: bytes) -> str:
    """ffmpeg's first error line (the cause) and its last (where it gave up), without memory addresses."""
    lines = [_ADDRESS.sub("", line).strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "no details from ffmpeg"
    return lines[0] if len(lines) == 1 else f"{lines[0]} ({lines[-1]})"
