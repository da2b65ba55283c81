"""A stuck build or add-on install is bounded, and a container being stopped stops at once: real bootstraps, a real
`uv venv`, and a stand-in `uv sync` or `uv pip install` that never finishes."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bootstrap.lease import Lease
from bootstrap.process import STOP_GRACE_S
from tests.bootstrap_fixture import (
    HANGING_SYNC,
    alive,
    bootstrap_command,
    bootstrap_env,
    build_wheel,
    make_project,
    stand_in_uv,
)

BUILD_LIMIT_S = 3


def wait_for(condition: Callable[[], object], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {timeout_s} s"
        time.sleep(0.02)


def stop_with_sigterm_once(ready: Callable[[], object], env: dict[str, str]) -> None:
    """Start the bootstrap, send it SIGTERM once `ready()` holds (to the bootstrap alone, as RunPod signals the
    container's process), and check that it stopped within seconds, saying why."""
    bootstrap = subprocess.Popen(bootstrap_command(), env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(ready)
        sent = time.monotonic()
        bootstrap.send_signal(signal.SIGTERM)
        _, stderr = bootstrap.communicate(timeout=STOP_GRACE_S + 10)
        stopped_within_s = time.monotonic() - sent
    finally:
        if bootstrap.poll() is None:
            bootstrap.kill()
            bootstrap.communicate()
    assert bootstrap.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "stopped by SIGTERM before the worker started" in stderr
    assert stopped_within_s < 5


def kill_stand_ins(pids: Path) -> None:
    for pid in stand_in_pids(pids):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def stand_in_pids(path: Path) -> list[int]:
    """The hanging `uv sync` and its child, once it has written both."""
    try:
        pids = [int(word) for word in path.read_text().split()]
    except FileNotFoundError:
        return []
    return pids if len(pids) == 2 else []


class Hanging:
    def __init__(self, env: dict[str, str], pids: Path, envs: Path) -> None:
        self.env, self.pids, self.envs = env, pids, envs

    def leftovers(self) -> list[Path]:
        """Build folders, their trash and leases left on the volume."""
        return sorted([*self.envs.glob(".tmp-*"), *self.envs.glob(".trash-*"), *self.envs.glob("*.lease")])


@pytest.fixture
def hanging(tmp_path: Path) -> Iterator[Hanging]:
    project = make_project(tmp_path / "project")
    pids = tmp_path / "uv-sync.pids"
    env = bootstrap_env(project, tmp_path / "volume", STAND_IN_PIDS=str(pids))
    env["PATH"] = f"{stand_in_uv(tmp_path / 'bin', HANGING_SYNC)}{os.pathsep}{env['PATH']}"
    yield Hanging(env, pids, tmp_path / "volume" / "f5tts-worker" / "envs")
    kill_stand_ins(pids)  # whatever the outcome, leave nothing running


@pytest.mark.slow
def test_a_hung_uv_sync_is_stopped_at_the_build_time_limit_and_its_lease_released(hanging):
    hanging.env["WORKER_BUILD_TIMEOUT_S"] = str(BUILD_LIMIT_S)
    started = time.monotonic()
    completed = subprocess.run(bootstrap_command(), env=hanging.env, capture_output=True, text=True, timeout=60)
    elapsed_s = time.monotonic() - started
    assert completed.returncode == 3, completed.stderr[-3000:]
    assert (
        f"could not install the locked packages: uv sync was still running at the build's time limit of "
        f"{BUILD_LIMIT_S} s and was stopped; raise WORKER_BUILD_TIMEOUT_S" in completed.stderr
    )
    assert "its lease is released for another worker" in completed.stderr
    assert elapsed_s < BUILD_LIMIT_S + STOP_GRACE_S + 5
    uv_sync, its_child = stand_in_pids(hanging.pids)
    assert not alive(uv_sync) and not alive(its_child)
    assert hanging.leftovers() == []


@pytest.mark.slow
def test_sigterm_during_a_build_stops_uv_removes_the_build_folder_and_exits_at_once(hanging):
    stop_with_sigterm_once(lambda: stand_in_pids(hanging.pids) and list(hanging.envs.glob(".tmp-*")), hanging.env)
    uv_sync, its_child = stand_in_pids(hanging.pids)
    assert not alive(uv_sync) and not alive(its_child)
    assert hanging.leftovers() == []


@pytest.mark.slow
def test_as_the_containers_first_process_the_bootstrap_still_stops_on_sigterm(hanging):
    """PID 1 of a PID namespace gets only the signals it has a handler for: without one, SIGTERM is ignored and the
    container is killed 10 s later, build folder and all."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--pid", "--fork", "true"], capture_output=True).returncode:
        pytest.skip("cannot start a PID namespace here (unshare --pid needs root or user namespaces)")
    command = [unshare, "--pid", "--fork", *bootstrap_command()]
    namespace = subprocess.Popen(command, env=hanging.env, stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{namespace.pid}/task/{namespace.pid}/children")
    first_process = None
    try:
        wait_for(lambda: stand_in_pids(hanging.pids) and list(hanging.envs.glob(".tmp-*")))
        (first_process,) = [int(pid) for pid in children.read_text().split()]  # PID 1 inside
        os.kill(first_process, signal.SIGTERM)
        _, stderr = namespace.communicate(timeout=STOP_GRACE_S + 10)
    finally:
        if namespace.poll() is None:
            if first_process is not None:
                os.kill(first_process, signal.SIGKILL)  # ends the namespace, and every process in it
            namespace.kill()
            namespace.communicate()
    assert "stopped by SIGTERM before the worker started" in stderr
    assert hanging.leftovers() == []


class HangingAddOn:
    def __init__(self, env: dict[str, str], pids: Path, addons: Path) -> None:
        self.env, self.pids, self.addons = env, pids, addons


@pytest.fixture
def hanging_addon(tmp_path: Path) -> Iterator[HangingAddOn]:
    """An environment already built on the volume, and a flash-attn wheel whose `uv pip install` never finishes."""
    project = make_project(tmp_path / "project")
    volume = tmp_path / "volume"
    built = subprocess.run(
        bootstrap_command(), env=bootstrap_env(project, volume), capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = build_wheel(tmp_path / "addon", "flash_attn", "9.9.9", {"flash_attn/__init__.py": b"__version__ = '9'\n"})
    pids = tmp_path / "uv-pip.pids"
    env = bootstrap_env(project, volume, WORKER_FLASH_ATTN_WHEEL=str(wheel), STAND_IN_PIDS=str(pids))
    real_uv = shutil.which("uv")
    assert real_uv is not None, "uv is not on PATH"
    stand_in = tmp_path / "bin" / "uv"
    stand_in.parent.mkdir()
    stand_in.write_text(f'#!/bin/sh\nif [ "$1" = pip ]; then\n{HANGING_SYNC}\nfi\nexec {shlex.quote(real_uv)} "$@"\n')
    stand_in.chmod(0o755)
    env["PATH"] = f"{stand_in.parent}{os.pathsep}{env['PATH']}"
    yield HangingAddOn(env, pids, volume / "f5tts-worker" / "addons")
    kill_stand_ins(pids)  # whatever the outcome, leave nothing running


@pytest.mark.slow
def test_a_hung_add_on_install_is_stopped_at_the_build_time_limit_and_the_worker_starts_with_sdpa(hanging_addon):
    hanging_addon.env["WORKER_BUILD_TIMEOUT_S"] = str(BUILD_LIMIT_S)
    started = time.monotonic()
    completed = subprocess.run(
        bootstrap_command(), env=hanging_addon.env, capture_output=True, text=True, timeout=BUILD_LIMIT_S + 15
    )
    elapsed_s = time.monotonic() - started
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (
        "flash-attn add-on not installed (uv pip install was still running at the build's time limit of "
        f"{BUILD_LIMIT_S} s and was stopped; raise WORKER_BUILD_TIMEOUT_S if the network is only slow); "
        "F5-TTS will use torch SDPA attention"
    ) in completed.stderr
    assert '"flash_attn": null' in completed.stdout  # the handler started, without flash-attn
    assert elapsed_s < BUILD_LIMIT_S + STOP_GRACE_S + 5
    uv_pip, its_child = stand_in_pids(hanging_addon.pids)
    assert not alive(uv_pip) and not alive(its_child)
    assert list(hanging_addon.addons.iterdir()) == []  # no add-on published, no install folder left


@pytest.mark.slow
def test_sigterm_during_an_add_on_install_stops_uv_and_its_children_and_exits_at_once(hanging_addon):
    stop_with_sigterm_once(lambda: stand_in_pids(hanging_addon.pids), hanging_addon.env)
    uv_pip, its_child = stand_in_pids(hanging_addon.pids)
    assert not alive(uv_pip) and not alive(its_child)
    assert list(hanging_addon.addons.iterdir()) == []


@pytest.mark.slow
def test_the_next_start_removes_the_trash_a_stopped_worker_left_whatever_its_age(tmp_path):
    """A stopped worker renames its build folder to trash and deletes what it can within its last seconds."""
    volume = tmp_path / "volume"
    env = bootstrap_env(make_project(tmp_path / "project"), volume, WORKER_TEMP_MAX_AGE_S="3600")
    envs = volume / "f5tts-worker" / "envs"
    (envs / ".trash-0123456789abcdef-1a2b3c4d" / "lib").mkdir(parents=True)  # just left
    (envs / ".tmp-0123456789abcdef-5e6f7a8b").mkdir()  # a build that may still be under way elsewhere
    completed = subprocess.run(bootstrap_command(), env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert [path.name for path in envs.glob(".t*")] == [".tmp-0123456789abcdef-5e6f7a8b"]


def test_a_builders_lease_goes_stale_once_the_build_runs_past_its_time_limit(tmp_path):
    heartbeat_s, stale_s, limit_s = 0.05, 0.5, 0.3
    lease = Lease(tmp_path / "key.lease", heartbeat_s, stale_s)
    acquired = time.monotonic()
    assert lease.try_acquire(until=acquired + limit_s)
    wait_for(lease.is_stale, timeout_s=10)  # never, were it refreshed for as long as the process lives
    assert time.monotonic() - acquired >= limit_s - heartbeat_s + stale_s
    successor = Lease(tmp_path / "key.lease", heartbeat_s, stale_s)
    assert successor.try_acquire()
    successor.release()
