"""Captions cut by cost against the greedy builder before them, both scored by the caption checker.

    uv run --frozen python bench/captions.py [--corpus bench/captions_corpus.txt] [--runs 5] [--speed 1.0]
    uv run --frozen --with stable-ts==2.19.1 python bench/captions.py     # stable-ts's regroup as well

Every passage of the corpus (written for this project: prose, news, dialogue, lists, numbers, questions, short
and long sentences) is spoken offline by eSpeak NG, whose WORD events time each word. The same timed words are
cut into cues by the greedy builder (bench/greedy_cues.py, the anchor) and by `subtitles.build_cues`, with the
default layout and with the shorts preset on a vertical 1080x1920 frame with `max_words_per_cue=3`; every cue
list is scored by `subtitles.checker`. It prints a markdown table side by side, then how long each builder takes
to cut a text of 20,000 characters or more (median of `--runs`). `--speed` scales eSpeak NG's speaking rate
(its default, about 190 words a minute here, is brisker than most narration); the table counts the cues whose own
speech, first word to last, is faster than the reading speed: no cue shown while its words are said can be read
at that speed, however the text is cut.

stable-ts, the peer with the most complete regrouping, is not a dependency of the project: `uv pip install
--dry-run stable-ts` resolves against this lock but adds openai-whisper 20250625 (built from source), tiktoken,
more-itertools and stable-ts 2.19.1 itself, and importing it imports torch and Whisper (about 13 s), all to
regroup words. When it is importable (the second command above, which leaves the lock alone), its default
`regroup` followed by `split_by_length` into cues and, with `newline=True`, into lines joins the comparison;
its cues are placed on screen by `subtitles.cues.place_cues`, so only the cutting differs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.greedy_cues import build_cues as build_greedy_cues  # noqa: E402
from subtitles import PRESETS, Cue, SubtitleLayout, TimedWord, build_cues  # noqa: E402
from subtitles.checker import RULES, TIMING_RULES, check_captions  # noqa: E402
from subtitles.cues import line_width_limit, place_cues, reading_characters, reading_speed_for  # noqa: E402

CORPUS = ROOT / "bench" / "captions_corpus.txt"
LONG_TEXT_CHARS = 20_000
Builder = Callable[[Sequence[TimedWord], SubtitleLayout, float | None], list[Cue]]
BUILDERS: dict[str, Builder] = {"greedy baseline": build_greedy_cues, "build_cues": build_cues}
SOFT_RULES = [rule for rule, (hard, _) in RULES.items() if not hard]
LAYOUT_RULES = ("break_after_function_word", "break_misses_punctuation", "line_shape", "one_line_fits")
GROUPING_RULES = ("one_word_cue", "sentence_split")
LAYOUTS = {
    "default": SubtitleLayout(),
    "shorts, 3 words": SubtitleLayout(style=PRESETS["shorts"], resolution=(1080, 1920), max_words_per_cue=3),
}


@dataclass(frozen=True)
class Passage:
    text: str
    words: list[TimedWord]
    duration_s: float


@dataclass
class Tally:
    cues: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    said_too_fast: int = 0  # cues whose own speech is faster than the reading speed

    def add(self, cues: list[Cue], layout: SubtitleLayout, passage: Passage) -> None:
        assert [word for cue in cues for word in cue.words] == passage.words, "a word was lost or moved"
        report = check_captions(cues, layout, audio_duration_s=passage.duration_s)
        self.cues += report.cue_count
        self.by_rule.update(violation.rule for violation in report.violations)
        limit = reading_speed_for(layout.language)
        for cue in cues:
            said_s = cue.words[-1].end_s - cue.words[0].start_s
            self.said_too_fast += said_s > 0 and reading_characters(cue.words) / said_s > limit

    def hard(self) -> int:
        return sum(count for rule, count in self.by_rule.items() if RULES[rule][0])

    def per_100_said_too_fast(self) -> float:
        return 100 * self.said_too_fast / max(1, self.cues)

    def per_100_cues(self, rules: Collection[str]) -> float:
        return 100 * sum(self.by_rule[rule] for rule in rules) / max(1, self.cues)


def stable_ts_builder() -> Builder | None:
    """stable-ts's cutting, if it is installed: its default regroup, then cues and lines by length."""
    try:
        from stable_whisper.result import WhisperResult  # type: ignore[import-not-found]
    except ImportError:
        return None

    def build(words: Sequence[TimedWord], layout: SubtitleLayout, audio_duration_s: float | None) -> list[Cue]:
        if not words:
            return []
        width = line_width_limit(layout)
        spoken = [
            {"word": (" " if index else "") + word.text, "start": word.start_s, "end": word.end_s}
            for index, word in enumerate(words)
        ]
        result = WhisperResult([spoken])
        result.regroup(True)  # its default algorithm
        result.split_by_duration(layout.max_duration_s)
        result.split_by_length(max_chars=layout.max_lines * width, max_words=layout.max_words_per_cue)
        result.split_by_length(max_chars=width, newline=True)  # lines inside each cue
        groups: list[list[list[TimedWord]]] = []
        remaining = iter(words)
        for segment in result.segments:
            groups.append([[]])
            for stable_word in segment.words:
                if stable_word.word.lstrip(" ").startswith("\n") and groups[-1][-1]:
                    groups[-1].append([])
                groups[-1][-1].append(next(remaining))
                if stable_word.word.rstrip(" ").endswith("\n"):
                    groups[-1].append([])
            groups[-1] = [line for line in groups[-1] if line]
        return place_cues(groups, layout, audio_duration_s)

    return build


