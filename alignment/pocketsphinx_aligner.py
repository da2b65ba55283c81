"""English word alignment on the CPU with PocketSphinx and the en-us model its wheel ships: no weights to fetch.

The known text is set as the only allowed sentence and each chunk decoded; PocketSphinx returns each word's
first and last 10 ms frame. A grammar search can fail, or end early, on hard audio, so it is retried with the
best-path pass off, then also without filler words, then with wide beams. Words the dictionary lacks (digits,
names) cannot be placed: they, and any chunk that no try aligns, are timed between their neighbours and flagged.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence

import numpy as np

from alignment import AlignedWord, HeardWord, TextSpan, fill_missing_times, spans_to_align

MODEL_SAMPLE_RATE_HZ = 16_000
FRAME_S = 0.01
RETRIES: tuple[dict[str, object], ...] = (
    {},
    {"bestpath": False},
    {"bestpath": False, "fsgusefiller": False},
    # Last, the slowest: beams wide enough that a path through the whole grammar survives.
    {"bestpath": False, "fsgusefiller": False, "beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80},
)
NOT_WORDS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"}


class PocketsphinxAligner:
    name = "pocketsphinx"
    languages = ("en",)

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        # Kept for dictionary look-ups. Decoding gets a fresh decoder per chunk (0.3 s): a reused one carries its
        # cepstral normalisation over from earlier audio, and its results would depend on the previous job.
        self._dictionary = Decoder(samprate=MODEL_SAMPLE_RATE_HZ, loglevel="FATAL")
        self._dictionary_lock = threading.Lock()  # one decoder, shared by the jobs in flight

    def align(
        self,
        samples: np.ndarray,
        sample_rate_hz: int,
        spans: Sequence[TextSpan],
        language: str,
        characters: bool = False,
    ) -> list[AlignedWord]:
        from scipy.signal import resample_poly

        gcd = np.gcd(sample_rate_hz, MODEL_SAMPLE_RATE_HZ)
        audio = resample_poly(samples, MODEL_SAMPLE_RATE_HZ // gcd, sample_rate_hz // gcd)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
        aligned: list[AlignedWord] = []
        for span, words, samples_range in spans_to_align(spans, MODEL_SAMPLE_RATE_HZ):
            aligned += self._align_span(words, pcm[samples_range], span)
        return aligned

    def recognize(self, samples: np.ndarray, sample_rate_hz: int, language: str) -> list[HeardWord] | None:
        """None: without the text, the en-us model's search hears about a third of the words of eSpeak NG speech,
        at about real time on two cores, too few and too slowly to anchor a recording; it is aligned as it is."""
        return None

    def _align_span(self, words: list[str], pcm: np.ndarray, span: TextSpan) -> list[AlignedWord]:
        spoken = [_dictionary_form(word) for word in words]
        with self._dictionary_lock:
            known = [index for index, form in enumerate(spoken) if form and self._dictionary.lookup_word(form)]
        frames = self._decode(" ".join(spoken[index] for index in known), pcm) if known else None
        starts: list[float | None] = [None] * len(words)
        ends: list[float | None] = [None] * len(words)
        for index, (start, end) in zip(known, frames or [], strict=False):
            starts[index] = span.start_s + start * FRAME_S
            ends[index] = span.start_s + (end + 1) * FRAME_S
        times = fill_missing_times(words, starts, ends, span)
        return [
            AlignedWord(word, start, end, None, flagged)  # PocketSphinx's scores are not probabilities
            for word, (start, end, flagged) in zip(words, times, strict=True)
        ]

    def _decode(self, text: str, pcm: np.ndarray) -> list[tuple[int, int]] | None:
        """Each word's first and last frame, or None when no configuration aligns the whole text."""
        from pocketsphinx import Decoder

        expected = text.split()
        for options in RETRIES:
            decoder = Decoder(samprate=MODEL_SAMPLE_RATE_HZ, loglevel="FATAL", **options)
            decoder.set_align_text(text)
            decoder.start_utt()
            decoder.process_raw(pcm.tobytes(), full_utt=True)
            decoder.end_utt()
            if decoder.hyp() is None:
                continue
            found = [
                (_base_word(seg.word), seg.start_frame, seg.end_frame)
                for seg in decoder.seg()
                if _base_word(seg.word) not in NOT_WORDS
            ]
            if [word for word, _, _ in found] == expected:  # a partial path ends early: try the next settings
                return [(start, end) for _, start, end in found]
        return None


def _dictionary_form(word: str) -> str:
    """How the en-us dictionary spells a word: lower case, accents dropped, letters and inner apostrophes only."""
    plain = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z']", "", plain).strip("'")


def _base_word(word: str) -> str:
    """`while(2)` is the dictionary's second pronunciation of `while`."""
    return re.sub(r"\(\d+\)$", "", word)
