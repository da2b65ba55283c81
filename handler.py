"""RunPod entry point: load everything once, then serve jobs.

    python handler.py                                  serve RunPod's queue (on an endpoint)
    python handler.py --test_input '{"input": {...}}'  run one job locally; the whole result goes to
                                                       <outputs>/results/<job id>.json
    python handler.py --rp_serve_api --rp_api_host 127.0.0.1 --rp_api_port 8000
                                                       a local copy of RunPod's /run, /runsync, /status API

Every failure a caller can cause comes back as `{"error": "<code>: <message>"}`; the worker stays up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("worker")


def make_handler(pipeline: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The RunPod handler for a loaded pipeline."""
    from common.errors import DeviceFailure, WorkerError
    from worker.contract import parse_job

    def handle(job: dict[str, Any]) -> dict[str, Any]:
        job_id = str(job.get("id") or "local")
        try:
            request = parse_job(job.get("input"))
            result: dict[str, Any] = pipeline.handle(request, job_id, progress_reporter(job))
        except DeviceFailure as error:
            # The device is unusable: RunPod stops this worker after the job (`refresh_worker`) and starts a fresh one.
            log.error("job %s failed: %s; asking for a fresh worker", job_id, error.message)
            return {"error": str(error), "refresh_worker": True}
        except WorkerError as error:
            # The message can quote the caller's input (an unknown field's name): the log gets the code and field.
            log.warning("job %s failed: %s (%s)", job_id, error.code, getattr(error, "field", "-"))
            return {"error": str(error)}
        except Exception as error:  # a bug: log it for us, answer with a string, keep the worker up
            log.exception("job %s hit an internal error", job_id)
            return {"error": f"internal_error: {type(error).__name__} in the worker; the log has the details"}
        log.info("job %s done (%s)", job_id, request.action)
        return result

    return handle


