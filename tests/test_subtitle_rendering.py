"""What libass draws: ffmpeg burns our ASS onto a plain video and the frames are read back as pixels.

The highlight colour appears where a word is once it is spoken and not before (karaoke), or only on the word being
spoken (highlight mode, with its optional pop); between events nothing is drawn; uppercase draws capitals; user
text that looks like override tags is drawn as text, not obeyed. The pictures in the docs are current.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from subtitles import SubtitleLayout, TimedWord, build_cues, render_ass

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 640, 360
GOLD = np.array([255, 215, 0])
WORDS = [
    TimedWord("ALPHA", 0.50, 1.00),
    TimedWord("BETA", 1.50, 2.00),  # a pause before it, inside the same line
    TimedWord("Later.", 3.50, 4.00),  # a new cue after a long pause
]


def render_frames(ass_text: str, times_s: list[float], tmp_path: Path) -> list[np.ndarray]:
    """Burn the subtitles onto black video with ffmpeg's libass filter; return RGB frames at the given times."""
    subtitles = tmp_path / "subs.ass"
    subtitles.write_text(ass_text, encoding="utf-8-sig")
    frames = []
    for time_s in times_s:
        completed = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"color=c=black:s={WIDTH}x{HEIGHT}:d=5:r=100",
                "-vf",
                f"ass={subtitles}",
                "-ss",
                f"{time_s:.2f}",
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "-",
            ],  # fmt: skip
            capture_output=True,
            check=True,
            cwd=tmp_path,
        )
        frames.append(np.frombuffer(completed.stdout, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3))
    return frames


def highlight_mask(frame: np.ndarray) -> np.ndarray:
    return np.all(np.abs(frame.astype(int) - GOLD) < 40, axis=-1)


def white_mask(frame: np.ndarray) -> np.ndarray:
    return np.all(frame > 200, axis=-1) & ~highlight_mask(frame)


def columns(mask: np.ndarray) -> np.ndarray:
    return np.nonzero(mask.any(axis=0))[0]


def karaoke_file(words: list[TimedWord], **layout_options: object) -> str:
    layout = SubtitleLayout(resolution=(WIDTH, HEIGHT), **layout_options)  # type: ignore[arg-type]
    return render_ass(build_cues(words, layout, audio_duration_s=5.0), layout, audio_duration_s=5.0)


def test_a_word_lights_up_when_it_is_spoken_and_not_before(tmp_path):
    before_event, during_alpha, in_pause, during_beta, between_events, later = render_frames(
        karaoke_file(WORDS, karaoke_tag="k"), [0.3, 0.75, 1.25, 1.75, 2.8, 3.75], tmp_path
    )
    assert not before_event.any(), "nothing is drawn before the event starts"
    assert not between_events.any(), "nothing is drawn between events"

    # While ALPHA is spoken it is gold and BETA, to its right, is still white.
    assert highlight_mask(during_alpha).sum() > 50
    assert columns(highlight_mask(during_alpha)).max() < columns(white_mask(during_alpha)).min()
    # In the pause the highlight waits: exactly as at ALPHA, BETA still white.
    assert np.array_equal(highlight_mask(in_pause), highlight_mask(during_alpha))
    # Once BETA is spoken the highlight reaches it, further right than ALPHA ever was.
    assert columns(highlight_mask(during_beta)).max() > columns(highlight_mask(in_pause)).max()
    assert white_mask(during_beta).sum() < 10
    assert highlight_mask(later).sum() > 50


def test_user_text_shaped_like_tags_is_drawn_as_text(tmp_path):
    plain = karaoke_file([TimedWord("brace", 0.5, 2.0)], mode="line")
    hostile = karaoke_file([TimedWord("{\\fs150\\c&H0000FF&}brace", 0.5, 2.0)], mode="line")
    plain_frame, hostile_frame = render_frames(plain, [1.0], tmp_path) + render_frames(hostile, [1.0], tmp_path)
    red = np.all((hostile_frame[..., 0] > 180, hostile_frame[..., 1] < 80, hostile_frame[..., 2] < 80), axis=0)
    assert not red.any(), "the colour tag was obeyed"
    rows = np.nonzero(hostile_frame.any(axis=(1, 2)))[0]
    plain_rows = np.nonzero(plain_frame.any(axis=(1, 2)))[0]
    assert rows.max() - rows.min() <= (plain_rows.max() - plain_rows.min()) * 1.5, "the size tag was obeyed"
    assert len(columns(white_mask(hostile_frame))) > len(columns(white_mask(plain_frame)))  # the tag text shows


