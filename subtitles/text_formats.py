"""SRT, WebVTT (with inline word timestamps) and a JSON of words and cues.

With `uppercase`, what is displayed is in capitals: SRT and WebVTT text and the JSON's cue text. The JSON's
`words` keep the text as written, like the job result's `words`, so they still match the input.

Scripts: SRT has no place for a speaker but the text, so a cue that starts a speaker's turn begins with
`Label: ` (in capitals with `uppercase`, like all SRT text). A WebVTT cue with a speaker starts with a voice tag,
`<v Label>` (the label as written: it names the voice, players need not show it). The JSON gives each word and
cue with a speaker its `speaker` key. `labels` maps speaker keys to the names shown; a key without one is shown.
Words with no speaker change nothing.

Chinese and Japanese: a glued word (written with no space before it) follows the one before with no space, in
every format, WebVTT's inline timestamps included (`<c>我</c><00:00:00.500><c>们</c>`); the JSON marks such a
word `"glued": true` so its `words` join back into the text as written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape as html_escape
from typing import Any

from common.text import join_units
from subtitles.cues import Cue, TimedWord, label_of, prefix_text, turn_starts
from subtitles.timing import srt_time, vtt_time


def _displayed(text: str, uppercase: bool) -> str:
    return text.upper() if uppercase else text


def render_srt(cues: Sequence[Cue], uppercase: bool = False, labels: Mapping[str, str] | None = None) -> str:
    blocks = []
    for index, (cue, turn) in enumerate(zip(cues, turn_starts(cues), strict=True), start=1):
        prefix = prefix_text(_one_line(label_of(cue.speaker, labels))) if turn and cue.speaker is not None else ""
        text = _displayed(prefix + cue.text, uppercase)
        blocks.append(f"{index}\n{srt_time(cue.start_s)} --> {srt_time(cue.end_s)}\n{text}\n")
    return "\n".join(blocks)


def _one_line(text: str) -> str:
    """A label on one line: a line break would end an SRT or WebVTT cue's text or tag."""
    return " ".join(text.split())


def render_vtt(
    cues: Sequence[Cue], karaoke: bool = True, uppercase: bool = False, labels: Mapping[str, str] | None = None
) -> str:
    """WebVTT; with `karaoke`, each word after the first carries its start as an inline timestamp (players style
    the words before and after it with the `:past` and `:future` cue pseudo-classes). A cue with a speaker starts
    with the voice tag `<v Label>`."""
    blocks = ["WEBVTT\n"]
    for cue in cues:
        lines = []
        for line in cue.lines:
            words: list[tuple[str, bool]] = []
            for word in line:
                text = html_escape(_displayed(word.text, uppercase), quote=False)
                if karaoke and word is not cue.lines[0][0]:
                    text = f"<{vtt_time(word.start_s)}><c>{text}</c>"
                elif karaoke:
                    text = f"<c>{text}</c>"
                words.append((text, word.glued))
            lines.append(join_units(words))
        voice = f"<v {_voice_annotation(label_of(cue.speaker, labels))}>" if cue.speaker is not None else ""
        blocks.append(f"{vtt_time(cue.start_s)} --> {vtt_time(cue.end_s)}\n{voice}" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def _voice_annotation(label: str) -> str:
    """A label as a WebVTT voice annotation: on one line, with & < > as character references (the spec's
    annotation string allows any other text)."""
    return html_escape(_one_line(label), quote=False)


def _with_speaker(entry: dict[str, Any], speaker: str | None) -> dict[str, Any]:
    return {**entry, "speaker": speaker} if speaker is not None else entry


def _word_entry(word: TimedWord) -> dict[str, Any]:
    entry: dict[str, Any] = {"text": word.text, "start_s": round(word.start_s, 3), "end_s": round(word.end_s, 3)}
    if word.glued:
        entry["glued"] = True
    return _with_speaker(entry, word.speaker)


def render_json(words: Sequence[TimedWord], cues: Sequence[Cue], uppercase: bool = False) -> str:
    index_of = {id(word): index for index, word in enumerate(words)}
    document = {
        "words": [_word_entry(word) for word in words],
        "cues": [
            _with_speaker(
                {
                    "start_s": round(cue.start_s, 3),
                    "end_s": round(cue.end_s, 3),
                    "text": _displayed(cue.text, uppercase),
                    "word_indices": [index_of[id(word)] for word in cue.words],
                },
                cue.speaker,
            )
            for cue in cues
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
