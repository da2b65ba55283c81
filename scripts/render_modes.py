"""Render one frame of each subtitle mode to docs/modes/<name>.png, so people can see what each one draws.

    uv run python scripts/render_modes.py

The frame is taken in the middle of the word "exactly", as libass draws it in a user's burn-in: karaoke has lit
the words before it and is filling it, highlight lights it alone (and, in the shorts picture, has grown it to its
largest), word mode shows it alone, line mode shows the plain line.

dialogue.png shows a script's two speakers in karaoke with `name_prefix`: two frames stacked, one during each
speaker's line, each speaker's name and spoken words in their own colour.

karaoke-zh.png shows Chinese with a Latin word in karaoke: one unit a character, so the highlight moves character by
character, with no space between characters and a space on each side of "Python" as written. The classic preset's
font (DejaVu Sans) has no Han characters: libass draws them from the CJK font fontconfig falls back to
(WenQuanYi Micro Hei, in CI).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.text import has_unspaced, units  # noqa: E402
from scripts.render_presets import PRESET_WORDS, render_frame_png  # noqa: E402
from subtitles import PRESETS, SubtitleLayout, TimedWord, speaker_looks  # noqa: E402

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

# A two-line script: the host, then the guest right after (no pause: the change of speaker alone ends the cue).
DIALOGUE_LINES = (("host", "Welcome back to the show."), ("guest", "Thanks, it is great to be here."))
SPOKEN = [(speaker, text) for speaker, line in DIALOGUE_LINES for text in line.split()]
DIALOGUE_WORDS = [
    TimedWord(text, 0.3 + index * 0.4, 0.65 + index * 0.4, speaker) for index, (speaker, text) in enumerate(SPOKEN)
]
DIALOGUE_FRAMES_AT_S = (1.28, 3.68)  # frames of the 25 fps video mid-way through "to" (host) and "great" (guest)
DIALOGUE = SubtitleLayout(
    mode="karaoke",
    resolution=LANDSCAPE,
    speakers=speaker_looks(PRESETS["classic"], ["host", "guest"], labels={"host": "Host", "guest": "Guest"}),
    name_prefix=True,
)
DIALOGUE_NAME = "dialogue"

CHINESE_TEXT = "我们用 Python 写代码，每个字都会随着声音亮起来。"
CHINESE_NAME = "karaoke-zh"
CHINESE = SubtitleLayout(mode="karaoke", resolution=LANDSCAPE, language="zh")


def chinese_words() -> list[TimedWord]:
    """CHINESE_TEXT a unit at a time, as the worker times it: a character in 0.22 s, "Python" in 0.45 s, 0.03 s
    between units and a 0.2 s pause after the comma."""
    words, cursor_s = [], 0.3
    for text, glued in units(CHINESE_TEXT):
        end_s = cursor_s + (0.22 if has_unspaced(text) else 0.45)
        words.append(TimedWord(text, round(cursor_s, 3), round(end_s, 3), glued=glued))
        cursor_s = end_s + (0.23 if text.endswith("，") else 0.03)
    return words


CHINESE_FRAME_AT_S = 4.32  # a frame mid-way through 声 (spoken 4.23-4.45 s): the first line lit, the second half-way


def render_modes(folder: Path) -> list[Path]:
    """Render every entry of MODES, and the dialogue, to `folder`/<name>.png, as the docs show them; return the
    pictures' paths."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures = []
    for name, layout in MODES.items():
        picture = folder / f"{name}.png"
        render_frame_png(layout, PRESET_WORDS, FRAME_AT_S, picture)
        pictures.append(picture)
    dialogue = folder / f"{DIALOGUE_NAME}.png"
    render_stacked_png(DIALOGUE, DIALOGUE_WORDS, DIALOGUE_FRAMES_AT_S, dialogue)
    pictures.append(dialogue)
    chinese = folder / f"{CHINESE_NAME}.png"
    render_frame_png(CHINESE, chinese_words(), CHINESE_FRAME_AT_S, chinese)
    pictures.append(chinese)
    return pictures


def picture_size(name: str) -> tuple[int, int]:
    """The size of the picture `name`.png: its layout's resolution (the dialogue's frames stacked)."""
    if name == DIALOGUE_NAME:
        width, height = DIALOGUE.resolution
        return width, height * len(DIALOGUE_FRAMES_AT_S)
    if name == CHINESE_NAME:
        return CHINESE.resolution
    return MODES[name].resolution


def render_stacked_png(
    layout: SubtitleLayout, words: list[TimedWord], frames_at_s: tuple[float, ...], destination: Path
) -> None:
    """The frames at `frames_at_s` (see render_frame_png), one above the other in one picture."""
    with tempfile.TemporaryDirectory() as scratch:
        frames = [Path(scratch) / f"frame{index}.png" for index in range(len(frames_at_s))]
        for frame, at_s in zip(frames, frames_at_s, strict=True):
            render_frame_png(layout, words, at_s, frame)
        inputs = [argument for frame in frames for argument in ("-i", str(frame))]
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                *inputs,
                "-filter_complex",
                f"vstack=inputs={len(frames)}",
                str(destination),
            ],
            check=True,
        )


def main() -> int:
    for picture in render_modes(DOCS_FOLDER):
        print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
