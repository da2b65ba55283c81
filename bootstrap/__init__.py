"""The container's entry point: make the locked Python environment ready on the volume, then hand over.

Standard library only: it runs before any dependency exists.

    key = sha256(uv.lock, interpreter implementation, version numbers and real path, machine, BOOTSTRAP_SCHEMA)[:16]
    <volume>/f5tts-worker/envs/<key>/      published environment, `.bootstrap-complete` marker inside

Fast path: the marker is there and names this key → `os.execv` into the environment's Python running
handler.py. Slow path: build in a private temporary folder next to it (uv venv --relocatable, uv sync --locked,
bytecode compiled), smoke-import, write the marker last, publish with one atomic rename. A worker that loses
the race to publish discards its copy and uses the winner's; correctness never depends on a lock. The build is
bounded by WORKER_BUILD_TIMEOUT_S, and SIGTERM stops it at once (bootstrap/stopping.py).

Without a network volume (a local fallback folder) the environment is built with uv's cache on the same disk:
packages are hard-linked rather than copied, the cache is pruned afterwards, and the worker runs from the
environment in place (no start-up pack, no local copy): one copy of the packages on the container's disk.
"""
