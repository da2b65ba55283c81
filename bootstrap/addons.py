"""Optional add-ons installed beside the environment, keyed and published like it; failures only warn.

flash-attn has no usable wheel on PyPI (source only, hours of CUDA compiling), so a prebuilt wheel's URL or path
is a setting (WORKER_FLASH_ATTN_WHEEL). Without it, or if it fails, F5-TTS uses torch's SDPA attention. The
install runs like a build step (bootstrap/process.py): in a process group of its own, stopped with its children at
WORKER_BUILD_TIMEOUT_S (a warning, then SDPA) or when the bootstrap is stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from bootstrap import log
from bootstrap.config import BootstrapConfig
from bootstrap.environment import MARKER


def ensure_flash_attn(config: BootstrapConfig, env_dir: Path) -> Path | None:
    """A folder to put on PYTHONPATH holding flash-attn, or None (with a warning if it was asked for)."""
    wheel = config.flash_attn_wheel
    if not wheel:
        return None
    key = hashlib.sha256(f"{wheel}\n{env_dir.name}".encode()).hexdigest()[:16]
    target = config.addons_dir / f"flash-attn-{key}"
    if (target / MARKER).is_file():
        return target
    import subprocess

    from bootstrap import process

    staging = config.addons_dir / f".tmp-flash-attn-{key}-{os.urandom(4).hex()}"
    try:
        config.addons_dir.mkdir(parents=True, exist_ok=True)
        command = [
            "uv", "pip", "install", "--no-deps", "--python", str(env_dir / "bin" / "python"),
            "--target", str(staging), wheel,
        ]  # fmt: skip
        environment = {**os.environ, "UV_CACHE_DIR": str(config.uv_cache_dir), "UV_LINK_MODE": "copy"}
        try:
            completed = process.run(command, env=environment, timeout_s=config.build_timeout_s)
        except subprocess.TimeoutExpired:
            log.warning(
                "flash-attn add-on not installed (uv pip install was still running at the build's time limit of "
                f"{config.build_timeout_s:g} s and was stopped; raise WORKER_BUILD_TIMEOUT_S if the network is only "
                "slow); F5-TTS will use torch SDPA attention"
            )
            return None
        if completed.returncode != 0:
            # uv's own message may quote the wheel's URL, which can carry a signature: not logged.
            log.warning(
                f"flash-attn add-on not installed (uv pip install exited {completed.returncode}); "
                "F5-TTS will use torch SDPA attention"
            )
            return None
        (staging / MARKER).write_text(json.dumps({"wheel": wheel}))
        try:
            staging.rename(target)
        except OSError:
            if not (target / MARKER).is_file():
                raise
        return target
    except OSError as error:
        log.warning(f"flash-attn add-on not installed ({error}); F5-TTS will use torch SDPA attention")
        return None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
