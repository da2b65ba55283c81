"""Render one frame of each subtitle preset to docs/presets/<preset>.png, so people can see what they get.

    uv run python scripts/render_presets.py

The frame is taken mid-sentence, so the karaoke highlight is visible part-way through the line. ffmpeg's libass
filter draws it, as it will in a user's burn-in.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from subtitles import PRESETS, SubtitleLayout, TimedWord, build_cues, render_ass  # noqa: E402

PRESET_WORDS = [
    TimedWord(text, 0.3 + index * 0.45, 0.65 + index * 0.45)
    for index, text in enumerate("Captions light up exactly when each word is spoken".split())
]
FRAME_AT_S = 2.0
RESOLUTIONS = {"classic": (1280, 720), "shorts": (540, 960), "minimal": (1280, 720)}
DOCS_FOLDER = ROOT / "docs" / "presets"


def render_preset_png(name: str, destination: Path) -> None:
    width, height = RESOLUTIONS[name]
    layout = SubtitleLayout(resolution=(width, height), style=PRESETS[name])
    render_frame_png(layout, PRESET_WORDS, FRAME_AT_S, destination)


def render_frame_png(layout: SubtitleLayout, words: list[TimedWord], frame_at_s: float, destination: Path) -> None:
    """Burn the words' subtitles onto a stand-in video with ffmpeg's libass filter; save the frame at `frame_at_s`."""
    width, height = layout.resolution
    with tempfile.TemporaryDirectory() as scratch:
        subtitles = Path(scratch) / "subtitles.ass"
        subtitles.write_text(render_ass(build_cues(words, layout), layout), encoding="utf-8-sig")
        # A grey-blue gradient stands in for video so outlines and boxes are visible.
        source = f"gradients=s={width}x{height}:c0=0x2b3a55:c1=0x6b7f99:d=5:r=25:seed=7"
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                source,
                "-vf",
                f"ass={subtitles}",
                "-ss",
                str(frame_at_s),
                "-frames:v",
                "1",
                str(destination),
            ],  # fmt: skip
            check=True,
        )


def render_presets(folder: Path) -> list[Path]:
    """Render every preset to `folder`/<preset>.png, as the docs show them; return the pictures' paths."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures = []
    for name in PRESETS:
        picture = folder / f"{name}.png"
        render_preset_png(name, picture)
        pictures.append(picture)
    return pictures


def main() -> int:
    for picture in render_presets(DOCS_FOLDER):
        print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