def read_passages(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def speak(texts: list[str], speed: float = 1.0) -> list[Passage]:
    """Each text spoken by eSpeak NG at `speed` times its rate, its words timed by the library's own WORD events."""
    from tts import SynthesisOptions
    from tts.espeak import EspeakSynthesizer

    synthesizer = EspeakSynthesizer()
    passages = []
    for text in texts:
        speech = synthesizer.synthesize(text, None, SynthesisOptions(speed=speed))
        words = [TimedWord(word.text, word.start_s, word.end_s) for word in speech.word_times or ()]
        passages.append(Passage(text, words, speech.duration_s))
    return passages


def long_text(passages: list[Passage]) -> Passage:
    """The passages one after another, 0.5 s apart, repeated until the text has LONG_TEXT_CHARS characters."""
    words: list[TimedWord] = []
    texts: list[str] = []
    offset_s = 0.0
    while sum(len(text) + 1 for text in texts) < LONG_TEXT_CHARS:
        for passage in passages:
            words += [TimedWord(w.text, w.start_s + offset_s, w.end_s + offset_s) for w in passage.words]
            texts.append(passage.text)
            offset_s += passage.duration_s + 0.5
    return Passage(" ".join(texts), words, offset_s)


def median_seconds(builder: Builder, layout: SubtitleLayout, passage: Passage, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        builder(passage.words, layout, passage.duration_s)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def table(tallies: dict[tuple[str, str], Tally]) -> list[str]:
    columns = list(tallies)
    header = "| | " + " | ".join(f"{layout}: {builder}" for layout, builder in columns) + " |"
    rows = [header, "|---" * (len(columns) + 1) + "|"]

    def row(label: str, values: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(values) + " |")

    def per_100(rules: Collection[str], bold: bool = False) -> list[str]:
        mark = "**" if bold else ""
        return [f"{mark}{tallies[column].per_100_cues(rules):.1f}{mark}" for column in columns]

    row("cues", [f"{tallies[column].cues:,}" for column in columns])
    row("hard violations (goal 0)", [f"**{tallies[column].hard()}**" for column in columns])
    row("soft exceptions per 100 cues (goal ≤ 5)", per_100(SOFT_RULES, bold=True))
    row("… line breaks and shape", per_100(LAYOUT_RULES))
    row("… one-word cues, sentences split", per_100(GROUPING_RULES))
    row("… timing: minimum duration, reading speed, gap", per_100(TIMING_RULES))
    row("… a word wider than a line", per_100(["word_too_wide"]))
    row(
        "cues said faster than they can be read",
        [f"{tally.said_too_fast} ({tally.per_100_said_too_fast():.1f} per 100)" for tally in tallies.values()],
    )
    row("one-word cues", [str(tallies[column].by_rule["one_word_cue"]) for column in columns])
    row(
        "breaks after a function word",
        [str(tallies[column].by_rule["break_after_function_word"]) for column in columns],
    )
    for rule, (hard, _) in RULES.items():
        counts = [tallies[column].by_rule[rule] for column in columns]
        if any(counts) and rule not in ("one_word_cue", "break_after_function_word"):
            row(f"`{rule}` ({'hard' if hard else 'soft'})", [str(count) for count in counts])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--speed", type=float, default=1.0, help="eSpeak NG's speaking rate, as a multiple")
    args = parser.parse_args()
    texts = read_passages(args.corpus)
    started = time.perf_counter()
    passages = speak(texts, args.speed)
    words = sum(len(passage.words) for passage in passages)
    minutes = sum(p.duration_s for p in passages) / 60
    print(f"{len(passages)} passages, {words:,} words, {minutes:.1f} min of speech ({words / minutes:.0f} words a "
          f"minute, eSpeak NG at speed {args.speed:g}, {time.perf_counter() - started:.1f} s)\n")  # fmt: skip
    builders = dict(BUILDERS)
    stable_ts = stable_ts_builder()
    if stable_ts is not None:
        builders["stable-ts 2.19.1"] = stable_ts
    tallies: dict[tuple[str, str], Tally] = {}
    for layout_name, layout in LAYOUTS.items():
        for builder_name, builder in builders.items():
            tally = tallies.setdefault((layout_name, builder_name), Tally())
            for passage in passages:
                tally.add(builder(passage.words, layout, passage.duration_s), layout, passage)
    print("\n".join(table(tallies)))
    text = long_text(passages)
    print(f"\nCutting one text of {len(text.text):,} characters ({len(text.words):,} words), median of {args.runs}:")
    for layout_name, layout in LAYOUTS.items():
        timings = [
            f"{name} {median_seconds(builder, layout, text, args.runs) * 1000:.0f} ms"
            for name, builder in builders.items()
        ]
        print(f"- {layout_name}: " + ", ".join(timings))


if __name__ == "__main__":
    main()
