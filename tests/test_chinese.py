"""Chinese end to end: chunks cut at punctuation and between characters, one timed unit per character (Latin
words and numbers whole), karaoke by character; with tiny F5 and a tiny character-vocabulary wav2vec2, and offline
with eSpeak NG's Mandarin voice."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from common.text import has_unspaced, is_unspaced, units
from subtitles import SubtitleLayout, TimedWord, build_cues
from subtitles.checker import check_captions
from tests.conftest import ROOT, make_clip, worker_env
from worker.contract import parse_job

SENTENCES = [
    "今天的天气很好，我们一起去公园散步。",
    "这家店的咖啡要¥28元一杯，比上个月贵了15%。",
    "会议在2024年3月5日下午3:30开始，请大家准时参加！",
    "他说：“学习Python不难，只要每天练习。”",
    "河边有三座老磨坊，每一座都有自己的故事。",
    "你知道从北京到上海要坐几个小时的高铁吗？",
    "春天来了，花开了，鸟儿在树上唱歌。",
    "请把这份文件发给张经理、李老师和王同学。",
    "这本书一共有320页，我已经读完了一半。",
]
MIXED = "我们用 Python 3.11 写代码，速度快了很多。"


def long_chinese_text(characters: int) -> str:
    text = ""
    index = 0
    while len(text) < characters:
        text += SENTENCES[index % len(SENTENCES)]
        index += 1
    return text


def no_progress(progress: dict[str, Any]) -> None:
    pass


@pytest.fixture(scope="module")
def chinese_pipeline(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Tiny F5 and a tiny wav2vec2 with a Chinese character vocabulary, through the worker's own loaders."""
    from scripts.tiny_volume import build_tiny_volume
    from storage.local import LocalStorage
    from worker.pipeline import Pipeline
    from worker.settings import Settings
    from worker.startup import load_models

    tmp = tmp_path_factory.mktemp("chinese")
    build_tiny_volume(tmp / "volume", ("zh",), speech_recognition=False)
    settings = Settings.from_env({
        "WORKER_VOLUME": str(tmp / "volume"), "WORKER_DEVICE": "cpu", "WORKER_ALIGN_LANGUAGES": "zh",
        "WORKER_ASR_MODEL": "none",
    })  # fmt: skip
    models = load_models(settings)
    (tmp / "scratch").mkdir()
    pipeline = Pipeline(models.engines, models.aligners, LocalStorage(tmp / "out"), work_dir=tmp / "scratch")
    clip = make_clip(tmp / "voice.wav", duration_s=3.0)
    return pipeline, clip


def chinese_job(clip: Path, text: str, **options: Any) -> Any:
    import base64

    voice = {"base64": base64.b64encode(clip.read_bytes()).decode(), "text": "这是一段参考声音。"}
    return parse_job({"text": text, "language": "zh", "voice": voice, "tts": {"nfe_step": 4, "seed": 3, "speed": 3.0},
                      **options})  # fmt: skip


@pytest.mark.slow
def test_two_thousand_characters_are_cut_within_budget_and_every_character_is_timed_once_in_order(chinese_pipeline):
    pipeline, clip = chinese_pipeline
    text = long_chinese_text(2000)
    result = pipeline.run(chinese_job(clip, text), "zh-long", no_progress)

    written = [unit for unit, _ in units(text)]
    assert [word["text"] for word in result["words"]] == written
    # One Han character per unit (its punctuation with it), not a clause per unit.
    assert all(sum(is_unspaced(char) for char in unit) <= 1 for unit in written)
    assert sum(has_unspaced(unit) for unit in written) == sum(is_unspaced(char) for char in text)
    starts = [word["start_s"] for word in result["words"]]
    assert starts == sorted(starts) and result["words"][-1]["end_s"] <= result["audio"]["duration_s"] + 0.001
    assert result["models"]["aligner"] == "wav2vec2-ctc"

    segments = result["segments"]
    assert len(segments) > 10  # one 2,000-character paragraph was one chunk before
    assert segments[0]["start_s"] == 0 and segments[-1]["end_s"] == result["audio"]["duration_s"]
    for before, after in zip(segments, segments[1:], strict=False):
        assert before["end_s"] == after["start_s"]
    # Chunks are said as written (no spaces between characters), end at Chinese punctuation where they can, and
    # none is over the budget F5 gets for this reference (bytes of the reference transcript per second).
    assert all(" " not in re.sub(r" ?Python ?", "", segment["text"]) for segment in segments)
    ends = [segment["text"][-1] for segment in segments[:-1]]
    assert sum(end in "。！？，、；：”" for end in ends) >= 0.9 * len(ends)
    assert "".join(segment["text"] for segment in segments).replace(" ", "") == result["text"].replace(" ", "")


