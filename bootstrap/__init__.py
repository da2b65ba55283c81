"""The container's entry point: make the locked Python environment ready on the volume, then hand over.

Standard library only: it runs before any dependency exists.

    key = sha256(uv.lock, interpreter version and real path, machine, BOOTSTRAP_SCHEMA)[:16]
    <volume>/f5tts-worker/envs/<key>/      published environment, `.bootstrap-complete` marker inside

Fast path: the marker is there and names this key → `os.execv` into the environment's Python running
handler.py. Slow path: build in a private temporary folder next to it (uv venv --relocatable, uv sync --locked,
bytecode compiled), smoke-import, write the marker last, publish with one atomic rename. A worker that loses
the race to publish discards its copy and uses the winner's; correctness never depends on a lock.
"""
