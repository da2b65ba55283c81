"""Word timings from a wav2vec2 CTC model: one alignment segment per TTS chunk, the known text, no transcription.

Text is prepared exactly as WhisperX prepares it (lower case, spaces as the model's `|` word delimiter, any
character the model does not know matched by a wildcard that takes the best non-blank score of each frame), the
model runs once per chunk, and `alignment.ctc.forced_align` finds the path `whisperx.align` would find, without
its per-frame Python loop. Words keep their punctuation; a word whose characters cannot be placed is given a
time between its neighbours and flagged. `recognize` lets the model listen without the text (greedy CTC decoding),
which anchors a caller's long recording to its transcript.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alignment import AlignedChar, AlignedWord, HeardWord, TextSpan, fill_missing_times, spans_to_align
from alignment.ctc import TokenSpan, forced_align, greedy_path
from common.text import is_unspoken

log = logging.getLogger(__name__)

MODEL_SAMPLE_RATE_HZ = 16_000
# Written without spaces between words: aligned character by character, with no word delimiter (as WhisperX).
LANGUAGES_WITHOUT_SPACES = frozenset({"ja", "zh"})
MIN_SAMPLES = 400  # wav2vec2's convolutional front end needs at least this many
WORD_DELIMITER = "|"
RECOGNITION_WINDOW_S = 30.0  # the model listens to a long recording this much at a time


class Wav2Vec2Aligner:
    """Holds one wav2vec2 CTC model per language, loaded once."""

    name = "wav2vec2-ctc"

    def __init__(self, models: Mapping[str, tuple[Any, dict[str, int]]], device: str) -> None:
        self._models = dict(models)  # language → (model, vocabulary: lower-case character → id)
        self._device = device
        self._lock = threading.Lock()  # jobs in flight take turns: one model's activations on the device at a time

    @classmethod
    def load(cls, model_dirs: Mapping[str, Path], device: str) -> Wav2Vec2Aligner:
        """Load each language's Hugging Face wav2vec2 CTC folder (weights, config, vocab.json) from disk."""
        from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2ForCTC

        models = {}
        for language, model_dir in model_dirs.items():
            tokenizer = Wav2Vec2CTCTokenizer.from_pretrained(str(model_dir), local_files_only=True)
            model = Wav2Vec2ForCTC.from_pretrained(str(model_dir), local_files_only=True).to(device).eval()
            vocabulary = {token.lower(): index for token, index in tokenizer.get_vocab().items()}
            models[language] = (model, vocabulary)
        return cls(models, device)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._models)

    def align(
        self,
        samples: np.ndarray,
        sample_rate_hz: int,
        spans: Sequence[TextSpan],
        language: str,
        characters: bool = False,
    ) -> list[AlignedWord]:
        import torch
        import torchaudio.functional as AF

        model, vocabulary = self._models[language]
        audio = AF.resample(torch.from_numpy(samples), sample_rate_hz, MODEL_SAMPLE_RATE_HZ)
        delimit = language not in LANGUAGES_WITHOUT_SPACES
        aligned: list[AlignedWord] = []
        for span, words, samples_range in spans_to_align(spans, MODEL_SAMPLE_RATE_HZ):
            with self._lock:
                emission = self._log_probs(model, audio[samples_range])
            aligned += _align_words(words, emission, vocabulary, span, characters, delimit)
        return aligned

    def recognize(self, samples: np.ndarray, sample_rate_hz: int, language: str) -> list[HeardWord] | None:
        """The words the model hears, window by window: each frame's best character, repeats merged, split into
        words at the delimiter (or one word per character where the language is written without spaces)."""
        import torch
        import torchaudio.functional as AF

        model, vocabulary = self._models[language]
        audio = AF.resample(torch.from_numpy(samples), sample_rate_hz, MODEL_SAMPLE_RATE_HZ)
        characters = {index: char for char, index in vocabulary.items()}
        blank_id = _blank_id(vocabulary)
        each_character = language in LANGUAGES_WITHOUT_SPACES
        window = int(RECOGNITION_WINDOW_S * MODEL_SAMPLE_RATE_HZ)
        heard: list[HeardWord] = []
        for first in range(0, audio.shape[-1], window):
            piece = audio[first : first + window]
            with self._lock:
                emission = self._log_probs(model, piece)
            seconds_per_frame = piece.shape[-1] / MODEL_SAMPLE_RATE_HZ / emission.shape[0]
            path = greedy_path(emission, blank_id)
            heard += _heard_words(path, characters, each_character, first / MODEL_SAMPLE_RATE_HZ, seconds_per_frame)
        return heard

    def _log_probs(self, model: Any, waveform: Any) -> np.ndarray:
        import torch

        segment = waveform.unsqueeze(0)
        if segment.shape[-1] < MIN_SAMPLES:
            segment = torch.nn.functional.pad(segment, (0, MIN_SAMPLES - segment.shape[-1]))
        with torch.inference_mode():
            logits = model(segment.to(self._device)).logits
            return torch.log_softmax(logits, dim=-1)[0].float().cpu().numpy()


