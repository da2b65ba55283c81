"""The bootstrap on a temporary volume: real uv builds of a small locked project, races, crashes, full disks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bootstrap.environment import BUILD_STAGES, MARKER, PAUSE_VARIABLE, environment_key
from bootstrap.housekeeping import clean_temporaries, prune_environments
from tests.bootstrap_fixture import bootstrap_command, bootstrap_env, build_wheel, kill_session, make_project

pytestmark = pytest.mark.slow

BUILDING = "(once per lock; minutes)"  # the builder's log line; waiters log something else


def run(env: dict[str, str], *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bootstrap_command(*args), env=env, capture_output=True, text=True, timeout=timeout_s)


def handler_report(completed: subprocess.CompletedProcess[str]) -> dict:
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("HANDLER "))
    return json.loads(line.removeprefix("HANDLER "))


def published(volume: Path) -> list[Path]:
    envs = volume / "f5tts-worker" / "envs"
    return sorted(path for path in envs.iterdir() if (path / MARKER).is_file() and not path.name.startswith("."))


def leftovers(volume: Path) -> list[Path]:
    return sorted((volume / "f5tts-worker" / "envs").glob(".tmp-*"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def test_first_start_builds_and_the_next_one_takes_the_fast_path(project, tmp_path):
    env = bootstrap_env(project, tmp_path / "volume")
    first = run(env, "--flag")
    report = handler_report(first)
    assert BUILDING in first.stderr
    assert report["argv"] == ["--flag"] and report["marker"] and report["tinydep"] == "0.1.0"
    assert report["hf_offline"] == "1"
    assert Path(report["user_file"]).is_file()
    key = environment_key((project / "uv.lock").read_bytes())
    assert published(tmp_path / "volume") == [tmp_path / "volume" / "f5tts-worker" / "envs" / key]

    second = run(env)
    assert handler_report(second)["prefix"] == report["prefix"]
    assert BUILDING not in second.stderr
    # The environment was byte-compiled when it was built; the fast path writes no bytecode.
    assert list(Path(report["prefix"]).rglob("tinydep/__pycache__/*.pyc"))


@pytest.mark.parametrize("lease", ["1", "0"], ids=["with-lease", "without-lease"])
def test_four_racing_workers_publish_exactly_one_environment_and_all_start(project, tmp_path, lease):
    volume = tmp_path / "volume"
    env = bootstrap_env(project, volume, WORKER_BUILD_LEASE=lease)
    workers = [
        subprocess.Popen(bootstrap_command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(worker.args, worker.returncode, stdout, stderr))
    reports = [handler_report(result) for result in results]
    envs = published(volume)
    assert len(envs) == 1
    assert {report["prefix"] for report in reports} == {str(envs[0])}
    assert all(report["marker"] for report in reports)
    assert leftovers(volume) == []
    builders = sum(BUILDING in result.stderr for result in results)
    if lease == "1":
        assert builders == 1
    else:
        assert builders >= 1


@pytest.mark.parametrize("stage", BUILD_STAGES)
def test_a_worker_killed_at_any_build_stage_never_leaves_a_usable_half_build(project, tmp_path, stage):
    volume = tmp_path / "volume"
    paused = subprocess.Popen(
        bootstrap_command(),
        env=bootstrap_env(project, volume, **{PAUSE_VARIABLE: stage}),
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert paused.stderr is not None
    assert _wait_for_pause(paused, stage)
    os.killpg(paused.pid, signal.SIGKILL)
    paused.wait()
    paused.stderr.close()
    assert published(volume) == []

    # The next worker (lease left behind by the dead one is taken over once stale) recovers.
    report = handler_report(
        run(bootstrap_env(project, volume, WORKER_LEASE_STALE_S="1", WORKER_LEASE_HEARTBEAT_S="0.2"))
    )
    assert report["marker"]
    assert published(volume) == [Path(report["prefix"])]


def _wait_for_pause(process: subprocess.Popen[str], stage: str) -> bool:
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if f"paused at {stage}" in process.stderr.readline():
            return True
    return False


def test_a_worker_killed_in_the_middle_of_installing_is_recovered_from(tmp_path):
    project = make_project(tmp_path / "project", ballast_bytes=60_000_000)  # installing takes a moment
    volume = tmp_path / "volume"
    worker = subprocess.Popen(
        bootstrap_command(), env=bootstrap_env(project, volume), stderr=subprocess.DEVNULL, start_new_session=True
    )
    envs = volume / "f5tts-worker" / "envs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(envs.glob(".tmp-*/lib/python3.11/site-packages/tinydep*")):
        time.sleep(0.01)
    kill_session(worker.pid)  # uv too: it runs in a process group of its own
    worker.wait()
    assert published(volume) == []
    report = handler_report(
        run(bootstrap_env(project, volume, WORKER_LEASE_STALE_S="1", WORKER_LEASE_HEARTBEAT_S="0.2"))
    )
    assert report["marker"]


@pytest.mark.parametrize("damage", ["corrupt", "missing", "other-key"])
def test_a_damaged_marker_means_the_environment_is_rebuilt(project, tmp_path, damage):
    env = bootstrap_env(project, tmp_path / "volume")
    env_dir = Path(handler_report(run(env))["prefix"])
    marker = env_dir / MARKER
    if damage == "corrupt":
        marker.write_text('{"key": ')
    elif damage == "missing":
        marker.unlink()
    else:
        marker.write_text(json.dumps({"key": "0000000000000000"}))
    again = run(env)
    assert BUILDING in again.stderr
    assert handler_report(again)["prefix"] == str(env_dir)
    assert json.loads(marker.read_text())["key"] == env_dir.name


def test_a_lock_change_builds_a_new_environment_and_leaves_the_old_one_untouched(project, tmp_path):
    volume = tmp_path / "volume"
    old = Path(handler_report(run(bootstrap_env(project, volume)))["prefix"])
    old_marker = (old / MARKER).read_text()
    make_project(project, version="0.2.0")
    new_report = handler_report(run(bootstrap_env(project, volume)))
    assert new_report["tinydep"] == "0.2.0"
    assert Path(new_report["prefix"]) != old
    assert (old / MARKER).read_text() == old_marker
    assert published(volume) == sorted([old, Path(new_report["prefix"])])


def test_a_full_disk_is_a_clear_error_and_publishes_nothing(tmp_path):
    volume = tmp_path / "small-volume"
    volume.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(volume)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        project = make_project(tmp_path / "project", ballast_bytes=60_000_000)
        completed = run(bootstrap_env(project, volume, UV_CACHE_DIR=str(tmp_path / "uv-cache")))
        assert completed.returncode == 3
        assert "bootstrap failed: could not install the locked packages" in completed.stderr
        assert "The volume is full" in completed.stderr
        assert published(volume) == []
        assert leftovers(volume) == []
    finally:
        subprocess.run(["umount", str(volume)], check=False)


def test_a_fresh_lease_makes_others_wait_and_a_stale_one_is_taken_over(project, tmp_path):
    volume = tmp_path / "volume"
    envs = volume / "f5tts-worker" / "envs"
    envs.mkdir(parents=True)
    key = environment_key((project / "uv.lock").read_bytes())
    (envs / f"{key}.lease").write_text("another-host:1\n")  # fresh now, stale two seconds later
    started = time.monotonic()
    completed = run(bootstrap_env(project, volume, WORKER_LEASE_STALE_S="2", WORKER_LEASE_HEARTBEAT_S="0.2"))
    assert "another worker is building" in completed.stderr
    assert time.monotonic() - started >= 2
    assert handler_report(completed)["marker"]


def test_a_missing_volume_falls_back_to_a_local_folder_with_a_warning(project, tmp_path):
    env = bootstrap_env(project, tmp_path / "gone", WORKER_LOCAL_VOLUME=str(tmp_path / "local"))
    (tmp_path / "gone").rmdir()
    completed = run(env)
    assert "is missing or read-only" in completed.stderr
    assert handler_report(completed)["prefix"].startswith(str(tmp_path / "local"))


def test_a_flash_attn_wheel_is_added_beside_the_environment_and_a_bad_one_only_warns(project, tmp_path):
    wheel = build_wheel(
        tmp_path / "addon", "flash_attn", "9.9.9", {"flash_attn/__init__.py": b"__version__ = '9.9.9'\n"}
    )
    volume = tmp_path / "volume"
    report = handler_report(run(bootstrap_env(project, volume, WORKER_FLASH_ATTN_WHEEL=str(wheel))))
    assert report["flash_attn"] == "9.9.9"
    assert "flash_attn" not in {p.name for p in Path(report["prefix"]).rglob("flash_attn")} - {"flash_attn"}

    broken = run(bootstrap_env(project, volume, WORKER_FLASH_ATTN_WHEEL=str(tmp_path / "nope.whl")))
    assert "flash-attn add-on not installed" in broken.stderr
    assert handler_report(broken)["flash_attn"] is None


def test_housekeeping_removes_old_build_folders_and_prunes_only_unused_environments(tmp_path):
    envs = tmp_path / "envs"
    old_tmp, young_tmp = envs / ".tmp-aaa-1", envs / ".tmp-bbb-2"
    for folder in (old_tmp, young_tmp):
        folder.mkdir(parents=True)
    os.utime(old_tmp, (time.time() - 7200, time.time() - 7200))
    assert clean_temporaries(envs, max_age_s=3600) == [old_tmp]
    assert young_tmp.exists()

    current, unused, busy = envs / "current", envs / "unused", envs / "busy"
    for env_dir in (current, unused, busy):
        env_dir.mkdir()
        (env_dir / MARKER).write_text("{}")
    (busy / ".users").mkdir()
    (busy / ".users" / "host-1").touch()
    assert prune_environments(envs, "current") == [unused]
    assert current.exists() and busy.exists() and not unused.exists()


def test_the_weights_step_is_skipped_while_its_marker_exists_and_a_failure_stops_the_start(project, tmp_path):
    from bootstrap.weights_marker import weights_marker

    volume = tmp_path / "volume"
    env = bootstrap_env(project, volume, WORKER_FETCH_WEIGHTS="1")
    # The fixture project's environment has no worker package, so the fetcher fails: the start must stop.
    failed = run(env)
    assert failed.returncode == 4
    assert "bootstrap failed: the model weights are not on the volume" in failed.stderr
    assert "HANDLER" not in failed.stdout

    marker = weights_marker(volume / "f5tts-worker" / "models", env)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    started = run(env)
    assert "weights:" not in started.stderr
    assert handler_report(started)["marker"]