def drawn_rows(frame: np.ndarray) -> np.ndarray:
    return np.nonzero(frame.any(axis=(1, 2)))[0]


def test_in_highlight_mode_only_the_word_being_spoken_takes_the_highlight_colour(tmp_path):
    before_event, during_alpha, in_pause, during_beta = render_frames(
        karaoke_file(WORDS, mode="highlight"), [0.3, 0.75, 1.25, 1.75], tmp_path
    )
    assert not before_event.any(), "nothing is drawn before the cue starts"
    # While ALPHA is spoken it alone is gold; BETA, to its right, has not started and is white.
    alpha_columns = columns(highlight_mask(during_alpha))
    assert len(alpha_columns) > 20
    assert alpha_columns.max() < columns(white_mask(during_alpha)).min()
    # In the pause the highlight stays on ALPHA: BETA is still white.
    assert np.array_equal(highlight_mask(in_pause), highlight_mask(during_alpha))
    # While BETA is spoken it alone is gold, and ALPHA is back to white where it was gold.
    assert columns(highlight_mask(during_beta)).min() > alpha_columns.max()
    assert not highlight_mask(during_beta)[:, alpha_columns].any()
    assert white_mask(during_beta)[:, alpha_columns].sum() > 50


def test_the_highlight_pop_grows_the_spoken_word_and_it_is_back_to_size_after_it(tmp_path):
    times_s = [1.25, 1.75]  # in the pause before BETA, and the middle of BETA
    popped_pause, popped_beta = render_frames(
        karaoke_file(WORDS, mode="highlight", highlight_scale=1.5), times_s, tmp_path
    )
    plain_pause, plain_beta = render_frames(karaoke_file(WORDS, mode="highlight"), times_s, tmp_path)
    # Before BETA starts (and after ALPHA's own pop ended) the picture is the plain one.
    assert np.array_equal(popped_pause, plain_pause)
    # In the middle of BETA, the text is taller and BETA itself half as large again as it is unscaled.
    assert len(drawn_rows(popped_beta)) > len(drawn_rows(popped_pause)) + 5
    popped_height = len(np.nonzero(highlight_mask(popped_beta).any(axis=1))[0])
    plain_height = len(np.nonzero(highlight_mask(plain_beta).any(axis=1))[0])
    assert popped_height > plain_height * 1.3
    assert len(columns(highlight_mask(popped_beta))) > len(columns(highlight_mask(plain_beta))) * 1.3


def test_uppercase_renders_exactly_the_capitalised_text(tmp_path):
    words = [TimedWord("Alpha", 0.5, 1.0), TimedWord("beta", 1.1, 1.6)]
    capitals = [TimedWord(word.text.upper(), word.start_s, word.end_s) for word in words]
    for mode in ("highlight", "karaoke"):
        uppercased, capitalised, as_written = (
            render_frames(karaoke_file(given, mode=mode, uppercase=upper), [0.75], tmp_path)[0]
            for given, upper in ((words, True), (capitals, False), (words, False))
        )
        assert np.array_equal(uppercased, capitalised)
        assert not np.array_equal(uppercased, as_written)


def test_word_mode_draws_one_word_at_a_time_and_line_mode_the_whole_line_with_no_highlight(tmp_path):
    word_alpha, word_beta = render_frames(karaoke_file(WORDS, mode="word"), [0.75, 1.75], tmp_path)
    (line_alpha,) = render_frames(karaoke_file(WORDS, mode="line"), [0.75], tmp_path)
    for frame in (word_alpha, word_beta, line_alpha):
        assert white_mask(frame).sum() > 50
        assert highlight_mask(frame).sum() < 5, "the highlight colour belongs to karaoke and highlight modes"
    # Each word is drawn alone, centred; the line holds both words.
    assert not np.array_equal(word_alpha, word_beta)
    alpha_width, beta_width = len(columns(white_mask(word_alpha))), len(columns(white_mask(word_beta)))
    assert len(columns(white_mask(line_alpha))) > alpha_width + beta_width


