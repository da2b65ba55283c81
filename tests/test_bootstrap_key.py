"""The bootstrap's environment key and completion marker (standard library only, no build)."""

from __future__ import annotations

import json
import subprocess
import sys

from bootstrap.environment import MARKER, environment_key, is_published
from tests.conftest import ROOT

INTERPRETER = {
    "python": "/usr/local/bin/python3.11",
    "version": (3, 11, 7, "final", 0),
    "implementation": "cpython cpython-311",
    "machine": "x86_64",
}


def test_the_key_changes_with_the_lock_the_interpreter_its_version_and_the_machine():
    base = environment_key(b"lock-a", **INTERPRETER)
    assert environment_key(b"lock-a", **INTERPRETER) == base
    for changed in (
        {"python": "/opt/python/bin/python3.11"},
        {"version": (3, 11, 9, "final", 0)},
        {"version": (3, 12, 7, "final", 0)},
        {"implementation": "pypy pypy311"},
        {"machine": "aarch64"},
    ):
        assert environment_key(b"lock-a", **{**INTERPRETER, **changed}) != base, changed
    assert environment_key(b"lock-b", **INTERPRETER) != base


def test_a_rebuilt_interpreter_that_differs_only_in_its_build_date_keeps_the_key():
    """`sys.version` carries the build date, which changes whenever the base image is rebuilt."""
    key = "from bootstrap.environment import environment_key; print(environment_key(b'lock'))"
    rebuilt = "import sys; sys.version = sys.version.split('(')[0] + '(main, Jan  1 2031, 00:00:00) [GCC 99.1.0]'; "
    keys = [
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        for code in (key, rebuilt + key)
    ]
    assert keys[0] == keys[1] and len(keys[0].strip()) == 16


def test_only_a_marker_naming_this_key_counts_as_published(tmp_path):
    env_dir = tmp_path / "envs" / "abc"
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / "python").write_text("")
    assert not is_published(env_dir, "abc")
    (env_dir / MARKER).write_text("{not json")
    assert not is_published(env_dir, "abc")
    (env_dir / MARKER).write_text(json.dumps({"key": "other"}))
    assert not is_published(env_dir, "abc")
    (env_dir / MARKER).write_text(json.dumps({"key": "abc"}))
    assert is_published(env_dir, "abc")


def test_the_bootstrap_imports_with_the_standard_library_alone():
    # -S skips site-packages and -E ignores PYTHON* variables: only the standard library is importable.
    completed = subprocess.run(
        [sys.executable, "-S", "-E", "-c", "import bootstrap.__main__"], cwd=ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
