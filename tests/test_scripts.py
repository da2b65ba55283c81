"""Scripts: several speakers, pauses and <break> tags in one job; one take, captions that know who speaks, and each
line as its own files. Offline (eSpeak NG voice variants) and with tiny F5 weights."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from common import ffmpeg
from common.errors import InvalidInput
from tests.conftest import offline_pipeline_in, s3_env, worker_env
from tests.servers import LocalApi, start_local_api
from tts import SynthesisOptions
from tts.breaks import split_breaks
from worker.contract import parse_job
from worker.plan import Pause, Plan, Segment

FRAME_S = 1 / 100
SILENCE_RMS = 1e-3
HOST_LINE = 'Welcome back to the show. Today: rivers, <break time="600ms"/> and the towns that grew along them.'
GUEST_LINE = "Thanks for having me! I grew up by one."
HOST_CLOSING = "That is all for today."
SCRIPT = [
    {"speaker": "host", "text": HOST_LINE},
    {"pause_s": 0.8},
    {"speaker": "guest", "text": GUEST_LINE, "tts": {"speed": 1.1}},
    {"speaker": "host", "text": HOST_CLOSING},
]
SPEAKERS = {"host": {"voice": {"espeak": "en+m3"}}, "guest": {"voice": {"espeak": "en+f3"}}}


def no_progress(progress: dict[str, Any]) -> None:
    pass


# --- <break> tags ---


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ('One. <break time="800ms"/> Two.', ["One. ", 0.8, " Two."]),
        ("One.<BREAK TIME='1.5s' />Two.", ["One.", 1.5, "Two."]),
        ('<break time="2s">Start.', [2.0, "Start."]),
        ("a < b and <b>bold</b> and <breakfast> stay text", ["a < b and <b>bold</b> and <breakfast> stay text"]),
    ],
)
def test_break_tags_become_pauses_and_other_tags_stay_text(text, pieces):
    assert split_breaks(text, "text") == pieces


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Wait <break/> now", "text: the <break> at character 6 is malformed"),
        ('Wait <break time="fast"/> now', "text: the <break> at character 6 is malformed"),
        ("Wait <break time=1s/> now", "text: the <break> at character 6 is malformed"),
        ('Wait <break time="90s"/> now', "text: the <break> at character 6 lasts 90 s"),
        ('<break time="0ms"/>', "text: the <break> at character 1 lasts 0 s"),
    ],
)
def test_a_malformed_break_names_its_position_and_the_form_to_write(text, message):
    with pytest.raises(InvalidInput) as raised:
        split_breaks(text, "text")
    assert raised.value.message.startswith(message)


# --- The job and its plan ---


def error_for(raw: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as raised:
        Plan.of(parse_job(raw), default_engine="espeak")
    return str(raised.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"text": "Hi", "script": SCRIPT}, "text: not both"),
        ({"script": [{"pause_s": 1}]}, "script: has no line to say, only pauses"),
        ({"script": [{"text": "Hi"}, 3]}, "script[1]: each item is a line"),
        ({"script": [{"text": "Hi"}, {"pause_s": 0}]}, "script[1].pause_s: Input should be greater than 0"),
        ({"script": [{"text": "Hi", "voice": {"url": "x", "name": "y"}}]}, "script[0].voice: give exactly one"),
        ({"script": [{"speaker": "host", "text": "Hi"}, {"speaker": "gust", "text": "Yo"}], "speakers": SPEAKERS},
         "script[1].speaker: is not in speakers (guest, host)"),
        ({"script": [{"text": "Hi"}], "speakers": SPEAKERS}, "script[0].speaker: is required"),
        ({"script": [{"text": "Hi"}] * 501}, "script: List should have at most 500 items"),
        ({"script": [{"speaker": f"s{n}", "text": "Hi"} for n in range(11)]}, "script: has 11 speakers: at most 10"),
        ({"script": [{"text": "word " * 2000}] * 3}, "script: has 30,000 characters of text: at most 20,000"),
        ({"script": [{"text": "Hi"}, {"text": 'Oh <break time="soon"/>'}]}, "script[1].text: the <break> at"),
        ({"script": [{"text": '<break time="1s"/>'}]}, "script[0].text: has nothing to say besides"),
        ({"script": [{"speaker": "host", "text": "Hi"}], "speakers": SPEAKERS, "tts": {"engine": "f5"}},
         "speakers.host.voice.espeak: the f5 engine clones a clip, not an eSpeak NG voice"),
        ({"script": [{"text": "Hi"}], "tts": {"engine": "f5"}}, "script[0].voice: is required by the f5 engine"),
    ],
)  # fmt: skip
def test_a_bad_script_is_refused_naming_the_item_and_the_fix(raw, expected):
    if "f5" in json.dumps(raw):
        with pytest.raises(InvalidInput) as raised:
            plan = Plan.of(parse_job(raw), default_engine="f5")
            plan.choose_engines({"f5": _F5Stand()})
        message = str(raised.value)
    else:
        message = error_for(raw)
    assert message.startswith(f"invalid_input: {expected}"), message


class _F5Stand:
    """What the plan asks of an engine before any work: F5's stated capabilities (no model behind them)."""

    name = "f5-tts"
    needs_reference = True
    times_words = False
    sample_rate_hz = 24000
    trained_languages = None

    def speaks(self, language: str) -> bool:
        return True


