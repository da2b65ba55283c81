"""Random and hostile JSON thrown at the handler: every case ends in a result or an error string, never a crash.

The handler runs in-process on the tiny real models, so inputs that pass validation go through every stage.
"""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from handler import make_handler
from storage.local import LocalStorage
from tests.conftest import make_clip
from tests.invariants import check_result
from worker.pipeline import Pipeline

pytestmark = pytest.mark.slow

ERROR_SHAPE = re.compile(r"^(invalid_input|voice_error|model_error|storage_error|internal_error): \S")
FIELD_ERROR = re.compile(r"^invalid_input: [A-Za-z0-9_.]+: \S")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def harness(loaded_models, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "scratch").mkdir()
    pipeline = Pipeline(
        loaded_models.engines, loaded_models.aligners, LocalStorage(tmp / "output"), work_dir=tmp / "scratch"
    )
    clip = base64.b64encode(make_clip(tmp / "voice.wav", duration_s=1.0).read_bytes()).decode()
    return make_handler(pipeline), tmp / "scratch", clip


def near_valid_inputs(clip: str) -> st.SearchStrategy[dict]:
    """Jobs shaped like the contract, each field either sensible or arbitrary."""
    voices = st.one_of(
        st.just({"base64": clip, "text": "A hum."}),
        st.fixed_dictionaries({"base64": st.text(max_size=20), "text": st.text(max_size=10)}),
        st.fixed_dictionaries({"url": st.text(max_size=30), "text": st.text(max_size=10)}),
        json_values,
    )
    options = {
        "tts": st.one_of(
            st.just({"nfe_step": 4, "seed": 1}), json_values, st.fixed_dictionaries({"speed": json_values})
        ),
        "audio": st.one_of(
            st.sampled_from([{"format": "mp3"}, {"format": "opus", "sample_rate_hz": 44100}]), json_values
        ),
        "subtitles": st.one_of(st.sampled_from([{"mode": "word"}, {"formats": ["srt"]}]), json_values),
        "output": st.one_of(st.fixed_dictionaries({"prefix": st.text(max_size=20)}), json_values),
        "language": st.one_of(st.just("en"), json_values),
    }
    return st.fixed_dictionaries(
        {"text": st.one_of(st.text(min_size=1, max_size=60), json_values), "voice": voices},
        optional=options,
    )


def valid_inputs(clip: str) -> st.SearchStrategy[dict]:
    """Jobs the contract accepts, with random text and options, so the pipeline itself is exercised."""
    return st.fixed_dictionaries(
        {
            "text": st.text(min_size=1, max_size=40).filter(lambda text: text.split() != []),
            "voice": st.sampled_from([{"base64": clip, "text": "A hum."}, {"base64": "AAAA", "text": "No audio."}]),
            "tts": st.fixed_dictionaries({"nfe_step": st.just(4), "speed": st.floats(0.3, 3.0)}),
        },
        optional={
            "audio": st.sampled_from([{"format": "mp3"}, {"format": "opus", "sample_rate_hz": 44100}]),
            "subtitles": st.sampled_from([{"mode": "word"}, {"mode": "line", "max_lines": 1}, {"formats": ["srt"]}]),
        },
    )


def check_outcome(outcome: object, raw_input: object) -> None:
    assert isinstance(outcome, dict)
    if "error" in outcome:
        assert isinstance(outcome["error"], str)
        assert ERROR_SHAPE.match(outcome["error"]), outcome["error"]
        assert not outcome["error"].startswith("internal_error"), outcome["error"]
        if outcome["error"].startswith("invalid_input"):
            assert FIELD_ERROR.match(outcome["error"]), outcome["error"]
    else:
        assert isinstance(raw_input, dict)
        check_result(outcome, raw_input["text"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_ends_in_a_result_or_an_error_naming_the_field(harness, data):
    handle, scratch, clip = harness
    raw_input = data.draw(st.one_of(json_values, near_valid_inputs(clip), valid_inputs(clip)))
    outcome = handle({"id": "hostile", "input": raw_input})
    event(outcome["error"].split(":")[0] if "error" in outcome else "completed")  # --hypothesis-show-statistics
    check_outcome(outcome, raw_input)
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    "text",
    [
        "{\\k100}injected{\\kf5}",
        "emoji 🎉🎉 and CJK 你好",
        "中文，没有空格。还有一句！",
        "!!! ??? ...",
        "tab\tand\nnewline",
        "a" * 500,
        "\u202eRTL",
    ],
)
def test_hostile_texts_are_spoken_or_refused_cleanly(harness, text):
    handle, scratch, clip = harness
    raw_input = {"text": text, "voice": {"base64": clip, "text": "A hum."}, "tts": {"nfe_step": 4}}
    check_outcome(handle({"id": "hostile-text", "input": raw_input}), raw_input)
    assert list(scratch.iterdir()) == []


def test_a_job_without_input_fails_cleanly(harness):
    handle, _, _ = harness
    assert handle({"id": "no-input"}) == {"error": "invalid_input: input: must be a JSON object, got NoneType"}