@pytest.mark.slow
def test_mixed_chinese_and_english_keeps_latin_words_and_numbers_whole(chinese_pipeline):
    pipeline, clip = chinese_pipeline
    result = pipeline.run(chinese_job(clip, MIXED), "zh-mixed", no_progress)
    assert [word["text"] for word in result["words"]] == [
        "我", "们", "用", "Python", "3.11", "写", "代", "码，", "速", "度", "快", "了", "很", "多。",
    ]  # fmt: skip
    assert "三点一一" in result["text"]  # 3.11 is read in Chinese, and still timed as the written "3.11"
    srt = Path(result["subtitles"]["srt"]["url"].removeprefix("file://")).read_text()
    shown = [line for line in srt.splitlines() if line and not line[0].isdigit()]
    assert all(line in MIXED for line in shown)  # lines as written: no space between characters, Latin spaced
    assert "".join(shown).replace(" ", "") == MIXED.replace(" ", "")


def test_the_caption_rules_hold_for_chinese_timed_at_a_speaking_pace():
    text = long_chinese_text(600)
    pieces = units(text)
    words = [TimedWord(unit, i * 0.25, i * 0.25 + 0.22, None, glued) for i, (unit, glued) in enumerate(pieces)]
    layout = SubtitleLayout(language="zh")
    cues = build_cues(words, layout, audio_duration_s=len(words) * 0.25)
    report = check_captions(cues, layout, audio_duration_s=len(words) * 0.25, language="zh")
    assert report.hard_count == 0, report
    assert [word.text for cue in cues for word in cue.words] == [unit for unit, _ in pieces]
    assert all(" " not in re.sub(r" ?\S*[0-9A-Za-z]\S* ?", "", cue.text.replace("\n", "")) for cue in cues)


# --- Offline: eSpeak NG speaks Mandarin, through `python handler.py` ---


@pytest.fixture(scope="module")
def offline_chinese_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("zh-offline")
    job = {"input": {"text": "我们用 Python 写代码，每个字都会随着声音亮起来。", "language": "zh",
                     "subtitles": {"resolution": [640, 360], "formats": ["ass", "json"]}}}  # fmt: skip
    completed = subprocess.run(
        [sys.executable, "handler.py", "--test_input", json.dumps(job)],
        cwd=ROOT, env=worker_env(tmp / "volume", tmp, WORKER_PROFILE="offline"), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    [folder] = (tmp / "output").glob("local-*")  # RunPod's local mode, a run's own folder
    return folder


@pytest.mark.slow
def test_an_offline_chinese_job_writes_karaoke_with_a_run_per_character_and_no_stray_spaces(offline_chinese_job):
    import ass

    document = ass.parse_string((offline_chinese_job / "subtitles.ass").read_text(encoding="utf-8-sig"))
    text = "".join(event.text for event in document.events).replace("\\N", "")  # line breaks aside
    runs = re.findall(r"\{\\kf?\d+\}([^{]*)", text)
    said = [run for run in runs if run.strip()]
    assert said[:4] == ["我", "们", "用 ", "Python "]  # a space only where the text has one
    assert "写" in said and "代" in said and all(len(run.strip()) <= 2 or run.strip() == "Python" for run in said)
    words = json.loads((offline_chinese_job / "subtitles.json").read_text())["words"]
    assert len(words) == 19 and [w["start_s"] for w in words] == sorted(w["start_s"] for w in words)


@pytest.mark.slow
def test_libass_lights_the_chinese_characters_one_after_another(offline_chinese_job, tmp_path):
    from tests.test_subtitle_rendering import highlight_mask, render_frames

    ass_text = (offline_chinese_job / "subtitles.ass").read_text(encoding="utf-8-sig")
    words = json.loads((offline_chinese_job / "subtitles.json").read_text())["words"]
    first_cue_end = next(cue for cue in json.loads((offline_chinese_job / "subtitles.json").read_text())["cues"])
    times = [words[1]["end_s"], words[5]["end_s"], first_cue_end["end_s"] - 0.02]
    lit = [np.nonzero(highlight_mask(frame).any(axis=0))[0] for frame in render_frames(ass_text, times, tmp_path)]
    widths = [int(columns.max() - columns.min()) if len(columns) else 0 for columns in lit]
    assert 0 < widths[0] < widths[1] < widths[2], widths