def test_a_script_is_a_plan_of_segments_and_pauses_with_lines_speakers_voices_and_options():
    job = parse_job({
        "script": [
            {"speaker": "host", "text": 'Hello. <break time="250ms"/> Again.'},
            {"pause_s": 1.5},
            {"speaker": "guest", "text": "Hi.", "tts": {"speed": 1.3}},
            {"speaker": "guest", "text": "Own voice.", "voice": {"url": "https://example.com/g.wav", "text": "G."}},
        ],
        "speakers": {
            "host": {"voice": {"name": "anna"}, "tts": {"nfe_step": 16}},
            "guest": {"voice": {"name": "ben"}, "tts": {"speed": 0.9, "cfg_strength": 3.0}},
        },
        "tts": {"seed": 7, "speed": 1.1},
    })  # fmt: skip
    plan = Plan.of(job, default_engine="f5")
    kinds = [(type(part).__name__, part.line) for part in plan.parts]
    assert kinds == [("Segment", 0), ("Pause", 0), ("Segment", 0), ("Pause", None), ("Segment", 2), ("Segment", 3)]
    hello, again, hi, own = plan.segments
    assert [s.text.strip() for s in plan.segments] == ["Hello.", "Again.", "Hi.", "Own voice."]
    assert plan.parts[1] == Pause(0.25, 0) and plan.parts[3] == Pause(1.5, None)
    assert (hello.voice.name, hello.voice.field, hello.speaker) == ("anna", "speakers.host.voice", "host")
    assert (own.voice.url, own.voice.field, own.speaker) == ("https://example.com/g.wav", "script[3].voice", "guest")
    # job → speaker → line: each level changes only what it names.
    assert (hello.options.speed, hello.options.nfe_step, hello.options.cfg_strength) == (1.1, 16, 2.0)
    assert (hi.options.speed, hi.options.nfe_step, hi.options.cfg_strength) == (1.3, 32, 3.0)
    assert (hi.field, own.field) == ("script[2].text", "script[3].text")
    # The first segment keeps the job's seed; the others get seeds of their own.
    seeds = [segment.options.seed for segment in plan.segments]
    assert seeds[0] == 7 and len(set(seeds)) == 4
    assert [(line.index, line.speaker, line.text) for line in plan.lines] == [
        (0, "host", "Hello. Again."), (2, "guest", "Hi."), (3, "guest", "Own voice."),
    ]  # fmt: skip
    assert [look.name for look in plan.subtitle_layout.speakers] == ["host", "guest"]


def test_a_text_job_is_one_line_and_its_break_tags_are_pauses():
    plan = Plan.of(parse_job({"text": 'Wait for it. <break time="1s"/> Now!', "tts": {"seed": 3}}), "espeak")
    assert [type(part) for part in plan.parts] == [Segment, Pause, Segment]
    assert plan.segments[0].options.seed == 3 and plan.segments[0].field == "text"
    assert [(line.index, line.speaker, line.text) for line in plan.lines] == [(0, None, "Wait for it. Now!")]


# --- Offline: eSpeak NG voice variants, the whole take ---


