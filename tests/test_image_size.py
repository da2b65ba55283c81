"""The image-size estimate counts bytes as an image layer stores them."""

from __future__ import annotations

import os
from pathlib import Path

from bench.image_size import tree_bytes


def test_a_file_with_several_hard_linked_names_is_counted_once(tmp_path: Path):
    driver = tmp_path / "usr" / "lib" / "dri" / "radeonsi_dri.so"
    driver.parent.mkdir(parents=True)
    driver.write_bytes(b"x" * 10_000)
    for name in ("iris_dri.so", "swrast_dri.so", "kms_swrast_dri.so"):
        os.link(driver, driver.parent / name)
    other = tmp_path / "usr" / "bin" / "ffmpeg"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"y" * 300)
    assert driver.stat().st_nlink == 4

    assert tree_bytes(tmp_path) == 10_000 + 300


def test_symbolic_links_and_folders_add_nothing(tmp_path: Path):
    (tmp_path / "lib").mkdir()
    library = tmp_path / "lib" / "libavcodec.so.59.37.100"
    library.write_bytes(b"z" * 1_234)
    (tmp_path / "lib" / "libavcodec.so.59").symlink_to(library.name)
    (tmp_path / "empty").mkdir()

    assert tree_bytes(tmp_path) == 1_234


def test_an_empty_tree_has_no_bytes(tmp_path: Path):
    assert tree_bytes(tmp_path) == 0
