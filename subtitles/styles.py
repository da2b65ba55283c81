"""ASS styles: presets, overrides, and the colour and size arithmetic behind them.

Sizes and margins are fractions of the video height (or width) so a preset looks the same at 1080p and in a
vertical 1080x1920 short. Colours are given as `#RRGGBB` or `#RRGGBBAA` (AA = opacity, FF opaque) and written in
ASS's `&HAABBGGRR` (AA = transparency). `primary` is the highlight: in karaoke the colour a word turns when it
is spoken and keeps, in highlight mode the colour of the word being spoken. `secondary` is every other word's
colour (and all text in word and line modes).

Scripts (several speakers): `speaker_looks` gives each speaker a look of its own, the base style with another
highlight colour from the style's `palette` (the first speaker keeps the style's own `primary`), then that speaker's
overrides. The ASS file gets one style per speaker; word and line modes have no highlight, so there speakers
differ by their overrides and by the name prefix (drawn in the speaker's colour).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import ass
from ass.data import Color

COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$")
SPEAKER_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # also an ASS style name: no comma, no space
# Highlight colours for a script's second, third, ... speaker, in that order. Each is bright enough to read against
# a black outline (WCAG contrast at least 6.9:1), far from the presets' gold, yellow and white highlights and
# their white and grey unlit text, and far from each other (CIE76 distance at least 24); no gold or yellow, which
# the presets' first speaker has.
SPEAKER_PALETTE = (
    "#00E5FF",  # cyan
    "#FF6EC7",  # pink
    "#7CFC00",  # green
    "#B388FF",  # lavender
    "#FF9F1C",  # orange
    "#3DDC97",  # mint
    "#FF5A5F",  # coral red
    "#4DA6FF",  # sky blue
    "#F0A8FF",  # orchid
    "#FF8FA3",  # salmon
)


@dataclass(frozen=True)
class Style:
    font: str = "DejaVu Sans"
    size: float = 0.06  # fraction of the video height, or pixels when > 1
    primary: str = "#FFD700"  # the highlight: spoken (karaoke), being spoken (highlight mode)
    secondary: str = "#FFFFFF"  # every other word, and all text in word and line modes
    outline_colour: str = "#000000"
    back_colour: str = "#00000080"  # shadow or box
    bold: bool = True
    outline: float = 0.004  # fraction of the height, or pixels when > 1
    shadow: float = 0.0
    box: bool = False  # an opaque box behind the text instead of an outline
    alignment: int = 2  # numpad layout: 1-3 bottom, 4-6 middle, 7-9 top
    margin_h: float = 0.05  # fraction of the width, or pixels when > 1
    margin_v: float = 0.06  # fraction of the height, or pixels when > 1
    palette: tuple[str, ...] = SPEAKER_PALETTE  # scripts: the highlight of each speaker after the first

    def with_overrides(self, overrides: Mapping[str, Any]) -> Style:
        known = {field.name for field in fields(self)}
        return replace(
            self, **{name: value for name, value in overrides.items() if name in known and value is not None}
        )


PRESETS: dict[str, Style] = {
    # Bottom-centre lines, gold highlight over white, thin black outline.
    "classic": Style(),
    # Big, centred, short lines for vertical short videos: yellow highlight, heavy outline.
    "shorts": Style(size=0.085, primary="#FFE600", outline=0.009, shadow=0.003, alignment=5, margin_v=0.1),
    # Small and quiet: regular weight, a faint translucent outline and shadow, grey before the highlight.
    "minimal": Style(
        size=0.045,
        bold=False,
        primary="#FFFFFF",
        secondary="#B4B4B4",
        outline=0.002,
        shadow=0.002,
        outline_colour="#00000099",
        back_colour="#00000066",
        margin_v=0.05,
    ),
}


@dataclass(frozen=True)
class SpeakerLook:
    """How one speaker's captions look: `name` is the speaker's key (`TimedWord.speaker`), `label` what is shown
    as their name (the name prefix, WebVTT's voice tag, SRT, the ASS event's Name)."""

    name: str
    label: str
    style: Style


def speaker_looks(
    style: Style,
    speakers: Sequence[str],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[SpeakerLook, ...]:
    """A look for each speaker, in the given order: `style` with the highlight (`primary`) of the speaker's place,
    then the speaker's own `overrides` (the keys `Style.with_overrides` takes). The first speaker keeps `style`'s
    own `primary` (so a one-speaker script looks like any job, and a job's own highlight colour applies); the
    others take `style.palette` in turn, leaving out a colour equal to that `primary`. A label defaults to the key.
    Overrides and labels of speakers not in `speakers` are ignored."""
    if len(set(speakers)) != len(speakers):
        raise ValueError(f"speakers are named more than once: {list(speakers)}")
    bad = [name for name in speakers if not SPEAKER_KEY.match(name)]
    if bad:
        raise ValueError(f"speaker keys are 1-32 letters, digits, - or _: {bad}")
    others = [colour for colour in style.palette if colour[:7].upper() != style.primary[:7].upper()]
    looks = []
    for index, name in enumerate(speakers):
        primary = others[(index - 1) % len(others)] if index and others else style.primary
        own = replace(style, primary=primary).with_overrides((overrides or {}).get(name, {}))
        looks.append(SpeakerLook(name=name, label=(labels or {}).get(name) or name, style=own))
    return tuple(looks)


# Average advance of a glyph relative to the font size, bold sans-serif; used to keep lines inside the frame.
GLYPH_WIDTH_RATIO = 0.62
CAPITAL_WIDTH_RATIO = 0.72  # the same for capitals (DejaVu Sans Bold measures about 0.70)
MIN_COLUMNS = 8  # a line always holds this many, however large the font


def columns_that_fit(style: Style, resolution: tuple[int, int]) -> int:
    """How many display columns fit between the side margins at this style's font size."""
    width, height = resolution
    usable_px = width - 2 * scaled(style.margin_h, width)
    return max(MIN_COLUMNS, int(usable_px / (max(8, scaled(style.size, height)) * GLYPH_WIDTH_RATIO)))


def ass_color(colour: str) -> Color:
    """`#RRGGBB[AA]` (AA = opacity) as the `ass` library's colour, whose alpha is a transparency."""
    if not COLOUR.match(colour):
        raise ValueError(f"{colour!r} is not a colour like #FFD700 or #00000080")
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    opacity = int(colour[7:9], 16) if len(colour) == 9 else 255
    return Color(red, green, blue, 255 - opacity)


def ass_colour(colour: str) -> str:
    """`#RRGGBB[AA]` (AA = opacity) → `&HAABBGGRR` (AA = transparency)."""
    return ass_color(colour).to_ass()


def scaled(value: float, reference_px: int) -> int:
    """A fraction of `reference_px`, or a pixel count when the value is above 1."""
    return max(0, round(value if value > 1 else value * reference_px))


def ass_style(style: Style, resolution: tuple[int, int], karaoke: bool, name: str = "Default") -> ass.Style:
    """The style as the document's style `name` ("Default", or a speaker's). Outside karaoke every word is drawn
    in `secondary` (highlight mode colours the spoken word in the event text)."""
    width, height = resolution
    primary = style.primary if karaoke else style.secondary
    font_size = max(8, scaled(style.size, height))
    margin_h = scaled(style.margin_h, width)
    outline = scaled(style.outline, height) if style.outline else 0
    if style.box:  # BorderStyle 3: the outline colour fills a box; give it the back colour and some padding
        border_style, outline_colour, outline = 3, style.back_colour, max(outline, round(font_size * 0.15))
    else:
        border_style, outline_colour = 1, style.outline_colour
    return ass.Style(
        name=name,
        fontname=style.font.replace(",", " "),
        fontsize=font_size,
        primary_color=ass_color(primary),
        secondary_color=ass_color(style.secondary),
        outline_color=ass_color(outline_colour),
        back_color=ass_color(style.back_colour),
        bold=style.bold,
        scale_x=100,
        scale_y=100,
        spacing=0,
        angle=0,
        border_style=border_style,
        outline=outline,
        shadow=scaled(style.shadow, height) if style.shadow else 0,
        alignment=style.alignment,
        margin_l=margin_h,
        margin_r=margin_h,
        margin_v=scaled(style.margin_v, height),
        encoding=1,
    )
