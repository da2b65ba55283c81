"""The bootstrap's own settings: booleans and durations are read strictly, and a bad one stops it with one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bootstrap.config import BootstrapConfig, ConfigError
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("YES", True),
        ("true", True),
        ("on", True),
        ("0", False),
        ("No", False),
        ("false", False),
        ("off", False),
    ],
)
def test_a_boolean_variable_takes_one_zero_true_false_yes_no(tmp_path, value, expected):
    config = BootstrapConfig.from_env({"WORKER_VOLUME": str(tmp_path), "WORKER_BUILD_LEASE": value})
    assert config.lease_enabled is expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WORKER_BUILD_LEASE", "maybe", "WORKER_BUILD_LEASE='maybe': use 1 or 0, true or false, yes or no, on or off"),
        ("WORKER_FETCH_WEIGHTS", "y", "WORKER_FETCH_WEIGHTS='y': use 1 or 0, true or false, yes or no, on or off"),
        ("WORKER_BUILD_TIMEOUT_S", "1h", "WORKER_BUILD_TIMEOUT_S='1h': use a number of seconds above 0, such as 3600"),
        ("WORKER_LEASE_STALE_S", "-5", "WORKER_LEASE_STALE_S='-5': use a number of seconds, such as 60"),
        ("WORKER_LEASE_STALE_S", "inf", "WORKER_LEASE_STALE_S='inf': use a number of seconds, such as 60"),
        ("WORKER_LEASE_HEARTBEAT_S", "0", "WORKER_LEASE_HEARTBEAT_S='0': use a number of seconds above 0, such as 5"),
        ("WORKER_BUILD_TIMEOUT_S", "0", "WORKER_BUILD_TIMEOUT_S='0': use a number of seconds above 0, such as 3600"),
    ],
)
def test_a_value_the_bootstrap_cannot_use_is_refused_by_name(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as refused:
        BootstrapConfig.from_env({"WORKER_VOLUME": str(tmp_path), name: value})
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("heartbeat_s", "stale_s", "fix"),
    [
        ("5", "0", "set WORKER_LEASE_STALE_S above 10"),
        ("5", "10", "set WORKER_LEASE_STALE_S above 10 or WORKER_LEASE_HEARTBEAT_S below 5"),
        ("30", "45", "set WORKER_LEASE_STALE_S above 60 or WORKER_LEASE_HEARTBEAT_S below 22.5"),
    ],
)
def test_a_lease_that_would_go_stale_between_two_heartbeats_is_refused_naming_both_variables(
    tmp_path, heartbeat_s, stale_s, fix
):
    env = {"WORKER_VOLUME": str(tmp_path), "WORKER_LEASE_HEARTBEAT_S": heartbeat_s, "WORKER_LEASE_STALE_S": stale_s}
    with pytest.raises(ConfigError) as refused:
        BootstrapConfig.from_env(env)
    assert str(refused.value) == (
        f"WORKER_LEASE_STALE_S={stale_s} must be more than 2 times WORKER_LEASE_HEARTBEAT_S={heartbeat_s}, "
        f"or a live lease goes stale between beats: {fix}"
    )


def test_a_heartbeat_alone_is_checked_against_the_default_stale_time(tmp_path):
    env = {"WORKER_VOLUME": str(tmp_path), "WORKER_LEASE_HEARTBEAT_S": "30"}
    with pytest.raises(
        ConfigError, match=r"WORKER_LEASE_STALE_S=60 must be more than 2 times WORKER_LEASE_HEARTBEAT_S=30"
    ):
        BootstrapConfig.from_env(env)
    config = BootstrapConfig.from_env({**env, "WORKER_LEASE_HEARTBEAT_S": "29.9"})
    assert (config.lease_heartbeat_s, config.lease_stale_s) == (29.9, 60)


def test_the_bootstrap_stops_with_one_line_and_exit_code_2_on_a_bad_setting(tmp_path):
    env = {**os.environ, "WORKER_VOLUME": str(tmp_path), "WORKER_PRUNE_OLD_ENVS": "sometimes"}
    completed = subprocess.run(
        [sys.executable, "-m", "bootstrap"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines()[-1] == (
        "bootstrap failed: WORKER_PRUNE_OLD_ENVS='sometimes': use 1 or 0, true or false, yes or no, on or off"
    )
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "f5tts-worker" / "envs").exists()  # nothing was built


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("WORKER_BUILD_TIMEOUT_S", "1h", "WORKER_BUILD_TIMEOUT_S='1h': use a number of seconds above 0, such as 3600"),
        ("WORKER_LEASE_HEARTBEAT_S", "0", "WORKER_LEASE_HEARTBEAT_S='0': use a number of seconds above 0, such as 5"),
        ("WORKER_TEMP_MAX_AGE_S", "inf", "WORKER_TEMP_MAX_AGE_S='inf': use a number of seconds, such as 21600"),
        (
            "WORKER_LEASE_STALE_S",
            "0",
            "WORKER_LEASE_STALE_S=0 must be more than 2 times WORKER_LEASE_HEARTBEAT_S=5, or a live lease goes stale "
            "between beats: set WORKER_LEASE_STALE_S above 10",
        ),
    ],
)
def test_a_bad_number_stops_the_bootstrap_with_one_line_naming_the_variable(tmp_path, name, value, line):
    # Were the number taken, this project directory (no lock in it) would make the start fail otherwise.
    env = {**os.environ, "WORKER_VOLUME": str(tmp_path), "WORKER_PROJECT_DIR": str(tmp_path / "none"), name: value}
    completed = subprocess.run(
        [sys.executable, "-m", "bootstrap"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.strip().splitlines() == [f"bootstrap failed: {line}"]
