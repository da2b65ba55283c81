# Slim image: Python, uv, ffmpeg and the project source with its lock. No ML packages: the bootstrap builds the
# locked environment once on the network volume and every later worker reuses it.

# uv as its own stage, so that Dependabot sees its version (it does not read COPY --from=<image>).
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# The base is named by its tag alone, and the official Python images are rebuilt under the same tag whenever
# Debian updates, so two builds of this image may start from different bases. Pinning a digest is optional: look
# up the tag's current one (`docker buildx imagetools inspect python:3.11-slim-bookworm`) and write it here as
# `FROM python:3.11-slim-bookworm@sha256:...`; Dependabot then keeps the tag and the digest current together.
FROM python:3.11-slim-bookworm

# ffmpeg decodes reference clips and encodes the output audio; ca-certificates for HTTPS to S3 and model hubs.
# Versions are not pinned (DL3008): bookworm's point releases replace them, and pinned builds would break.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# uv builds the environment on the volume (3 to 5 times faster than pip on the same lock, BENCHMARKS.md).
COPY --from=uv /uv /usr/local/bin/uv

WORKDIR /app
COPY pyproject.toml uv.lock README.md handler.py ./
COPY bootstrap/ bootstrap/
COPY worker/ worker/
COPY voice/ voice/
COPY tts/ tts/
COPY alignment/ alignment/
COPY subtitles/ subtitles/
COPY audio/ audio/
COPY storage/ storage/
COPY video/ video/
COPY common/ common/

# Never write .pyc files next to the source or on the shared volume at run time; the bootstrap compiles the
# environment's bytecode once, when it builds it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

ENTRYPOINT ["python", "-m", "bootstrap"]
