"""`python -m bootstrap [handler arguments...]`: environment → housekeeping → add-ons → weights → hand-over.

One log line per phase with its duration; a failing phase exits non-zero with a message a person can act on.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bootstrap.addons import ensure_flash_attn
from bootstrap.config import BootstrapConfig
from bootstrap.environment import BootstrapError, ensure_environment
from bootstrap.housekeeping import clean_temporaries, prune_environments, register_user

EXIT_ENVIRONMENT = 3
EXIT_WEIGHTS = 4

log = logging.getLogger("bootstrap")


@contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info("%s: %.0f ms", name, (time.perf_counter() - started) * 1000)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s bootstrap: %(message)s")
    config = BootstrapConfig.from_env()
    try:
        with phase("environment"):
            env_dir = ensure_environment(config)
        with phase("housekeeping"):
            clean_temporaries(config.envs_dir, config.temp_max_age_s)
            if config.prune_old_envs:
                prune_environments(config.envs_dir, env_dir.name)
            user_file = register_user(env_dir)
    except (BootstrapError, OSError) as error:
        print(f"bootstrap failed: {error}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    python = str(env_dir / "bin" / "python")
    child_env = {**os.environ, "WORKER_ENV_USER_FILE": str(user_file), "PYTHONDONTWRITEBYTECODE": "1"}
    with phase("add-ons"):
        addon = ensure_flash_attn(config, env_dir)
    if addon is not None:
        child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(addon), child_env.get("PYTHONPATH")]))
    if config.fetch_weights:
        with phase("weights"):
            fetched = subprocess.run(  # noqa: S603
                [python, "-m", "worker.weights"], cwd=config.project_dir, env=child_env, check=False
            )
        if fetched.returncode != 0:
            print("bootstrap failed: model weights are not on the volume (see above)", file=sys.stderr)
            return EXIT_WEIGHTS
    # Weights are local from here on: a hub lookup would only stall before failing.
    child_env["HF_HUB_OFFLINE"] = "1"
    handler = str(Path(config.project_dir) / "handler.py")
    os.execve(python, [python, handler, *argv], child_env)  # noqa: S606 (the hand-over)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
