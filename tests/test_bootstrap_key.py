"""The bootstrap's environment key and completion marker (standard library only, no build)."""

from __future__ import annotations

import json
import subprocess
import sys

from bootstrap.environment import MARKER, environment_key, is_published
from tests.conftest import ROOT


def test_the_key_changes_with_the_lock_the_interpreter_and_its_version():
    base = environment_key(b"lock-a", python="/usr/bin/python3.11", version="3.11.7")
    assert environment_key(b"lock-a", python="/usr/bin/python3.11", version="3.11.7") == base
    assert environment_key(b"lock-b", python="/usr/bin/python3.11", version="3.11.7") != base
    assert environment_key(b"lock-a", python="/opt/python/bin/python3.11", version="3.11.7") != base
    assert environment_key(b"lock-a", python="/usr/bin/python3.11", version="3.11.9") != base


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
