#!/usr/bin/env bash
# Download the wheels bench/gpu_check.py installs on the GPU machine into .whl/ (git-ignored; at most 64 MiB
# travel with the working tree). Binary wheels for CPython 3.12 on x86-64 Linux; a package published only as a
# source archive (pure Python) is built into a wheel here.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
platforms=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${tag}_x86_64")
done
grep -v '^#' bench/gpu_wheels.txt | while read -r requirement; do
  [ -n "$requirement" ] || continue
  if ! python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      "${platforms[@]}" -d .whl "$requirement" 2>/dev/null; then
    built=$(mktemp -d)
    python3 -m pip wheel -q --no-deps -w "$built" "$requirement"
    if ! ls "$built"/*-none-any.whl >/dev/null 2>&1; then
      echo "$requirement has no wheel for CPython 3.12 and is not pure Python: pick a version that has one" >&2
      exit 1
    fi
    mv "$built"/*.whl .whl/
  fi
done
du -sh .whl
