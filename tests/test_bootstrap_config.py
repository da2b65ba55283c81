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
        ("WORKER_BUILD_TIMEOUT_S", "1h", "WORKER_BUILD_TIMEOUT_S='1h': use a number of seconds, such as 3600"),
        ("WORKER_LEASE_STALE_S", "-5", "WORKER_LEASE_STALE_S='-5': use a number of seconds, such as 60"),
    ],
)
def test_a_value_the_bootstrap_cannot_use_is_refused_by_name(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as refused:
        BootstrapConfig.from_env({"WORKER_VOLUME": str(tmp_path), name: value})
    assert str(refused.value) == message


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
