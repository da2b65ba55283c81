"""SRT, WebVTT (with inline word timestamps) and a JSON of words and cues.

With `uppercase`, what is displayed is in capitals: SRT and WebVTT text and the JSON's cue text. The JSON's
`words` keep the text as written, like the job result's `words`, so they still match the input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape as html_escape

from subtitles.cues import Cue, TimedWord
from subtitles.timing import srt_time, vtt_time


def _displayed(text: str, uppercase: bool) -> str:
    return text.upper() if uppercase else text


def render_srt(cues: Sequence[Cue], uppercase: bool = False) -> str:
    blocks = [
        f"{index}\n{srt_time(cue.start_s)} --> {srt_time(cue.end_s)}\n{_displayed(cue.text, uppercase)}\n"
        for index, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def render_vtt(cues: Sequence[Cue], karaoke: bool = True, uppercase: bool = False) -> str:
    """WebVTT; with `karaoke`, each word after the first carries its start as an inline timestamp (players style
    the words before and after it with the `:past` and `:future` cue pseudo-classes)."""
    blocks = ["WEBVTT\n"]
    for cue in cues:
        lines = []
        for line in cue.lines:
            words = []
            for word in line:
                text = html_escape(_displayed(word.text, uppercase), quote=False)
                if karaoke and word is not cue.lines[0][0]:
                    text = f"<{vtt_time(word.start_s)}><c>{text}</c>"
                elif karaoke:
                    text = f"<c>{text}</c>"
                words.append(text)
            lines.append(" ".join(words))
        blocks.append(f"{vtt_time(cue.start_s)} --> {vtt_time(cue.end_s)}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def render_json(words: Sequence[TimedWord], cues: Sequence[Cue], uppercase: bool = False) -> str:
    index_of = {id(word): index for index, word in enumerate(words)}
    document = {
        "words": [
            {"text": word.text, "start_s": round(word.start_s, 3), "end_s": round(word.end_s, 3)} for word in words
        ],
        "cues": [
            {
                "start_s": round(cue.start_s, 3),
                "end_s": round(cue.end_s, 3),
                "text": _displayed(cue.text, uppercase),
                "word_indices": [index_of[id(word)] for word in cue.words],
            }
            for cue in cues
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
