"""The one-shot GPU check: everything only a GPU can show, in one run of a few minutes, written to a folder.

    python3 bench/gpu_check.py OUT_DIR                 # on a GPU machine (installs the wheels in .whl/ first)
    uv run python bench/gpu_check.py OUT_DIR --small   # the rehearsal on a CPU: tiny models, the same steps

Steps, each timed and reported even when another fails:
1. versions of what it runs with (the GPU machine has its own Python, torch and transformers);
2. the GPU tests (`pytest -m gpu`): the real load path from a full-size checkpoint, runtime detection, the
   warm-up, a real out-of-memory;
3. real-time factor of `F5Synthesizer.synthesize` at NFE 16 and 32, in float16 and bfloat16, full-size random
   weights loaded through `F5Synthesizer.load` (median of three after a warm-up; RTF = seconds / audio seconds);
4. `bench/throughput.py`'s measurements through `Pipeline.load` on the GPU: the job mix at concurrency 1, 4 and
   16, and the 5,000-character job batched vs one chunk per model call;
5. peak GPU memory (of this process: the GPU tests run in their own).
It writes `gpu_check.json` and `gpu_check.md` into OUT_DIR after every step (a run stopped at a time limit keeps
what it measured) and prints the markdown at the end. Wheels for the packages the GPU machine lacks are listed in
bench/gpu_wheels.txt; `bench/gpu_wheels.sh` downloads them into .whl/, and `bench/gpu_rehearsal.sh` runs this
check on a CPU as that machine will.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SITE = Path(tempfile.gettempdir()) / "gpu-check-site"
WHEELS_PYTHON = (3, 12)
TEXT = (
    "Captions light up exactly when each word is spoken, so the video and the voice never drift apart. "
    "This paragraph is long enough to take about ten seconds to say at a calm and steady pace."
)


def install_wheels() -> str:
    """Install .whl/*.whl (no index, no dependencies) into a folder put first on the path."""
    wheels = sorted((ROOT / ".whl").glob("*.whl"))
    if not wheels:
        return "no wheels in .whl/: using the installed packages"
    if sys.version_info[:2] != WHEELS_PYTHON:  # bench/gpu_wheels.sh fetches them for the GPU machine's Python
        return f"the wheels in .whl/ are for Python {'.'.join(map(str, WHEELS_PYTHON))}: using the installed packages"
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
               "--no-cache-dir", "--upgrade", "--target", str(SITE), *map(str, wheels)]  # fmt: skip
    subprocess.run(command, check=True)
    sys.path.insert(0, str(SITE))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE), str(ROOT), os.environ.get("PYTHONPATH")]))
    return f"installed {len(wheels)} wheels into {SITE}"


def versions() -> dict[str, str]:
    import importlib.metadata

    import torch

    found = {"python": platform.python_version(), "torch": torch.__version__, "cuda": str(torch.version.cuda)}
    if torch.cuda.is_available():
        found["gpu"] = torch.cuda.get_device_name()
    for name in ("torchaudio", "transformers", "f5-tts", "vocos", "x-transformers", "numpy", "pydantic"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def gpu_tests() -> dict[str, Any]:
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", "tests/test_gpu.py"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = (completed.stdout + completed.stderr).strip().splitlines()
    return {"exit_code": completed.returncode, "summary": lines[-1] if lines else "", "tail": lines[-15:]}


def real_time_factors(volume: Path, device: str, dtypes: list[str], nfe_steps: list[int]) -> list[dict[str, Any]]:
    import numpy as np

    from tts import SynthesisOptions
    from tts.f5 import F5Synthesizer
    from tts.runtime import detect_runtime
    from voice import ReferenceVoice
    from worker.layout import VolumeLayout

    layout = VolumeLayout.on(volume)
    reference = ReferenceVoice(
        (np.random.default_rng(0).standard_normal(3 * 24000) * 0.1).astype(np.float32), 24000,
        "This is the voice you hear, three seconds of it.",
    )  # fmt: skip
    rows = []
    for dtype in dtypes:
        runtime = detect_runtime(device, dtype)
        synthesizer = F5Synthesizer.load(layout.f5_dir("F5TTS_v1_Base"), layout.vocos_dir, runtime)
        synthesizer.warm_up()
        for nfe in nfe_steps:
            options = SynthesisOptions(nfe_step=nfe, seed=1)
            synthesizer.synthesize(TEXT, reference, options)
            times, audio_s = [], 0.0
            for _ in range(3):
                started = time.perf_counter()
                audio_s = synthesizer.synthesize(TEXT, reference, options).duration_s
                _synchronize(device)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            rows.append({"runtime": runtime.describe(), "nfe_step": nfe, "audio_s": round(audio_s, 2),
                         "median_s": round(median, 4), "rtf": round(median / audio_s, 4)})  # fmt: skip
        synthesizer.close()  # its thread holds the model; the next dtype's needs the memory
    return rows


def _synchronize(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def step(report: dict[str, Any], name: str, run: Callable[[], Any], out: Path) -> None:
    """Run one step; its result, or its error, and its duration go into the report, which is saved at once: a
    run stopped at the GPU machine's time limit still brings back every step finished before."""
    started = time.perf_counter()
    print(f"== {name}", flush=True)
    try:
        report[name] = run()
    except Exception as error:  # one failing step must not lose the others' figures
        report[name] = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-2000:]}
    report.setdefault("seconds", {})[name] = round(time.perf_counter() - started, 1)
    report["peak memory"] = peak_memory()
    print(json.dumps(report[name], indent=2)[:3000], flush=True)
    save(report, out)


def save(report: dict[str, Any], out: Path) -> None:
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2))
    (out / "gpu_check.md").write_text(markdown(report) + "\n")


def markdown(report: dict[str, Any]) -> str:
    from bench.throughput import markdown as throughput_markdown

    lines = ["# GPU check", "", "Versions: " + ", ".join(f"{k} {v}" for k, v in report.get("versions", {}).items())]
    tests = report.get("gpu tests", {})
    lines += ["", f"GPU tests: {tests.get('summary') or tests.get('error', '')}", ""]
    rtf = report.get("real-time factor")
    if isinstance(rtf, list):
        lines += ["| runtime | NFE | audio | median | RTF |", "|---|---|---|---|---|"]
        lines += [
            f"| {r['runtime']} | {r['nfe_step']} | {r['audio_s']} s | {r['median_s']} s | {r['rtf']} |" for r in rtf
        ]
    throughput = report.get("throughput")
    if isinstance(throughput, dict) and "mix" in throughput:
        lines += ["", throughput_markdown(throughput)]
    lines += ["", f"Peak GPU memory: {report.get('peak memory', {})}", f"Step seconds: {report.get('seconds')}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for gpu_check.json and gpu_check.md")
    parser.add_argument("--small", action="store_true", help="tiny models on the CPU: the rehearsal")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"wheels": install_wheels()}
    device = "cpu" if args.small else "cuda"
    step(report, "versions", versions, args.out)
    step(report, "gpu tests", gpu_tests, args.out)
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as scratch:
        from bench.throughput import load_pipeline, measure
        from scripts.tiny_volume import build_tiny_volume

        volume = Path(scratch) / "volume"
        step(
            report,
            "volume",
            lambda: str(build_tiny_volume(volume, full_size=not args.small, speech_recognition=False).models_dir),
            args.out,
        )
        dtypes = ["float32"] if args.small else ["float16", "bfloat16"]
        step(report, "real-time factor", lambda: real_time_factors(volume, device, dtypes, [16, 32]), args.out)
        concurrencies, jobs, nfe = ([1, 2], 4, 4) if args.small else ([1, 4, 16], 16, 16)
        step(report, "throughput", lambda: measure(load_pipeline(volume, device, not args.small, build=False),
                                                   Path(scratch), concurrencies, jobs, nfe), args.out)  # fmt: skip
    print(markdown(report))


def peak_memory() -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"note": "no GPU"}
    return {"allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2)}  # fmt: skip


if __name__ == "__main__":
    main()
