"""Render one frame of each subtitle mode to docs/modes/<name>.png, so people can see what each one draws.

    uv run python scripts/render_modes.py

The frame is taken in the middle of the word "exactly", as libass draws it in a user's burn-in: karaoke has lit
the words before it and is filling it, highlight lights it alone (and, in the shorts picture, has grown it to its
largest), word mode shows it alone, line mode shows the plain line.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.render_presets import PRESET_WORDS, render_frame_png  # noqa: E402
from subtitles import PRESETS, SubtitleLayout  # noqa: E402

FRAME_AT_S = 1.84  # a frame of the 25 fps stand-in video, mid-way through "exactly" (spoken 1.65-2.00 s)
LANDSCAPE, PORTRAIT = (1280, 720), (540, 960)
MODES: dict[str, SubtitleLayout] = {
    "karaoke": SubtitleLayout(mode="karaoke", resolution=LANDSCAPE),
    "highlight": SubtitleLayout(mode="highlight", resolution=LANDSCAPE),
    "highlight-pop-uppercase": SubtitleLayout(
        mode="highlight", highlight_scale=1.25, uppercase=True, resolution=PORTRAIT, style=PRESETS["shorts"]
    ),
    "word": SubtitleLayout(mode="word", resolution=LANDSCAPE),
    "line": SubtitleLayout(mode="line", resolution=LANDSCAPE),
}
DOCS_FOLDER = ROOT / "docs" / "modes"


def render_modes(folder: Path) -> list[Path]:
    """Render every entry of MODES to `folder`/<name>.png, as the docs show them; return the pictures' paths."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures = []
    for name, layout in MODES.items():
        picture = folder / f"{name}.png"
        render_frame_png(layout, PRESET_WORDS, FRAME_AT_S, picture)
        pictures.append(picture)
    return pictures


def main() -> int:
    for picture in render_modes(DOCS_FOLDER):
        print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
