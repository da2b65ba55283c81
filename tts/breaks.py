"""Timed pauses written in text: `<break time="800ms"/>` and `<break time="1.5s"/>`, as SSML and ElevenLabs write them.

    split_breaks('Wait. <break time="1.5s"/> Now.', "text") → ["Wait. ", 1.5, " Now."]

Only a tag that starts `<break` is read; anything else that looks like a tag (`<b>`, `a < b`, `<breakfast>`) stays
text. A `<break` tag that is not exactly a break with a time in s or ms is an error naming where it starts, so a
typo never becomes spoken markup.
"""

from __future__ import annotations

import re

from common.errors import InvalidInput

MAX_BREAK_S = 60.0
BREAK_START = re.compile(r"<break(?=[\s/>])", re.IGNORECASE)
BREAK_TAG = re.compile(
    r"""<break\s+time\s*=\s*(?P<quote>["'])\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s)\s*(?P=quote)\s*/?>""",
    re.IGNORECASE,
)
EXAMPLE = '<break time="800ms"/> or <break time="1.5s"/>'


def split_breaks(text: str, field: str) -> list[str | float]:
    """The text cut at its break tags: the pieces of text between them, and each break's length in seconds.
    Raises InvalidInput on `field` for a malformed break or one over MAX_BREAK_S."""
    pieces: list[str | float] = []
    position = 0
    for start in BREAK_START.finditer(text):
        tag = BREAK_TAG.match(text, start.start())
        where = f"the <break> at character {start.start() + 1}"
        if tag is None:
            raise InvalidInput(field, f"{where} is malformed: write {EXAMPLE}")
        seconds = float(tag["value"]) / (1000 if tag["unit"].lower() == "ms" else 1)
        if not 0 < seconds <= MAX_BREAK_S:
            raise InvalidInput(
                field, f"{where} lasts {seconds:g} s: breaks last more than 0 and at most {MAX_BREAK_S:g} s"
            )
        pieces += [text[position : start.start()], seconds]
        position = tag.end()
    pieces.append(text[position:])
    return [piece for piece in pieces if not isinstance(piece, str) or piece.strip()]
