"""`python -m bootstrap [handler arguments...]`: environment → housekeeping → add-ons → weights → hand-over.

One log line per phase with its duration; a failing phase exits non-zero with a message a person can act on.
SIGTERM (the container being stopped) stops the child at work, discards an unfinished build and exits with 143
within seconds. Everything the fast path does not need is imported inside the branch that needs it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bootstrap import log
from bootstrap.config import BootstrapConfig, ConfigError
from bootstrap.environment import BootstrapError, ensure_environment
from bootstrap.housekeeping import clean_temporaries, register_user
from bootstrap.stopping import Stopped, stop_on_signals
from bootstrap.weights_marker import weights_marker

EXIT_SETTINGS = 2
EXIT_ENVIRONMENT = 3
EXIT_WEIGHTS = 4


class _Phase:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        log.info(f"{self.name}: {(time.perf_counter() - self.started) * 1000:.0f} ms")


def main(argv: list[str]) -> int:
    stop_on_signals()
    try:
        return _start(argv)
    except Stopped as stopped:
        log.warning(f"stopped by {stopped.signal_name} before the worker started")
        return stopped.exit_code


def _start(argv: list[str]) -> int:
    try:
        config = BootstrapConfig.from_env()
    except ConfigError as error:
        print(f"bootstrap failed: {error}", file=sys.stderr)
        return EXIT_SETTINGS
    try:
        with _Phase("environment"):
            env_dir = ensure_environment(config)
        with _Phase("housekeeping"):
            # Build folders of environments, add-ons and weight downloads that a crash left behind.
            models = config.app_dir / "models"
            folders = [config.envs_dir, config.addons_dir, models, models / "f5", models / "align", models / "asr"]
            if config.local_copy_dir is not None:
                folders.append(config.local_copy_dir)  # copies a crash left half-unpacked
            for folder in folders:
                if folder.is_dir():
                    trash_max_age_s = 0.0 if folder == config.envs_dir else None  # see clean_temporaries
                    clean_temporaries(folder, config.temp_max_age_s, trash_max_age_s=trash_max_age_s)
            if config.prune_old_envs:
                from bootstrap.housekeeping import prune_environments

                prune_environments(config.envs_dir, env_dir.name)
            user_file = register_user(env_dir)
    except (BootstrapError, OSError) as error:
        print(f"bootstrap failed: {error}", file=sys.stderr)
        return EXIT_ENVIRONMENT

    python = str(env_dir / "bin" / "python")
    if config.local_copy_dir is not None and not config.local_volume:  # on local disk already otherwise
        from bootstrap.startup_copy import local_environment

        with _Phase("local copy"):
            local = local_environment(env_dir, config.local_copy_dir)
        if local is not None:
            python = str(local / "bin" / "python")  # start-up reads local disk; the rest links to the volume
    child_env = {
        **os.environ,
        "WORKER_VOLUME": str(config.app_dir.parent),  # the handler uses the volume chosen here, fallback included
        "WORKER_ENV_USER_FILE": str(user_file),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if config.flash_attn_wheel:
        from bootstrap.addons import ensure_flash_attn

        with _Phase("add-ons"):
            addon = ensure_flash_attn(config, env_dir)
        if addon is not None:
            child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(addon), child_env.get("PYTHONPATH")]))
    if config.fetch_weights and not weights_marker(config.app_dir / "models", os.environ).exists():
        from bootstrap import process

        with _Phase("weights"):
            fetched = process.run(
                [python, "-m", "worker.weights"], env=child_env, cwd=config.project_dir, capture=False
            )
        if fetched.returncode != 0:
            print("bootstrap failed: the model weights are not on the volume (see above)", file=sys.stderr)
            return EXIT_WEIGHTS
    # Weights are local from here on: a hub lookup would only stall before failing.
    child_env["HF_HUB_OFFLINE"] = "1"
    handler = str(Path(config.project_dir) / "handler.py")
    os.execve(python, [python, handler, *argv], child_env)  # noqa: S606 (the hand-over)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