@pytest.fixture(scope="module")
def offline_pipeline(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return offline_pipeline_in(tmp_path_factory.mktemp("scripts"))


def local_path(url: str) -> Path:
    assert url.startswith("file://")
    return Path(url.removeprefix("file://"))


def decode(url: str, rate_hz: int) -> np.ndarray:
    return ffmpeg.decode_mono(local_path(url), rate_hz, max_duration_s=600)


def say_alone(espeak, text: str, voice: str, speed: float = 1.0) -> np.ndarray:  # type: ignore[no-untyped-def]
    return espeak.synthesize(" ".join(text.split()), None, SynthesisOptions(speed=speed, voice_name=voice)).samples


@pytest.fixture(scope="module")
def dialogue(offline_pipeline) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    job = {
        "script": SCRIPT, "speakers": SPEAKERS, "tts": {"seed": 1}, "output": {"split": "lines"},
        "subtitles": {"resolution": [640, 360], "name_prefix": True},
    }  # fmt: skip
    return offline_pipeline.run(parse_job(job), "dialogue", no_progress)


def test_a_dialogue_is_one_take_as_long_as_its_lines_and_pauses(dialogue, espeak):
    rate = dialogue["audio"]["sample_rate_hz"]
    take = decode(dialogue["audio"]["url"], rate)
    before_break, after_break = HOST_LINE.split('<break time="600ms"/>')
    pieces = [
        say_alone(espeak, before_break, "en+m3"),
        np.zeros(round(0.6 * rate)),
        say_alone(espeak, after_break, "en+m3"),
        np.zeros(round(0.8 * rate)),
        say_alone(espeak, GUEST_LINE, "en+f3", speed=1.1),
        say_alone(espeak, HOST_CLOSING, "en+m3"),
    ]
    expected = sum(len(piece) for piece in pieces)
    assert abs(len(take) - expected) <= FRAME_S * rate
    assert abs(dialogue["audio"]["duration_s"] - expected / rate) <= FRAME_S

    # The break and the pause are exact silences of the stated length, where the speech before them ends.
    for pause_index, stated_s in ((1, 0.6), (3, 0.8)):
        start = sum(len(piece) for piece in pieces[:pause_index])
        silence = take[start : start + round(stated_s * rate)]
        assert np.sqrt(np.mean(silence**2)) < SILENCE_RMS
        assert abs(len(silence) / rate - stated_s) <= 0.02
        assert np.sqrt(np.mean(take[start - round(0.3 * rate) : start] ** 2)) > 10 * SILENCE_RMS  # speech before


def test_every_word_is_timed_in_order_and_tagged_with_its_speaker(dialogue):
    words = dialogue["words"]
    written = [w for line in (HOST_LINE.replace('<break time="600ms"/>', ""), GUEST_LINE, HOST_CLOSING)
               for w in line.split()]  # fmt: skip
    assert [word["text"] for word in words] == written
    speakers = ["host"] * 14 + ["guest"] * 9 + ["host"] * 5
    assert [word["speaker"] for word in words] == speakers
    starts = [word["start_s"] for word in words]
    assert starts == sorted(starts)
    # The words around the break are timed on either side of its silence; the guest speaks after the pause.
    rivers, and_ = words[6], words[7]
    assert (rivers["text"], and_["text"]) == ("rivers,", "and")
    assert and_["start_s"] - rivers["end_s"] >= 0.6 - 0.02
    assert words[14]["start_s"] - words[13]["end_s"] >= 0.8 - 0.02
    assert {segment["speaker"] for segment in dialogue["segments"]} == {"host", "guest"}


def test_no_cue_spans_two_speakers_and_each_format_names_who_speaks(dialogue):
    subtitles = {kind: local_path(stored["url"]).read_text(encoding="utf-8-sig")
                 for kind, stored in dialogue["subtitles"].items()}  # fmt: skip
    document = json.loads(subtitles["json"])
    for cue in document["cues"]:
        assert len({document["words"][index]["speaker"] for index in cue["word_indices"]}) == 1, cue
    assert "<v host>" in subtitles["vtt"] and "<v guest>" in subtitles["vtt"]
    assert "host: Welcome" in subtitles["srt"] and "guest: Thanks" in subtitles["srt"]
    import ass

    parsed = ass.parse_string(subtitles["ass"])
    assert {"host", "guest"} <= {style.name for style in parsed.styles}
    colours = {style.name: style.primary_color for style in parsed.styles}
    assert colours["host"] != colours["guest"]
    assert {event.style for event in parsed.events} == {"host", "guest"}


@pytest.mark.slow
def test_libass_draws_each_speakers_words_in_their_own_colour(offline_pipeline, tmp_path):
    from subtitles import PRESETS, speaker_looks
    from tests.test_subtitle_rendering import render_frames  # a 640x360 stand-in video of 5 s

    script = [{"speaker": "host", "text": "Good morning, everyone."}, {"speaker": "guest", "text": "Hello there!"}]
    job = {"script": script, "speakers": SPEAKERS, "subtitles": {"resolution": [640, 360], "formats": ["ass", "json"]}}
    result = offline_pipeline.run(parse_job(job), "two-colours", no_progress)
    ass_text = local_path(result["subtitles"]["ass"]["url"]).read_text(encoding="utf-8-sig")
    cues = json.loads(local_path(result["subtitles"]["json"]["url"]).read_text())["cues"]
    assert [cue["speaker"] for cue in cues] == ["host", "guest"] and cues[-1]["end_s"] < 5
    looks = {look.name: look.style.primary for look in speaker_looks(PRESETS["classic"], ["host", "guest"])}

    def pixels_of(frame: np.ndarray, colour: str) -> int:
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        return int(np.all(np.abs(frame.astype(int) - rgb) < 30, axis=-1).sum())

    # Late in each cue, karaoke has lit its words in the speaker's highlight colour.
    host_frame, guest_frame = render_frames(ass_text, [cue["end_s"] - 0.05 for cue in cues], tmp_path)
    assert pixels_of(host_frame, looks["host"]) > 200 and pixels_of(host_frame, looks["guest"]) < 20
    assert pixels_of(guest_frame, looks["guest"]) > 200 and pixels_of(guest_frame, looks["host"]) < 20


def test_split_lines_decode_to_their_spans_and_with_the_pauses_sum_to_the_take(dialogue):
    rate = dialogue["audio"]["sample_rate_hz"]
    take = decode(dialogue["audio"]["url"], rate)
    lines = dialogue["lines"]
    assert [(line["index"], line["speaker"]) for line in lines] == [(0, "host"), (2, "guest"), (3, "host")]
    assert lines[0]["text"] == " ".join(HOST_LINE.replace('<break time="600ms"/>', "").split())
    position = 0  # where the next line starts if the lines and the pause tile the take
    for line in lines:
        position += round(0.8 * rate) if line["index"] == 2 else 0  # the script's pause comes before line 2
        assert local_path(line["audio"]["url"]).name == f"line-{line['index']:03d}-{line['speaker']}.wav"
        samples = decode(line["audio"]["url"], rate)
        assert abs(position / rate - line["start_s"]) <= 0.001
        assert abs(len(samples) / rate - (line["end_s"] - line["start_s"])) <= 0.002
        assert np.array_equal(samples, take[position : position + len(samples)])
        position += len(samples)
        # Each line's captions are its own words, timed from the line's start.
        own = json.loads(local_path(line["subtitles"]["json"]["url"]).read_text())
        assert " ".join(word["text"] for word in own["words"]) == line["text"]
        assert 0 <= own["words"][0]["start_s"] < 0.5 and own["words"][-1]["end_s"] <= line["end_s"] - line["start_s"]
    assert position == len(take)


def test_the_voices_of_a_script_are_levelled_to_one_loudness(espeak):
    import pyloudnorm

    from audio.loudness import level_voices

    rate = espeak.sample_rate_hz
    quiet = say_alone(espeak, GUEST_LINE, "en+f3") * 0.1
    loud = say_alone(espeak, HOST_LINE.replace('<break time="600ms"/>', ""), "en+m3")
    meter = pyloudnorm.Meter(rate)
    assert meter.integrated_loudness(loud) - meter.integrated_loudness(quiet) > 15
    levelled = level_voices([loud, quiet, loud[: rate // 10]], ["host", "guest", "host"], rate)
    host = np.concatenate([levelled[0], levelled[2]])
    assert abs(meter.integrated_loudness(host) - meter.integrated_loudness(levelled[1])) < 1.0
    assert max(np.abs(part).max() for part in levelled) <= 1.0
    assert level_voices([quiet], ["one"], rate)[0] is quiet  # one voice alone is left as it is


# --- Tiny F5: cloned voices, each prepared once; a bad voice fails the job before anything is stored ---


@pytest.fixture
def clip_voices(voice_clip) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    import base64

    clip = base64.b64encode(voice_clip.read_bytes()).decode()
    return {"host": {"voice": {"base64": clip, "text": "A voice that hums."}},
            "guest": {"voice": {"base64": clip, "text": "A voice that hums.", "language": "de"}}}  # fmt: skip


def test_f5_speaks_a_script_with_each_voice_prepared_once_and_the_same_seed_gives_the_same_take(
    local_pipeline, clip_voices, tmp_path
):
    prepared: list[str] = []
    prepare = local_pipeline.voices.prepare

    def counting_prepare(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        prepared.append(source.field)
        return prepare(source, *args, **kwargs)

    local_pipeline.voices.prepare = counting_prepare
    script = [{"speaker": "host", "text": "One line here."}, {"pause_s": 0.5},
              {"speaker": "guest", "text": "A second line."}, {"speaker": "host", "text": "And a third."}]  # fmt: skip
    job = {"script": script, "speakers": clip_voices, "tts": {"nfe_step": 4, "seed": 11}}
    first = local_pipeline.run(parse_job(job), "f5-script-1", no_progress)
    assert sorted(prepared) == ["speakers.guest.voice", "speakers.host.voice"]
    assert [word["speaker"] for word in first["words"]] == ["host"] * 3 + ["guest"] * 3 + ["host"] * 3
    again = local_pipeline.run(parse_job(job), "f5-script-2", no_progress)
    assert again["audio"]["sha256"] == first["audio"]["sha256"]


def test_a_script_whose_third_line_has_a_bad_voice_fails_naming_it_and_stores_nothing(local_pipeline, clip_voices):
    script = [
        {"speaker": "host", "text": "Fine."},
        {"speaker": "guest", "text": "Also fine."},
        {"speaker": "host", "text": "Not fine.", "voice": {"url": "https://127.0.0.1:9/v.wav", "text": "x"}},
    ]
    job = {"script": script, "speakers": clip_voices, "tts": {"nfe_step": 4}}  # fmt: skip
    with pytest.raises(InvalidInput) as raised:
        local_pipeline.run(parse_job(job), "bad-voice", no_progress)
    assert str(raised.value).startswith("invalid_input: script[2].voice.url: the URL leads to a loopback address")
    assert not (local_pipeline.storage.root / "bad-voice").exists()


# --- Through RunPod's local API, results in SeaweedFS ---


@pytest.fixture(scope="module")
def offline_s3_api(s3_server, tmp_path_factory) -> Iterator[LocalApi]:  # type: ignore[no-untyped-def]
    s3_server.client().create_bucket(Bucket="scripts")
    tmp = tmp_path_factory.mktemp("scripts-api")
    env = worker_env(tmp / "volume", tmp, WORKER_PROFILE="offline", **s3_env(s3_server, "scripts"))
    server = start_local_api(env, tmp / "api.log")
    yield server
    server.stop()


@pytest.mark.slow
def test_a_two_speaker_script_runs_through_the_local_api_into_the_bucket(offline_s3_api, s3_server):
    job = {"script": SCRIPT, "speakers": SPEAKERS, "output": {"split": "lines", "prefix": "dialogue"}}
    body = requests.post(f"{offline_s3_api.url}/runsync", json={"input": job}, timeout=300).json()
    assert body["status"] == "COMPLETED", body
    output = body["output"]
    assert [line["speaker"] for line in output["lines"]] == ["host", "guest", "host"]
    keys = {item["Key"] for item in s3_server.client().list_objects_v2(Bucket="scripts")["Contents"]}
    assert output["audio"]["key"] in keys and all(line["audio"]["key"] in keys for line in output["lines"])
    vtt = requests.get(output["subtitles"]["vtt"]["url"], timeout=30).text
    assert "<v host>" in vtt and "<v guest>" in vtt


def test_a_long_offline_script_times_its_first_word_like_any_other(offline_pipeline):
    # Asking eSpeak NG for a voice many times without speech in between once cost the next take its first event.
    script = [{"speaker": "host" if n % 2 else "guest", "text": f"Line number {n} is here."} for n in range(30)]
    result = offline_pipeline.run(parse_job({"script": script, "speakers": SPEAKERS}), "thirty-lines", no_progress)
    first = result["words"][0]
    assert first["text"] == "Line" and not first["interpolated"] and first["end_s"] > first["start_s"]


@pytest.mark.parametrize("raw", [{"text": None}, {"script": None}, {"text": None, "script": None}])
def test_a_null_text_or_script_counts_as_left_out(raw):
    with pytest.raises(InvalidInput) as raised:
        parse_job(raw)
    assert str(raised.value) == "invalid_input: text: is required: give text, or script (a list of lines and pauses)"
