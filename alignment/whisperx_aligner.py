"""WhisperX forced alignment of known text, one segment per TTS chunk, models loaded from the volume."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from alignment import AlignedWord, TextSpan, fill_missing_times

log = logging.getLogger(__name__)

ALIGN_SAMPLE_RATE_HZ = 16_000  # wav2vec2's rate, and what whisperx.align assumes


class WhisperXAligner:
    """Holds one wav2vec2 CTC model per language, loaded once."""

    def __init__(self, models: Mapping[str, tuple[object, dict]], device: str) -> None:
        self._models = dict(models)
        self._device = device
        self.name = "whisperx"

    @classmethod
    def load(cls, model_dirs: Mapping[str, Path], nltk_data_dir: Path, device: str) -> WhisperXAligner:
        """Load each language's Hugging Face wav2vec2 folder; point NLTK at the volume's Punkt data."""
        import nltk
        import whisperx

        # WhisperX's own warnings quote the segment text, which is the caller's: keep job text out of the log.
        logging.getLogger("whisperx").setLevel(logging.ERROR)
        if str(nltk_data_dir) not in nltk.data.path:
            nltk.data.path.insert(0, str(nltk_data_dir))
        models = {}
        for language, model_dir in model_dirs.items():
            models[language] = whisperx.load_align_model(
                language, device, model_name=str(model_dir), model_cache_only=True
            )
        return cls(models, device)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._models)

    def align(
        self, samples: np.ndarray, sample_rate_hz: int, spans: Sequence[TextSpan], language: str
    ) -> list[AlignedWord]:
        import torch
        import torchaudio.functional as AF
        import whisperx

        model, metadata = self._models[language]
        audio = AF.resample(torch.from_numpy(samples), sample_rate_hz, ALIGN_SAMPLE_RATE_HZ).numpy()
        aligned: list[AlignedWord] = []
        for span in spans:
            words = span.text.split()
            if not words:
                continue
            segment = {"text": " ".join(words), "start": span.start_s, "end": span.end_s}
            result = whisperx.align([segment], model, metadata, audio, self._device)
            found = [word for seg in result["segments"] for word in seg.get("words", [])]
            if len(found) != len(words):
                # WhisperX splits on single spaces, as we joined; a mismatch means it dropped the segment.
                log.warning("alignment returned %d words for %d; interpolating the chunk", len(found), len(words))
                found = [{} for _ in words]
            times = fill_missing_times(words, [w.get("start") for w in found], [w.get("end") for w in found], span)
            for word, info, (start_s, end_s, interpolated) in zip(words, found, times, strict=True):
                score = info.get("score")
                aligned.append(
                    AlignedWord(
                        text=word,
                        start_s=start_s,
                        end_s=end_s,
                        score=None if interpolated or score is None else float(score),
                        interpolated=interpolated,
                    )
                )
        return aligned