def prepare_tokens(
    words: Sequence[str], vocabulary: Mapping[str, int], delimit_words: bool = True
) -> tuple[list[str], list[str], list[int | None], bool]:
    """What to align: each token's model character and original character, the word it belongs to (None for a
    delimiter), and whether any character is unknown to the model.

    Mirrors WhisperX: lower case; the space between words becomes the delimiter if the model has one; any other
    character the model lacks is kept and later matched by a wildcard. Unlike WhisperX, a word of punctuation alone
    (`common.text.is_unspoken`: a spaced dash) gets no token: a wildcard would take a frame of a spoken neighbour.
    """
    model_chars: list[str] = []
    original: list[str] = []
    owners: list[int | None] = []
    for index, word in enumerate(words):
        if is_unspoken(word):
            continue
        if model_chars and delimit_words and WORD_DELIMITER in vocabulary:
            model_chars.append(WORD_DELIMITER)
            original.append(" ")
            owners.append(None)
        for char in word:
            lowered = char.lower()
            model_chars.append(lowered if len(lowered) == 1 else char)
            original.append(char)
            owners.append(index)
    return model_chars, original, owners, any(char not in vocabulary for char in model_chars)


def _align_words(
    words: list[str],
    emission: np.ndarray,
    vocabulary: Mapping[str, int],
    span: TextSpan,
    characters: bool,
    delimit_words: bool = True,
) -> list[AlignedWord]:
    chars, original, owners, has_unknown = prepare_tokens(words, vocabulary, delimit_words)
    blank_id = _blank_id(vocabulary)
    if has_unknown:  # a wildcard column: the best non-blank score of each frame
        others = np.delete(emission, blank_id, axis=1)
        emission = np.concatenate([emission, others.max(axis=1, keepdims=True)], axis=1)
    wildcard = emission.shape[1] - 1
    tokens = [vocabulary.get(char, wildcard) for char in chars]
    if not tokens:  # punctuation alone: nothing to place
        path: list[TokenSpan] | None = []
    else:
        path = forced_align(emission, tokens, blank_id) if len(tokens) <= emission.shape[0] else None
    if path is None:
        log.warning("a chunk's text does not fit its audio; its %d words are interpolated", len(words))
    seconds_per_frame = (span.end_s - span.start_s) / emission.shape[0]

    by_word: list[list[tuple[str, TokenSpan]]] = [[] for _ in words]
    for token_span in path or []:
        owner = owners[token_span.index]
        if owner is not None:
            by_word[owner].append((original[token_span.index], token_span))
    starts = [span.start_s + pieces[0][1].start_frame * seconds_per_frame if pieces else None for pieces in by_word]
    ends = [span.start_s + pieces[-1][1].end_frame * seconds_per_frame if pieces else None for pieces in by_word]
    times = fill_missing_times(words, starts, ends, span)

    result = []
    for word, pieces, (start_s, end_s, interpolated) in zip(words, by_word, times, strict=True):
        score = float(np.mean([piece.score for _, piece in pieces])) if pieces else None
        char_times = None
        if characters and not interpolated:
            char_times = tuple(
                AlignedChar(
                    char,
                    span.start_s + piece.start_frame * seconds_per_frame,
                    span.start_s + piece.end_frame * seconds_per_frame,
                    piece.score,
                )
                for char, piece in pieces
            )
        result.append(AlignedWord(word, start_s, end_s, score, interpolated, char_times))
    return result


def _blank_id(vocabulary: Mapping[str, int]) -> int:
    return vocabulary.get("[pad]", vocabulary.get("<pad>", 0))


def _heard_words(
    path: list[TokenSpan], characters: Mapping[int, str], each_character: bool, offset_s: float, frame_s: float
) -> list[HeardWord]:
    """A greedy path's characters as words: split at the delimiter and at special tokens (<unk>, <s>), or one word
    per character."""
    heard: list[HeardWord] = []
    spelled: list[tuple[str, TokenSpan]] = []
    for token in [*path, None]:
        char = "" if token is None else characters.get(token.index, "")
        is_letter = len(char) == 1 and char != WORD_DELIMITER
        if token is not None and is_letter:
            spelled.append((char, token))
        if spelled and (each_character or not is_letter):
            start_s = offset_s + spelled[0][1].start_frame * frame_s
            end_s = offset_s + spelled[-1][1].end_frame * frame_s
            heard.append(HeardWord("".join(c for c, _ in spelled), start_s, end_s))
            spelled = []
    return heard