@pytest.mark.parametrize("text", ["emoji 🎉 ok", "مرحبا بالعالم", "你好，世界", "cafe\u0301 na\u0308ive"])
def test_unicode_text_renders(text, tmp_path):
    words = [TimedWord(word, 0.5 + n * 0.3, 0.7 + n * 0.3) for n, word in enumerate(text.split())]
    (frame,) = render_frames(karaoke_file(words), [words[-1].end_s - 0.05], tmp_path)
    assert highlight_mask(frame).sum() > 30


# How far a fresh render of a preset may drift from its committed picture: the mean absolute difference over all
# pixels and channels, in levels of 0-255. Measured: the pictures rendered by ffmpeg 9.0 (libass 0.17.5, HarfBuzz
# 14.5) and by Debian's ffmpeg 5.1 (libass 0.17.1, HarfBuzz 6.0) differ by at most 0.00001 (no pixel by more than
# one level), while the smallest visible change tried, a shadow 2 px longer in the shorts preset, moves it by 0.11;
# a new highlight colour by 0.16 to 0.37, the text one frame (40 ms) later by 0.11 to 0.22.
PICTURE_TOLERANCE = 0.05
REGENERATE = "run `uv run python scripts/render_presets.py` and commit docs/presets/"


def rgb_pixels(picture: Path, size: tuple[int, int], regenerate: str = REGENERATE) -> np.ndarray:
    """The picture decoded by ffmpeg, as height x width x RGB levels."""
    width, height = size
    completed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(picture), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    )
    levels = len(completed.stdout)  # not the bytes themselves: a failure would print them all
    assert levels == width * height * 3, f"{picture} is not {width}x{height}: {regenerate}"
    return np.frombuffer(completed.stdout, dtype=np.uint8).reshape(height, width, 3).astype(np.int16)


def check_pictures_are_current(
    fresh: list[Path], docs: Path, size_of: Callable[[str], tuple[int, int]], what: str, regenerate: str
) -> None:
    """`docs` holds exactly the pictures just rendered into `fresh`, each within PICTURE_TOLERANCE of its render."""
    committed_names = sorted(picture.name for picture in docs.glob("*.png"))
    assert committed_names == sorted(picture.name for picture in fresh), (
        f"{docs.relative_to(docs.parent.parent)}/ should hold one picture per {what}, no other: {regenerate}"
    )
    for picture in fresh:
        size = size_of(picture.stem)
        committed = docs / picture.name
        difference = float(
            np.abs(rgb_pixels(picture, size, regenerate) - rgb_pixels(committed, size, regenerate)).mean()
        )
        assert difference <= PICTURE_TOLERANCE, (
            f"{committed} is not what the {picture.stem} {what} renders now (mean difference {difference:.3f} "
            f"levels, {PICTURE_TOLERANCE} allowed): {regenerate}"
        )


def test_each_presets_picture_in_the_docs_matches_a_fresh_render_of_it(tmp_path):
    """docs/presets/*.png show each preset as scripts/render_presets.py draws it now, and nothing else."""
    from scripts.render_presets import DOCS_FOLDER, RESOLUTIONS, render_presets

    fresh = render_presets(tmp_path)
    check_pictures_are_current(fresh, DOCS_FOLDER, RESOLUTIONS.__getitem__, "preset", REGENERATE)


REGENERATE_MODES = "run `uv run python scripts/render_modes.py` and commit docs/modes/"


def test_each_modes_picture_in_the_docs_matches_a_fresh_render_of_it(tmp_path):
    """docs/modes/*.png show each mode (and the dialogue) as scripts/render_modes.py draws it now, nothing else."""
    from scripts.render_modes import DOCS_FOLDER, picture_size, render_modes

    fresh = render_modes(tmp_path)
    check_pictures_are_current(fresh, DOCS_FOLDER, picture_size, "mode", REGENERATE_MODES)
