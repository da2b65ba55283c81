"""Without a network volume (the RunPod Hub's tests, deploys without one) the environment is stored once on the
container's disk: uv hard-links the packages out of its cache, the cache is pruned after the build, and the worker
runs from the environment itself, with no start-up pack and no local copy. Real builds of a small locked project."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from bootstrap.environment import PAUSE_VARIABLE
from bootstrap.startup_copy import PACK_NAME
from tests.bootstrap_fixture import bootstrap_command, bootstrap_env, make_project
from tests.test_bootstrap import handler_report, run

pytestmark = pytest.mark.slow

BALLAST_BYTES = 8_000_000  # a package file large enough that a second copy of it shows


class Disk:
    def __init__(self, env: dict[str, str], app_dir: Path, copies: Path) -> None:
        self.env, self.app_dir, self.copies = env, app_dir, copies

    @property
    def uv_cache(self) -> Path:
        return self.app_dir / "cache" / "uv"

    def stored_bytes(self) -> int:
        """Disk used under the app folder, each file counted once however many names it has (as `du` does)."""
        inodes = {}
        for path in self.app_dir.rglob("*"):
            status = path.lstat()
            inodes[(status.st_dev, status.st_ino)] = status.st_blocks * 512
        return sum(inodes.values())


def without_a_volume(tmp_path: Path) -> Disk:
    project = make_project(tmp_path / "project", ballast_bytes=BALLAST_BYTES)
    container_disk = tmp_path / "container-disk"
    env = bootstrap_env(
        project,
        tmp_path / "runpod-volume",
        WORKER_LOCAL_VOLUME=str(container_disk),
        WORKER_LOCAL_COPY_DIR=str(tmp_path / "local-copies"),  # where a start-up copy would go (the default is on)
    )
    (tmp_path / "runpod-volume").rmdir()  # not mounted
    return Disk(env, container_disk / "f5tts-worker", tmp_path / "local-copies")


def test_while_building_without_a_volume_the_packages_are_hard_links_into_uvs_cache(tmp_path):
    disk = without_a_volume(tmp_path)
    paused = subprocess.Popen(
        bootstrap_command(),
        env={**disk.env, PAUSE_VARIABLE: "smoke"},  # installed; not yet published, nor the cache pruned
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert paused.stderr is not None
        for line in paused.stderr:
            if "paused at smoke" in line:
                break
        else:
            pytest.fail("the build ended without reaching the smoke import")
        (installed,) = disk.app_dir.glob("envs/.tmp-*/lib/python3*/site-packages/tinydep/libs/ballast.bin")
        (cached,) = disk.uv_cache.rglob("ballast.bin")
        assert installed.stat().st_ino == cached.stat().st_ino
        assert installed.stat().st_nlink == 2
    finally:
        os.killpg(paused.pid, signal.SIGKILL)
        paused.communicate()


def test_a_first_start_without_a_volume_stores_the_packages_once_and_runs_them_in_place(tmp_path):
    disk = without_a_volume(tmp_path)
    completed = run(disk.env)
    report = handler_report(completed)
    env_dir = Path(report["prefix"])
    assert env_dir.parent == disk.app_dir / "envs"  # the handler runs from the environment itself
    assert not (env_dir / PACK_NAME).exists() and not disk.copies.exists()  # no start-up pack, no copy of it
    assert "pruned uv's cache (no network volume)" in completed.stderr
    assert list(disk.uv_cache.rglob("ballast.bin")) == []
    assert len({path.stat().st_ino for path in disk.app_dir.rglob("ballast.bin")}) == 1
    assert disk.stored_bytes() < 1.5 * BALLAST_BYTES  # all else (bytecode, metadata) is small

    again = run(disk.env)  # the next start takes the fast path, still in place
    assert handler_report(again)["prefix"] == str(env_dir) and "building environment" not in again.stderr


def test_on_a_network_volume_uvs_cache_keeps_its_own_copy_for_the_next_lock(tmp_path):
    project = make_project(tmp_path / "project", ballast_bytes=BALLAST_BYTES)
    volume = tmp_path / "volume"
    completed = run(bootstrap_env(project, volume))
    env_dir = Path(handler_report(completed)["prefix"])
    (cached,) = (volume / "f5tts-worker" / "cache" / "uv").rglob("ballast.bin")
    (installed,) = env_dir.rglob("ballast.bin")
    assert cached.stat().st_ino != installed.stat().st_ino  # copies: the volume's cache outlives environments
    assert "pruned uv's cache" not in completed.stderr
    assert (env_dir / PACK_NAME).is_file()
