"""The ffmpeg command lines of the video stage, built from plain values. Pure: no I/O.

Every input is read with a protocol and a format whitelist (`input_options`), so a file that is really a playlist
(HLS) or a concat list cannot make ffmpeg open the files or URLs it names: ffmpeg refuses a file whose detected
format is not on the list before reading anything it points to. The subtitle file's path reaches libass through
the filtergraph, so it is escaped twice (`filter_value`), once for the filter's option parser and once for the
graph's: any path, whatever its quotes, colons, commas or brackets, names exactly that file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from common.ffmpeg import CLIP_DEMUXERS

Encoder = Literal["h264_nvenc", "libx264"]
BackgroundKind = Literal["image", "video"]
# The demuxers a background may be read with. Images only through the pipe demuxers, which read one picture: image2
# would read a file name such as `frame%03d.png` as a numbered sequence.
BACKGROUND_DEMUXERS: dict[BackgroundKind, tuple[str, ...]] = {
    "image": ("png_pipe", "jpeg_pipe", "webp_pipe"),
    "video": ("mov", "mp4", "matroska", "webm"),  # ffmpeg's names: mov reads mp4 and m4v, matroska reads webm too
}
BACKGROUND_CONTAINERS: dict[BackgroundKind, str] = {"image": "png, jpeg or webp", "video": "mp4/mov or webm/mkv"}
# An image is read with the demuxer its first bytes name (`image_demuxer`), forced: given a name ending in .jpg,
# ffmpeg's own probe would pick image2 (by the name) over jpeg_pipe (by the bytes).
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "png_pipe", b"\xff\xd8\xff": "jpeg_pipe"}
IMAGE_HEADER_BYTES = 12
# A decoded picture may have at most this many pixels (8192 x 8192): a small file that claims to be a huge image
# is refused by the decoder instead of being allocated.
MAX_PIXELS = 8192 * 8192
GOP_S = 2  # a keyframe every 2 s: players seek quickly, as the streaming platforms ask of uploads
AUDIO_ARGS = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]  # 48 kHz: what every platform and player takes
# Options of each encoder: for speed first (a job waits on it), at a quality where captions stay crisp.
ENCODER_ARGS: dict[Encoder, list[str]] = {
    "libx264": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high"],
    "h264_nvenc": ["-c:v", "h264_nvenc", "-preset", "p4", "-rc", "vbr", "-cq", "23", "-b:v", "0", "-profile:v", "high"],
}
# Characters with a meaning to ffmpeg's option parser (quote, escape, separators) or to the graph parser (links,
# filter and chain separators), and the whitespace either would trim. A backslash before any character keeps it.
_FILTER_SPECIALS = frozenset("\\':=[],; \t\r\n")


@dataclass(frozen=True)
class Background:
    """A background file and how ffmpeg reads it: `demuxer` forces one (images), None lets ffmpeg detect it."""

    kind: BackgroundKind
    path: Path
    demuxer: str | None = None

    def options(self) -> list[str]:
        """The options before its `-i`: the whitelists, and the forced demuxer, if any."""
        return [*input_options(BACKGROUND_DEMUXERS[self.kind]), *(["-f", self.demuxer] if self.demuxer else [])]


def filter_value(text: str) -> str:
    """`text` as a filter option's value inside a filtergraph string, taken literally by ffmpeg.

    ffmpeg unescapes a filtergraph twice: the graph parser splits filters and takes one level of backslashes and
    quotes, then the filter's option parser splits `key=value:key=value` and takes another. So each special
    character gets a backslash for the option parser, and the result (backslashes included) again for the graph.
    """
    return _escape(_escape(text))


def _escape(text: str) -> str:
    return "".join("\\" + character if character in _FILTER_SPECIALS else character for character in text)


def image_demuxer(header: bytes) -> str | None:
    """The pipe demuxer for an image whose file starts with `header` (at least `IMAGE_HEADER_BYTES`), or None."""
    if header[:4] == b"RIFF" and header[8:12] == b"WEBP":
        return "webp_pipe"
    return next((name for magic, name in IMAGE_SIGNATURES.items() if header.startswith(magic)), None)


def input_options(demuxers: Sequence[str]) -> list[str]:
    """Options before an `-i` that let ffmpeg read that input only as a local file in one of `demuxers`."""
    return ["-protocol_whitelist", "file", "-format_whitelist", ",".join(demuxers), "-max_pixels", str(MAX_PIXELS)]


AUDIO_INPUT = input_options(CLIP_DEMUXERS)


def filtergraph(
    resolution: tuple[int, int],
    fps: int,
    colour_hex: str,
    duration_s: float,
    subtitles: Path,
    background: BackgroundKind | None,
) -> str:
    """The picture: a colour for `duration_s`, the background (input 1) covering it, the subtitles burned in by
    libass, as yuv420p (what H.264 players expect). Its output is the link `[video]`."""
    width, height = resolution
    base = f"color=c=0x{colour_hex}:s={width}x{height}:r={fps}:d={duration_s:.6f},format=yuv420p"
    ass = f"ass=filename={filter_value(str(subtitles))},format=yuv420p"
    if background is None:
        return f"{base},{ass}[video]"
    # Cover: crop the background to the frame's aspect ratio around its centre, then scale it to the frame
    # (cropping first scales fewer pixels). Commas inside the expressions are escaped for the graph parser.
    cover = (
        f"crop=w=min(iw\\,ih*{width}/{height}):h=min(ih\\,iw*{height}/{width}),"
        f"scale={width}:{height},setsar=1,format=yuv420p"
    )
    # An image is one frame, held by the overlay to the colour's end (eof_action=repeat). A video is looped by its
    # input (-stream_loop -1) and so never ends: `shortest` ends it with the colour.
    overlay = "overlay=eof_action=repeat" if background == "image" else "overlay=shortest=1"
    return f"{base}[base];[1:v]{cover}[cover];[base][cover]{overlay},{ass}[video]"


def render_command(
    audio: Path,
    subtitles: Path,
    resolution: tuple[int, int],
    fps: int,
    colour_hex: str,
    duration_s: float,
    background: Background | None,
    encoder: Encoder,
    output: Path,
) -> list[str]:
    """ffmpeg reading the speech (input 0) and the background (input 1, if any) and writing the finished MP4."""
    inputs = ["-nostdin", "-v", "error", "-y", *AUDIO_INPUT, "-i", str(audio)]
    if background is not None:
        loop = ["-stream_loop", "-1"] if background.kind == "video" else []
        # -an -sn -dn: the background's own sound and subtitles are never decoded.
        inputs += [*background.options(), *loop, "-an", "-sn", "-dn", "-i", str(background.path)]
    kind = background.kind if background is not None else None
    graph = filtergraph(resolution, fps, colour_hex, duration_s, subtitles, kind)
    return [
        "ffmpeg", *inputs, "-filter_complex", graph, "-map", "[video]", "-map", "0:a:0",
        # No metadata or chapters from the inputs: a phone video's location stays out of the caller's result.
        "-map_metadata", "-1", "-map_chapters", "-1",
        *ENCODER_ARGS[encoder], "-pix_fmt", "yuv420p", "-g", str(GOP_S * fps), *AUDIO_ARGS,
        "-t", f"{duration_s:.6f}", "-movflags", "+faststart", "-f", "mp4", str(output),
    ]  # fmt: skip


def poster_command(video: Path, at_s: float, output: Path) -> list[str]:
    """ffmpeg writing the finished video's frame at `at_s` as a PNG (`-update 1`: the name is never a pattern)."""
    return [
        "ffmpeg", "-nostdin", "-v", "error", "-y", *input_options(["mov"]), "-ss", f"{at_s:.6f}", "-i", str(video),
        "-frames:v", "1", "-c:v", "png", "-f", "image2", "-update", "1", str(output),
    ]  # fmt: skip


def probe_command(background: Background) -> list[str]:
    """ffprobe reporting a background's first picture stream: its type and size."""
    return [
        "ffprobe", "-v", "error", *background.options(), "-select_streams", "v:0",
        "-show_entries", "stream=codec_type,width,height", "-of", "json", str(background.path),
    ]  # fmt: skip


def first_frame_command(background: Background, side_px: int) -> list[str]:
    """ffmpeg decoding a background's first picture, scaled to `side_px` square, as raw RGB on stdout."""
    return [
        "ffmpeg", "-nostdin", "-v", "error", *background.options(), "-an", "-sn", "-dn", "-i", str(background.path),
        "-map", "0:v:0", "-frames:v", "1",
        "-s", f"{side_px}x{side_px}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip


def nvenc_test_command() -> list[str]:
    """ffmpeg encoding one small frame with NVENC and its job options, to nowhere."""
    return [
        "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=256x256:r=30:d=0.04",
        "-frames:v", "1", *ENCODER_ARGS["h264_nvenc"], "-pix_fmt", "yuv420p", "-f", "null", "-",
    ]  # fmt: skip