def run_concurrently(
    handle: Callable[[dict[str, Any]], dict[str, Any]], jobs_at_once: int
) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
    """The handler as RunPod runs several jobs at once: async, each job's work on a thread of its own, so one job
    uploads while another synthesizes (the models batch across them: tts.batching)."""
    from concurrent.futures import ThreadPoolExecutor

    threads = ThreadPoolExecutor(max_workers=jobs_at_once, thread_name_prefix="job")

    async def handle_async(job: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.get_running_loop().run_in_executor(threads, handle, job)

    return handle_async


def progress_reporter(job: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """Stage updates go to RunPod's progress_update on an endpoint, and to the log everywhere."""
    job_id = str(job.get("id") or "local")
    on_endpoint = bool(os.environ.get("RUNPOD_WEBHOOK_POST_OUTPUT"))

    def report(progress: dict[str, Any]) -> None:
        log.info("job %s: stage %s (%d/%d)", job_id, progress["stage"], progress["step"], progress["steps"])
        if on_endpoint:
            import runpod

            runpod.serverless.progress_update(job, progress)

    return report


LOCAL_TEST_ID = "local_test"  # the id RunPod's local mode gives every job that names none


def local_one_shot(argv: list[str], env: Mapping[str, str]) -> bool:
    """Whether RunPod's SDK will run one job here and exit (`--test_input`, or `test_input.json` off an endpoint)."""
    if "--rp_serve_api" in argv or env.get("RUNPOD_REALTIME_PORT"):
        return False
    return any(arg.startswith("--test_input") for arg in argv) or not env.get("RUNPOD_WEBHOOK_GET_JOB")


def local_job_problem(argv: list[str]) -> str | None:
    """What is wrong with the one job given locally, said before the models load; None if it has a job's shape."""
    import json

    given = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--test_input"), None)
    given = next((arg.split("=", 1)[1] for arg in argv if arg.startswith("--test_input=")), given)
    source, text = "--test_input", given
    if given is None:
        source = "test_input.json"
        try:
            with open(source, encoding="utf-8") as file:
                text = file.read()
        except FileNotFoundError:
            return None  # RunPod's SDK says so
    shape = '{"input": {"text": "..."}}'
    try:
        job = json.loads(text or "")
    except ValueError as error:
        return f"{source} is not valid JSON ({error}); a job reads {shape}"
    if not isinstance(job, dict) or not isinstance(job.get("input"), dict):
        return f"{source} is not a job: a job is a JSON object with an input object, {shape}"
    return None


def save_local_results(
    handle: Callable[[dict[str, Any]], dict[str, Any]], results_dir: Path
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """RunPod's local mode, made usable: each run gets its own job id (the SDK names every job local_test, so runs
    would write into one folder, old files beside new), and the whole result is saved as JSON (the SDK prints it as
    a Python literal cut to 4,096 characters)."""
    import json
    import re

    def handle_locally(job: dict[str, Any]) -> dict[str, Any]:
        if job.get("id") == LOCAL_TEST_ID:
            job = {**job, "id": time.strftime("local-%Y%m%d-%H%M%S-", time.gmtime()) + os.urandom(2).hex()}
        result = handle(job)
        path = results_dir / f"{re.sub(r'[^A-Za-z0-9_-]', '_', str(job['id']))}.json"  # an id of the caller's
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            log.info("job %s: the whole result is in %s", job["id"], path)
        except OSError as error:
            log.warning("job %s: the result could not be saved to %s (%s)", job["id"], path, error.strerror)
        return result

    return handle_locally


def keep_env_user_file_fresh(path: str, interval_s: float = 60.0) -> None:
    """Tell the bootstrap's housekeeping that this worker still uses its environment (see bootstrap/housekeeping)."""
    import threading

    def touch() -> None:
        while True:
            with contextlib.suppress(OSError):
                Path(path).touch()
            time.sleep(interval_s)

    threading.Thread(target=touch, name="env-user-heartbeat", daemon=True).start()


def main() -> int:
    # Weights come from the volume; a hub lookup would only stall for minutes before failing.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # RunPod's SDK logs every job's input at DEBUG; job payloads (voice clips, texts) stay out of the logs.
    os.environ.setdefault("RUNPOD_LOG_LEVEL", "INFO")
    from common.errors import WorkerError
    from worker.logs import configure_logging, install_redaction
    from worker.settings import Settings, runpod_volume_mounted

    one_shot = local_one_shot(sys.argv, os.environ)
    problem = local_job_problem(sys.argv) if one_shot else None
    if problem is not None:
        print(f"worker: {problem}", file=sys.stderr)
        return 1
    if os.environ.get("WORKER_ENV_USER_FILE"):
        keep_env_user_file_fresh(os.environ["WORKER_ENV_USER_FILE"])
    try:
        settings = Settings.from_env(os.environ, runpod_volume_mounted())
        secrets = [os.environ.get(name, "") for name in ("RUNPOD_AI_API_KEY", "AWS_SESSION_TOKEN")]
        install_redaction([*secrets, *(settings.s3.secrets if settings.s3 else ())])
        configure_logging(settings.log_level)
        if settings.unknown_variables:
            log.warning(
                "start-up: these variables are set but nothing reads them (misspelt?): %s; the README lists the "
                "settings",
                ", ".join(settings.unknown_variables),
            )
        from worker.pipeline import Pipeline
        from worker.startup import worker_concurrency

        pipeline = Pipeline.load(settings)
        jobs_at_once = worker_concurrency(settings)
    except WorkerError as error:
        print(f"worker cannot start: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a model that will not load, a broken file: say what, without a traceback
        print(f"worker cannot start: {type(error).__name__}: {error}", file=sys.stderr)
        return 2

    import runpod

    handle = make_handler(pipeline)
    if one_shot:
        handle = save_local_results(handle, settings.output_dir / "results")
    runpod.serverless.start(
        {
            "handler": run_concurrently(handle, jobs_at_once),
            "concurrency_modifier": lambda _current: jobs_at_once,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
