"""Building the real environment: uv (as the bootstrap does it) vs pip, on the same lock, cold and warm cache.

    uv run python bench/env_build_uv_vs_pip.py

Both install exactly the locked runtime set (`uv export --no-dev`, with hashes) into a fresh folder, compiling
bytecode. uv: `uv venv` + `uv sync --locked --no-dev --compile-bytecode` with `UV_LINK_MODE=copy`, as the
bootstrap runs it. pip: `python -m venv` + `pip install --no-deps -r requirements.txt` (pip compiles bytecode
by default), with the machine's pip configuration ignored. "Cold" starts from an empty cache, "warm" reuses it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def uv_build(target: Path, cache: Path) -> float:
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_PROJECT_ENVIRONMENT": str(target), "UV_LINK_MODE": "copy"}
    env.pop("VIRTUAL_ENV", None)
    return timed(["uv", "venv", "--relocatable", "--python", sys.executable, str(target)], env) + timed(
        ["uv", "sync", "--locked", "--no-dev", "--compile-bytecode", "--quiet"], env
    )


def pip_build(target: Path, cache: Path, requirements: Path) -> float:
    env = {
        **os.environ,
        "PIP_CACHE_DIR": str(cache),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    base_python = getattr(sys, "_base_executable", sys.executable)
    return timed([base_python, "-m", "venv", str(target)], env) + timed(
        [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "-r", str(requirements)], env
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-build-", dir=os.environ.get("BENCH_DIR")) as scratch:
        base = Path(scratch)
        requirements = base / "requirements.txt"
        exported = subprocess.run(
            ["uv", "export", "--locked", "--no-dev", "--no-emit-project", "--format", "requirements-txt"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        requirements.write_text(exported.stdout)
        results = {}
        for tool in ("uv", "pip"):
            cache = base / f"{tool}-cache"
            for temperature in ("cold", "warm"):
                target = base / f"{tool}-{temperature}"
                build = uv_build(target, cache) if tool == "uv" else pip_build(target, cache, requirements)
                results[(tool, temperature)] = build
                print(f"{tool:>3} {temperature}: {build:6.1f} s", flush=True)
                shutil.rmtree(target)
            shutil.rmtree(cache)
    for temperature in ("cold", "warm"):
        pip_s, uv_s = results[("pip", temperature)], results[("uv", temperature)]
        print(f"{temperature}: pip {pip_s:.1f} s / uv {uv_s:.1f} s = {pip_s / uv_s:.1f}x")


if __name__ == "__main__":
    main()
