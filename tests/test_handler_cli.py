"""`python handler.py --test_input '<job>'`: RunPod's local one-job mode, in a subprocess, on tiny models."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, make_clip, worker_env
from tests.invariants import check_ass_file, check_audio_file, check_result

pytestmark = pytest.mark.slow

TEXT = "Captions light up when each word is spoken."


def run_handler(job: dict, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "handler.py", "--test_input", json.dumps(job)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def job_result(completed: subprocess.CompletedProcess[str], output: Path) -> dict:
    """The whole result, as the worker saves it: the file its log line names, under `output`/results."""
    logged = re.findall(r"job (local-[0-9a-f-]+): the whole result is in (\S+)", completed.stdout + completed.stderr)
    [(job_id, path)] = logged
    assert Path(path) == output / "results" / f"{job_id}.json"
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))


def test_test_input_runs_one_job_and_writes_every_file(tiny_volume, tmp_path):
    clip = make_clip(tmp_path / "voice.wav", duration_s=1.5)
    job = {
        "input": {
            "text": TEXT,
            "voice": {"base64": base64.b64encode(clip.read_bytes()).decode(), "text": "A short hum."},
            "tts": {"nfe_step": 8, "seed": 11},
        }
    }
    misspelt = {"WORKER_DEVCE": "cpu"}  # a typo of WORKER_DEVICE: warned about, and the job still runs
    completed = run_handler(job, {**worker_env(tiny_volume, tmp_path), **misspelt})

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "nothing reads them (misspelt?): WORKER_DEVCE" in completed.stdout + completed.stderr
    output = tmp_path / "output"
    result = job_result(completed, output)
    parsed = check_result(result, TEXT)
    audio_path = output / parsed.audio.key
    check_audio_file(audio_path, parsed.audio.sample_rate_hz, parsed.audio.duration_s, tolerance_s=0.001)
    for kind in ("ass", "srt", "vtt", "json"):
        assert (output / parsed.subtitles[kind].key).is_file()
    check_ass_file(output / parsed.subtitles["ass"].key, len(TEXT.split()))
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_bad_job_exits_non_zero_with_an_error_naming_the_field(tiny_volume, tmp_path):
    job = {"input": {"text": TEXT, "voice": {"url": "ftp://example.com/a.wav", "text": "x"}}}
    completed = run_handler(job, worker_env(tiny_volume, tmp_path))
    assert completed.returncode == 1
    assert "invalid_input: voice.url: must be an http:// or https:// URL" in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr


def test_the_worker_refuses_to_start_when_models_are_missing_and_says_what_to_do(tmp_path):
    completed = run_handler({"input": {}}, worker_env(tmp_path / "empty-volume", tmp_path))
    assert completed.returncode == 2
    assert "model files are missing from the volume" in completed.stderr
    assert "model.safetensors" in completed.stderr
    assert "scripts/tiny_volume.py" in completed.stderr


def test_the_readmes_dialogue_example_runs_offline_with_two_speakers_and_a_file_per_line(tmp_path):
    job = json.loads((ROOT / "examples" / "dialogue.json").read_text())
    completed = run_handler(job, worker_env(tmp_path / "volume", tmp_path, WORKER_PROFILE="offline"))

    assert completed.returncode == 0, completed.stderr[-3000:]
    result = job_result(completed, tmp_path / "output")  # whole: RunPod's console copy of it is cut short
    assert len(json.dumps(result)) > 4096
    folder = tmp_path / "output" / result["audio"]["key"].rsplit("/", 1)[0]
    words = json.loads((folder / "subtitles.json").read_text())["words"]
    assert [word["text"] for word in words] == [word["text"] for word in result["words"]]
    assert {word["speaker"] for word in words} == {"host", "guest"}
    lines = sorted(path.name for path in folder.glob("line-*.wav"))
    assert lines == ["line-000-host.wav", "line-002-guest.wav", "line-003-host.wav"]
    ass_text = (folder / "subtitles.ass").read_text(encoding="utf-8-sig")
    assert "Ana: " in ass_text and "Style: guest," in ass_text and "Style: host," in ass_text


def test_each_local_run_gets_a_folder_of_its_own(tmp_path):
    """RunPod's local mode names every job local_test: without ids of their own, a second run would write beside
    the first one's files."""
    env = worker_env(tmp_path / "volume", tmp_path, WORKER_PROFILE="offline")
    first = run_handler({"input": {"text": "The first take.", "audio": {"format": "mp3"}}}, env)
    second = run_handler({"input": {"text": "The second take."}}, env)
    assert first.returncode == second.returncode == 0, second.stderr[-3000:]
    output = tmp_path / "output"
    folders = []
    for run, audio_format in ((first, "mp3"), (second, "wav")):
        folder = output / job_result(run, output)["audio"]["key"].rsplit("/", 1)[0]
        assert sorted(path.name for path in folder.glob("speech.*")) == [f"speech.{audio_format}"]
        folders.append(folder)
    assert folders[0] != folders[1]


@pytest.mark.parametrize(
    ("argument", "said"),
    [
        ('{"input": {"text": "Hi", }}', "is not valid JSON ("),
        ("{'input': {'text': 'Hi'}}", "is not valid JSON ("),
        ('["Hi"]', "is not a job: a job is a JSON object with an input object"),
        ('{"text": "Hi"}', "is not a job: a job is a JSON object with an input object"),
    ],
    ids=["trailing-comma", "python-quotes", "a-list", "no-input"],
)
def test_a_job_that_is_not_json_is_named_before_anything_loads(tmp_path, argument, said):
    completed = subprocess.run(
        [sys.executable, "handler.py", "--test_input", argument],
        cwd=ROOT, env=worker_env(tmp_path / "volume", tmp_path, WORKER_PROFILE="offline"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 1
    assert f"worker: --test_input {said}" in completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr
