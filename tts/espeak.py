"""eSpeak NG through its C library (shipped with its voices in the `espeakng-loader` wheel): speech anywhere,
no GPU, no weights, no network, and exact word timings from the library's own WORD events.

It does not clone voices: it speaks in its own (`SynthesisOptions.voice_name`, e.g. "en+f3"; by default the
language's). Languages are the job's codes (en, en-us, de, zh, ja, …), mapped to eSpeak's names where they differ
(zh → cmn); `speed` scales its default 175 words per minute. Text arrives as units (common.text): Chinese with a
space between characters, so that each character has a WORD event of its own.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence

import numpy as np

from alignment import AlignedWord, TextSpan, fill_missing_times
from common.text import is_unspoken
from tts import ChunkSpan, Speech, SynthesisOptions
from voice import ReferenceVoice

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
CHARS_UTF8 = 1
PARAMETER_RATE = 1
EVENT_LIST_TERMINATED, EVENT_WORD = 0, 1
DEFAULT_WORDS_PER_MINUTE = 175
SILENCE_FRAME_S = 0.01
# The job's language codes that eSpeak NG names otherwise: it speaks Mandarin as cmn (and Cantonese as yue).
ESPEAK_NAMES = {"zh": "cmn"}
CHUNK_MAX_S = 30.0  # its speech is cut at words into chunks this long, well under alignment.MAX_SPAN_S
SILENCE_RMS = 300  # int16 units: quieter 10 ms frames at a word's tail are not part of the word


class _Event(ctypes.Structure):
    _fields_ = [  # noqa: RUF012 (ctypes' declaration)
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


# The library holds one synthesis state per process (voice, rate, callback): every instance shares this lock, and
# the library is initialized once, however many instances there are.
_LIBRARY_LOCK = threading.Lock()
_library: tuple[ctypes.CDLL, int] | None = None


def _load_library() -> tuple[ctypes.CDLL, int]:
    global _library
    with _LIBRARY_LOCK:
        if _library is None:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            lib.espeak_Initialize.restype = ctypes.c_int
            rate = lib.espeak_Initialize(
                AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), INITIALIZE_DONT_EXIT
            )
            if rate <= 0:
                raise RuntimeError("eSpeak NG could not start (its data folder is missing?)")
            _library = (lib, rate)
        return _library


class EspeakSynthesizer:
    name = "espeak-ng"
    needs_reference = False  # speaks in its own voice
    times_words = True  # its WORD events say when each word starts
    trained_languages: tuple[str, ...] | None = None  # a voice per language, or none (`speaks`)

    def __init__(self) -> None:
        self._lib, self.sample_rate_hz = _load_library()
        self._pieces: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []  # (character offset, sample)
        self._callback = _CALLBACK(self._collect)  # kept referenced while the library may call it
        self._lock = _LIBRARY_LOCK
        self._known_voices: dict[str, bool] = {}

    def speaks(self, language: str) -> bool:
        # Asked once per voice: after a few dozen voice changes without speech in between, eSpeak NG's next
        # synthesis reports no event for its first word.
        name = espeak_voice(language)
        with self._lock:
            if name not in self._known_voices:
                self._known_voices[name] = self._lib.espeak_SetVoiceByName(name.encode()) == 0
            return self._known_voices[name]

    def synthesize(self, text: str, voice: ReferenceVoice | None, options: SynthesisOptions) -> Speech:
        encoded = text.encode("utf-8")
        with self._lock:
            name = options.voice_name or espeak_voice(options.language)  # a variant ("en+f3") or the language's
            if self._lib.espeak_SetVoiceByName(name.encode()) != 0:
                raise ValueError(f"eSpeak NG has no voice {name!r}")
            rate = round(DEFAULT_WORDS_PER_MINUTE * options.speed)
            self._lib.espeak_SetParameter(PARAMETER_RATE, max(80, min(rate, 450)), 0)
            self._pieces, self._words = [], []
            self._lib.espeak_SetSynthCallback(self._callback)  # this instance's: another may have set its own
            buffer = ctypes.create_string_buffer(encoded)
            status = self._lib.espeak_Synth(buffer, len(encoded) + 1, 0, 0, 0, CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            if status != 0:
                raise RuntimeError(f"eSpeak NG failed to synthesize (status {status})")
            pcm = np.concatenate(self._pieces) if self._pieces else np.zeros(0, dtype=np.int16)
            events = list(self._words)
        samples = pcm.astype(np.float32) / 32768.0
        duration_s = len(samples) / self.sample_rate_hz
        words = word_times(text, events, pcm, self.sample_rate_hz)
        if duration_s == 0:
            return Speech(samples, self.sample_rate_hz, (ChunkSpan(" ".join(text.split()), 0, 0),))
        chunks = chunks_at_words(words, len(samples), self.sample_rate_hz, CHUNK_MAX_S)
        return Speech(samples=samples, sample_rate_hz=self.sample_rate_hz, chunks=chunks, word_times=tuple(words))

    def _collect(self, wave: ctypes.Array, count: int, events: ctypes.Array) -> int:
        if count > 0:
            self._pieces.append(np.ctypeslib.as_array(wave, shape=(count,)).copy())
        index = 0
        while events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == EVENT_WORD:
                self._words.append((event.text_position - 1, event.sample))
            index += 1
        return 0


def espeak_voice(language: str) -> str:
    """eSpeak NG's voice for a language code as the job, the aligners and Whisper write it (zh → cmn)."""
    base, _, region = language.partition("-")
    return ESPEAK_NAMES.get(base, base) + (f"-{region}" if region else "")


def chunks_at_words(
    words: Sequence[AlignedWord], sample_count: int, rate_hz: int, max_s: float
) -> tuple[ChunkSpan, ...]:
    """The speech as chunks of whole words, each at most about `max_s` long (a word is never cut), so an aligner
    gets bounded spans however long the text. A cut lies in the middle of the gap between two words."""
    chunks: list[ChunkSpan] = []
    start = 0
    held: list[str] = []
    for word, following in zip(words, [*words[1:], None], strict=True):
        held.append(word.text)
        if following is not None and following.end_s - start / rate_hz > max_s:
            # In the gap between the two words, but no further than max_s from the chunk's start.
            middle_s = min((word.end_s + following.start_s) / 2, start / rate_hz + max_s)
            cut = max(start, round(max(word.end_s, middle_s) * rate_hz))
            chunks.append(ChunkSpan(" ".join(held), start, cut))
            start, held = cut, []
    chunks.append(ChunkSpan(" ".join(held), start, sample_count))
    return tuple(chunks)


def word_times(text: str, events: list[tuple[int, int]], pcm: np.ndarray, rate_hz: int) -> list[AlignedWord]:
    """Each whitespace word starts at its first WORD event and ends where its sound stops before the next word.

    eSpeak may split a word (`eSpeak` → e, Speak: several events, the first counts) or give a word no event of
    its own; such a word shares its predecessor's sound by length and is flagged. The group (the word with the
    event and the flagged words after it) spans exactly its sound, so `alignment.retime_flagged` can time its
    words inside it.
    """
    words, offsets, position = text.split(), [], 0
    for word in words:
        position = text.index(word, position)
        offsets.append((position, position + len(word)))
        position += len(word)
    starts: list[float | None] = [None] * len(words)
    for char_offset, sample in sorted(events, key=lambda event: event[1]):
        owner = next((index for index, (first, last) in enumerate(offsets) if first <= char_offset < last), None)
        if owner is not None and starts[owner] is None:
            starts[owner] = sample / rate_hz
    duration_s = len(pcm) / rate_hz
    known = [index for index, start in enumerate(starts) if start is not None]
    times: list[tuple[float, float, bool]] = [(0.0, 0.0, True)] * len(words)
    if not known:
        times = fill_missing_times(words, starts, [None] * len(words), TextSpan(text, 0.0, duration_s))
    event_starts = {index: float(start) for index, start in enumerate(starts) if start is not None}
    for rank, index in enumerate(known):
        start = event_starts[index]
        following = known[rank + 1] if rank + 1 < len(known) else len(words)
        end = _sound_end(pcm, rate_hz, start, event_starts.get(following, duration_s))
        # eSpeak sometimes speaks a few words as one (no event for "it", "is" in "as it is"): the sound is
        # shared among them by length, and the words without an event of their own are flagged (an aligner can
        # time them inside the group's span later).
        # Punctuation alone ("there — and") has no sound to share: it gets none, and is not flagged.
        group = range(index, following)
        lengths = [0 if is_unspoken(words[member]) else max(1, len(words[member])) for member in group]
        edges = np.cumsum([0, *lengths]) / max(1, sum(lengths))
        for position, member in enumerate(group):
            share = (start + (end - start) * float(edges[position]), start + (end - start) * float(edges[position + 1]))
            times[member] = (*share, member != index and lengths[position] > 0)
    for index in range(known[0] if known else 0):  # words before the first event: squeezed at the start
        times[index] = (0.0, 0.0, not is_unspoken(words[index]))
    return [
        AlignedWord(word, start, end, None, flagged)  # eSpeak's events are exact: there is no confidence to give
        for word, (start, end, flagged) in zip(words, times, strict=True)
    ]


def _sound_end(pcm: np.ndarray, rate_hz: int, start_s: float, limit_s: float) -> float:
    """The end of the last 10 ms frame louder than silence in [start, limit), or `limit` if all of it sounds."""
    frame = max(1, int(SILENCE_FRAME_S * rate_hz))
    first, last = int(start_s * rate_hz), int(limit_s * rate_hz)
    segment = pcm[first:last].astype(np.float32)
    usable = len(segment) // frame * frame
    if usable == 0:
        return limit_s
    rms = np.sqrt(np.mean(segment[:usable].reshape(-1, frame) ** 2, axis=1))
    loud = np.nonzero(rms > SILENCE_RMS)[0]
    if len(loud) == 0:
        return limit_s
    return min(limit_s, (first + (int(loud[-1]) + 1) * frame) / rate_hz)
