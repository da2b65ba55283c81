"""Forced alignment of a known token sequence to CTC log-probabilities: the same path as `whisperx.align`, fast.

WhisperX (after torchaudio's tutorial) scores a path in which each token is emitted at one frame and every
other frame is blank, and finds the best one with a trellis walked frame by frame, then backtracked with a
tensor `.item()` per frame. This module runs the same recurrence with the same float32 operations in the same
order, vectorised over tokens and skipping the cells no path can have reached yet (they stay -inf there too),
and keeps only what the backtrack needs (one decision per cell and the last column) instead of the whole score
trellis; the backtrack then walks plain arrays. Same inputs, same path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TokenSpan:
    """Token `index` of the sequence holds frames [start_frame, end_frame); score = mean frame probability."""

    index: int
    start_frame: int
    end_frame: int
    score: float


def forced_align(log_probs: np.ndarray, tokens: list[int], blank_id: int) -> list[TokenSpan] | None:
    """Spans for every token, in order, or None when the tokens cannot fit the frames.

    `log_probs` is [frames, vocabulary] float32 log-softmax output; `tokens` are vocabulary ids.
    """
    emission = np.ascontiguousarray(log_probs, dtype=np.float32)
    frames, count = emission.shape[0], len(tokens)
    if count == 0 or frames == 0:
        return None
    token_ids = np.asarray(tokens, dtype=np.intp)
    blank = emission[:, blank_id].copy()

    # trellis[t, 0] is the all-blank prefix; WhisperX fills it with a float32 cumulative sum, then overwrites its
    # last `count` rows with +inf and row 0's token cells with -inf. Same here.
    first_column = np.empty(frames + 1, dtype=np.float32)
    first_column[0] = 0.0
    first_column[1:] = np.cumsum(blank, dtype=np.float32)
    first_column[max(frames + 1 - count, 0) :] = np.inf
    first_column[0] = 0.0 if frames + 1 > count else np.inf

    row = np.full(count + 1, -np.inf, dtype=np.float32)
    row[0] = first_column[0]
    changed = np.zeros((frames, count), dtype=np.bool_)  # changed[t, j-1]: cell (t+1, j) came from (t, j-1)
    last_column = np.empty(frames + 1, dtype=np.float32)
    last_column[0] = row[count]
    stay = np.empty(count, dtype=np.float32)
    change = np.empty(count, dtype=np.float32)
    scores = np.empty(count, dtype=np.float32)
    for t in range(frames):
        # Only tokens 1..t+1 can have been reached by frame t+1; the cells beyond stay -inf, as in WhisperX.
        width = min(count, t + 1)
        np.take(emission[t], token_ids[:width], out=scores[:width])
        np.add(row[1 : width + 1], blank[t], out=stay[:width])
        np.add(row[:width], scores[:width], out=change[:width])
        np.greater(change[:width], stay[:width], out=changed[t, :width])
        np.maximum(stay[:width], change[:width], out=row[1 : width + 1])
        row[0] = first_column[t + 1]
        last_column[t + 1] = row[count]
    return _backtrack(changed, last_column, emission, token_ids, blank_id)


def _backtrack(
    changed: np.ndarray, last_column: np.ndarray, emission: np.ndarray, tokens: np.ndarray, blank_id: int
) -> list[TokenSpan] | None:
    count = len(tokens)
    j = count
    t_start = int(np.argmax(last_column))
    token_of_frame: list[int] = []
    probability: list[float] = []
    frames_of: list[int] = []
    for t in range(t_start, 0, -1):
        moved = bool(changed[t - 1, j - 1])
        label = int(tokens[j - 1]) if moved else blank_id
        token_of_frame.append(j - 1)
        frames_of.append(t - 1)
        probability.append(float(emission[t - 1, label]))
        if moved:
            j -= 1
            if j == 0:
                break
    else:
        return None
    token_of_frame.reverse()
    frames_of.reverse()
    probabilities = np.exp(np.asarray(probability[::-1], dtype=np.float32))
    return _merge_repeats(token_of_frame, frames_of, probabilities)


def _merge_repeats(token_of_frame: list[int], frames: list[int], probabilities: np.ndarray) -> list[TokenSpan]:
    spans = []
    begin = 0
    for end in range(1, len(token_of_frame) + 1):
        if end == len(token_of_frame) or token_of_frame[end] != token_of_frame[begin]:
            spans.append(
                TokenSpan(
                    index=token_of_frame[begin],
                    start_frame=frames[begin],
                    end_frame=frames[end - 1] + 1,
                    score=float(probabilities[begin:end].mean()),
                )
            )
            begin = end
    return spans


def greedy_path(log_probs: np.ndarray, blank_id: int) -> list[TokenSpan]:
    """What the model hears without the text: the best token of each frame, repeats merged, blanks dropped.

    Each span's `index` is the token's vocabulary id; score = mean frame probability."""
    if len(log_probs) == 0:
        return []
    best = np.argmax(log_probs, axis=1)
    starts = np.flatnonzero(np.concatenate([[True], best[1:] != best[:-1]]))
    ends = np.append(starts[1:], len(best))
    chosen = np.exp(log_probs[np.arange(len(best)), best])
    return [
        TokenSpan(int(best[start]), int(start), int(end), float(chosen[start:end].mean()))
        for start, end in zip(starts, ends, strict=True)
        if best[start] != blank_id
    ]
