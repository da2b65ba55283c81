"""Peak memory of aligning a long eSpeak NG job: its speech in chunks of at most 30 s (cut at eSpeak's word events,
as the worker aligns it) against the whole audio as one span (the anchor).

    uv run python bench/long_alignment.py [--chars 1000 2000 20000]

Each case runs in a child process of its own, so its peak resident memory (`ru_maxrss` from `wait4`) is its alone:
eSpeak NG speaks the text, then wav2vec2 at the size of the released base model (random weights,
scripts/tiny_volume.py) aligns it with character timings, as `alignment.aligner: wav2vec2` with
`alignment.characters: true` does. On one span, the model's convolutions and attention grow with the audio (attention
with its square) and the CTC path with frames × characters; chunks keep all of it bounded. The one-span anchor is
skipped above 2,000 characters: at 5,000 it would need about 10 GB for attention alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SENTENCE = "The river ran past three old mills, and every mill had a story of its own to tell. "
ONE_SPAN_MAX_CHARS = 2_000


def long_text(chars: int) -> str:
    return (SENTENCE * (chars // len(SENTENCE) + 1))[:chars].rsplit(" ", 1)[0]


def run_case(model_dir: Path, chars: int, one_span: bool) -> dict[str, float]:
    """In the child: speak, align, and report the audio's length, the time taken and the memory before aligning."""
    import resource

    from alignment import TextSpan
    from alignment.wav2vec2 import MODEL_SAMPLE_RATE_HZ, Wav2Vec2Aligner, _align_words
    from tts import SynthesisOptions
    from tts.espeak import EspeakSynthesizer

    aligner = Wav2Vec2Aligner.load({"en": model_dir}, "cpu")
    speech = EspeakSynthesizer().synthesize(long_text(chars), None, SynthesisOptions())
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if one_span:  # as the worker aligned an eSpeak job before its speech came in chunks
        import torch
        import torchaudio.functional as AF

        model, vocabulary = aligner._models["en"]
        audio = AF.resample(torch.from_numpy(speech.samples), speech.sample_rate_hz, MODEL_SAMPLE_RATE_HZ)
        emission = aligner._log_probs(model, audio)
        whole = TextSpan(" ".join(chunk.text for chunk in speech.chunks), 0.0, speech.duration_s)
        words = _align_words(whole.text.split(), emission, vocabulary, whole, characters=True)
    else:
        rate = speech.sample_rate_hz
        spans = [TextSpan(c.text, c.start_sample / rate, c.end_sample / rate) for c in speech.chunks]
        words = aligner.align(speech.samples, rate, spans, "en", characters=True)
    assert len(words) == len(long_text(chars).split())
    return {
        "audio_s": round(speech.duration_s, 1),
        "chunks": 1 if one_span else len(speech.chunks),
        "align_s": round(time.perf_counter() - started, 2),
        "before_align_mib": round(before_kib / 1024),
        "longest_chunk_s": round(max(c.end_sample - c.start_sample for c in speech.chunks) / speech.sample_rate_hz, 1),
    }


def measure(model_dir: Path, chars: int, one_span: bool) -> dict[str, float]:
    """A child process runs the case; its peak RSS comes from the kernel as it is reaped."""
    command = [sys.executable, __file__, "--child", str(model_dir), str(chars), "one-span" if one_span else "chunks"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)  # its one line of output fits the pipe's buffer
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.stdout is not None
    output = child.stdout.read()
    if child.returncode != 0:
        raise RuntimeError(f"the case of {chars} characters (one span: {one_span}) failed")
    return {**json.loads(output), "peak_mib": round(usage.ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, nargs="+", default=[1_000, 2_000, 20_000])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model_dir, chars, mode = args.child
        print(json.dumps(run_case(Path(model_dir), int(chars), mode == "one-span")))
        return

    from scripts.tiny_volume import write_wav2vec2

    with tempfile.TemporaryDirectory() as volume:
        model_dir = Path(volume) / "align" / "en"
        write_wav2vec2(model_dir, full_size=True)
        print("| characters | audio | aligned as | longest span | peak RSS | of it before aligning | align time |")
        print("|---|---|---|---|---|---|---|")
        for chars in args.chars:
            for one_span in (True, False):
                if one_span and chars > ONE_SPAN_MAX_CHARS:
                    print(f"| {chars:,} | | one span | | skipped: more memory than this machine has | | |")
                    continue
                row = measure(model_dir, chars, one_span)
                shape = "one span" if one_span else f"{row['chunks']} chunks"
                longest = row["audio_s"] if one_span else row["longest_chunk_s"]
                print(
                    f"| {chars:,} | {row['audio_s']} s | {shape} | {longest} s | {row['peak_mib']:,} MiB "
                    f"| {row['before_align_mib']:,} MiB | {row['align_s']} s |"
                )


if __name__ == "__main__":
    main()
