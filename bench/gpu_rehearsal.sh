#!/usr/bin/env bash
# Rehearse bench/gpu_check.py on this CPU as the GPU machine will run it: Python 3.12 with that machine's torch,
# torchaudio, transformers and numpy (the CUDA builds from PyPI, run on the CPU), none of this project's lock, and
# the wheels of bench/gpu_wheels.txt. A missing wheel or an API that moved in those versions shows here, not in
# the GPU machine's few minutes. About 5 GB for the venv (kept for the next rehearsal), then 3 minutes.
#
#   bash bench/gpu_rehearsal.sh [OUT_DIR]          # PYTHON312=/path/to/python3.12 if `python3.12` is not one
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/gpu-rehearsal}
venv=${GPU_REHEARSAL_VENV:-/tmp/gpu-rehearsal-venv}
find_python312() {
  if [ -n "${PYTHON312:-}" ]; then echo "$PYTHON312"; return; fi
  if python3.12 -c '' 2>/dev/null; then echo python3.12; return; fi
  ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 2>/dev/null | tail -1
}
python=$(find_python312)
[ -n "$python" ] || { echo "no Python 3.12 found: set PYTHON312" >&2; exit 1; }

# The GPU machine's image, as its package list read in 2026-11: these versions, and the rest of what the load path
# needs from it at whatever PyPI resolves.
machine_pins=(torch==2.11.0 torchaudio==2.11.0 transformers==5.17.0 huggingface_hub==1.33.0 tokenizers==0.23.2
  safetensors==0.8.0 numpy==2.5.2 torchdiffeq==0.2.5 accelerate==1.15.0 sentencepiece==0.2.2 tiktoken==0.14.0)
machine_others=(pip scipy requests numba llvmlite scikit-learn joblib msgpack lazy-loader pyyaml tqdm regex einops
  packaging psutil pytest pytest-timeout hypothesis pillow httpx rich typer click xxhash)
if [ ! -x "$venv/bin/python" ]; then
  uv venv -q -p "$python" "$venv"
  VIRTUAL_ENV="$venv" uv pip install -q "${machine_pins[@]}" "${machine_others[@]}"
  # Pulled in above but not on the GPU machine: the wheels bring them, as they will there.
  VIRTUAL_ENV="$venv" uv pip uninstall -q pydantic pydantic-core annotated-types typing-inspection || true
fi

bash bench/gpu_wheels.sh
rm -rf "${TMPDIR:-/tmp}/gpu-check-site"  # gpu_check.py installs the wheels there
"$venv/bin/python" bench/gpu_check.py "$out" --small
