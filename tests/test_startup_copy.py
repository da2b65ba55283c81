"""The local start-up copy: recorded at build time, published in the environment, unpacked once per machine;
what start-up touched is a local file, everything else a link to the volume, and a broken archive only means
running from the volume."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bootstrap.environment import environment_key
from bootstrap.startup_copy import COPY_MAX_BYTES, PACK_NAME, UNPACKED_MARKER, local_environment
from tests.bootstrap_fixture import bootstrap_command, bootstrap_env, make_project

pytestmark = pytest.mark.slow

# The smoke import also reads a file larger than COPY_MAX_BYTES: recorded, but linked rather than copied.
# It looks for files the way packages scan their plugins (os.listdir, os.path.isdir/isfile: no open), which
# through a link would each be a round trip to the volume, and lists a folder without looking at its entries.
SMOKE = (
    "import os, tinydep, pathlib; folder = pathlib.Path(tinydep.__file__).parent\n"
    "(folder / 'libs' / 'ballast.bin').open('rb').read(1)\n"
    "assert [os.path.isdir(folder / 'plugins' / name) for name in sorted(os.listdir(folder / 'plugins'))] == [False, True]\n"
    "assert os.listdir(folder / 'listed') == ['entry.txt']"
)


def start(env: dict[str, str]) -> tuple[dict, str]:
    completed = subprocess.run(bootstrap_command(), env=env, capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("HANDLER "))
    return json.loads(line.removeprefix("HANDLER ")), completed.stderr


@pytest.fixture
def worker(tmp_path: Path):  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "project", ballast_bytes=COPY_MAX_BYTES + 1)
    env = bootstrap_env(
        project, tmp_path / "volume", WORKER_LOCAL_COPY_DIR=str(tmp_path / "local"), WORKER_SMOKE_IMPORTS=SMOKE
    )
    env_dir = tmp_path / "volume" / "f5tts-worker" / "envs" / environment_key((project / "uv.lock").read_bytes())
    return env, env_dir, tmp_path / "local"


def test_start_up_runs_from_a_local_copy_that_links_to_the_volume_for_the_rest(worker):
    env, env_dir, local_root = worker
    report, log = start(env)
    assert (env_dir / PACK_NAME).is_file()  # published with the environment
    assert "start-up pack:" in log and "local copy:" in log
    (local,) = local_root.iterdir()
    assert Path(report["prefix"]) == local  # the interpreter runs from the copy
    touched = Path(report["tinydep_file"])
    assert touched.is_relative_to(local) and touched.is_file() and not touched.is_symlink()
    later = Path(report["later_file"])  # never imported while recording: a link, and it imports through it
    assert later.is_symlink() and Path(os.path.realpath(later)).is_relative_to(env_dir)
    package = touched.parent
    libs = package / "libs"  # holds nothing copied, but names next to a used library are looked up locally
    assert libs.is_dir() and not libs.is_symlink()
    assert (libs / "ballast.bin").is_symlink()  # recorded, but too large to copy
    data = package / "data"
    assert data.is_symlink() and (data / "notes.txt").read_text().startswith("read by nobody")  # one link per folder
    plugins = package / "plugins"  # listed and its entries' types looked up
    assert plugins.is_dir() and not plugins.is_symlink()
    assert (plugins / "found.txt").is_file() and not (plugins / "found.txt").is_symlink()
    assert (plugins / "unseen").is_dir() and not (plugins / "unseen").is_symlink()
    assert (plugins / "unseen" / "other.txt").is_symlink()  # never looked at itself
    listed = package / "listed"  # listed only
    assert listed.is_dir() and not listed.is_symlink() and (listed / "entry.txt").is_symlink()


def test_the_copy_is_made_once_and_reused(worker):
    env, _, local_root = worker
    first, _ = start(env)
    marker = Path(first["prefix"]) / UNPACKED_MARKER
    stamp = marker.stat().st_mtime_ns
    second, _ = start(env)
    assert second["prefix"] == first["prefix"] and marker.stat().st_mtime_ns == stamp
    assert len(list(local_root.iterdir())) == 1


def test_a_damaged_archive_means_running_from_the_volume(worker):
    env, env_dir, local_root = worker
    start(env)  # build and publish
    for copy in local_root.iterdir():
        subprocess.run(["rm", "-rf", str(copy)], check=True)
    pack = env_dir / PACK_NAME
    pack.write_bytes(pack.read_bytes()[: pack.stat().st_size // 3])  # cut mid-file, as a failed disk would
    report, log = start(env)
    assert Path(report["prefix"]) == env_dir and report["tinydep"] == "0.1.0"
    assert "running it from the volume" in log and "unexpected end of file" in log.lower()  # what tar said
    assert not [path for path in local_root.iterdir() if not path.name.startswith(".")]
    assert not list(local_root.glob(".tmp-*"))  # the half-unpacked folder is gone


def test_a_local_copy_is_not_shared_between_volumes(tmp_path):
    """Same lock, two volumes: the copies link to different places, so each volume gets its own."""
    project = make_project(tmp_path / "project")
    local_root = tmp_path / "local"
    reports = [
        start(bootstrap_env(project, tmp_path / name, WORKER_LOCAL_COPY_DIR=str(local_root)))[0]
        for name in ("volume-a", "volume-b")
    ]
    assert reports[0]["prefix"] != reports[1]["prefix"]
    for report, name in zip(reports, ("volume-a", "volume-b"), strict=True):
        assert Path(os.path.realpath(report["later_file"])).is_relative_to(tmp_path / name)


def test_a_volume_mounted_elsewhere_than_where_it_was_built_still_gets_a_working_copy(tmp_path):
    """Built on a pod at one path, served at another: the copy's links follow the environment this worker sees."""
    project = make_project(tmp_path / "project")
    start(bootstrap_env(project, tmp_path / "built-here", WORKER_LOCAL_COPY_DIR=str(tmp_path / "local-a")))
    (tmp_path / "built-here").rename(tmp_path / "mounted-here")
    report, log = start(
        bootstrap_env(project, tmp_path / "mounted-here", WORKER_LOCAL_COPY_DIR=str(tmp_path / "local-b"))
    )
    assert "building environment" not in log  # the same published environment, at its new path
    assert Path(report["prefix"]).is_relative_to(tmp_path / "local-b")
    assert Path(os.path.realpath(report["later_file"])).is_relative_to(tmp_path / "mounted-here")


def test_without_a_tar_program_the_archive_is_unpacked_by_python(worker, monkeypatch):
    env, env_dir, local_root = worker
    start(env)  # build and publish
    monkeypatch.setenv("PATH", "/nonexistent")  # no tar, no gzip
    local = local_environment(env_dir, local_root / "by-python")
    assert local is not None and (local / UNPACKED_MARKER).exists()
    later = next(local.glob("lib/python3*/site-packages/tinydep/later.py"))
    assert later.is_symlink() and later.read_text() == "LATER = True\n"
    assert (later.parent / "__init__.py").is_file() and not (later.parent / "__init__.py").is_symlink()
