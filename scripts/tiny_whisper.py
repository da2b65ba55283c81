"""Build a tiny random-weight Whisper model in faster-whisper's CTranslate2 layout, fully offline.

    uv run python scripts/tiny_whisper.py /tmp/tiny-whisper
    python -c "from faster_whisper import WhisperModel; WhisperModel('/tmp/tiny-whisper', device='cpu')"

Everything goes through the libraries' real classes: a `transformers.WhisperForConditionalGeneration` (d_model 64,
two encoder and two decoder layers, 80 mel bins) with random weights, a byte-level BPE `tokenizers.Tokenizer` laid
out like Whisper's multilingual one, and `ctranslate2.converters.TransformersConverter`. The folder it writes holds
model.bin, config.json, vocabulary.json, tokenizer.json and preprocessor_config.json, which
`faster_whisper.WhisperModel(path)` loads without touching the Hugging Face hub.

The vocabulary is laid out as large-v3's (51866 entries): ids 0-255 are the byte symbols, 256-50255 BPE merges,
50256 the empty string (CTranslate2 4.8 takes a "" token to mean "multilingual"; older releases test the size,
>= 51865, which this meets too), then <|endoftext|>, <|startoftranscript|>, the 100 language tokens of
faster-whisper's list, <|translate|>, <|transcribe|>, <|startoflm|>, <|startofprev|>, <|nocaptions|>,
<|notimestamps|> and the 1501 timestamps <|0.00|> ... <|30.00|>. So language detection works, and `language` may
be left out.

Random weights make gibberish that may never stop, so the output head is set by hand (see `_shape_output_head`):
whatever the audio, the decoder says " hello" once and then <|endoftext|>, puts "en" far ahead of the other
languages, and gives <|nocaptions|> no weight. The encoder keeps its random weights, the decoder layers too but for
the one residual dim they are kept from writing to. Recognition is not the point: the transcript is always " hello".
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

N_MELS = 80
SAMPLING_RATE = 16000
VOCAB_SIZE = 51866  # large-v3's: 50257 text tokens, 108 special tokens, 1501 timestamps
N_TIMESTAMPS = 1501  # <|0.00|> ... <|30.00|>
TINY_ARCH = {
    "d_model": 64,
    "encoder_layers": 2,
    "encoder_attention_heads": 2,
    "decoder_layers": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 128,
    "decoder_ffn_dim": 128,
    "max_source_positions": 1500,
    "max_target_positions": 448,
}
# What the model transcribes any audio as: the BPE token "Ġhello" (a space, then "hello").
TRANSCRIPT_PIECE = "Ġhello"
MULTILINGUAL_MARKER = ""
TRANSCRIPT = " hello"
_WORD_MERGES = [("Ġ", "h"), ("e", "l"), ("l", "o"), ("Ġh", "el"), ("Ġhel", "lo")]
_TASK_TOKENS = ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>"]
# Output head (see `_shape_output_head`): the dims it uses and the logits it aims for.
_BIAS_DIM, _MARK_DIM = 0, 1
_WORD_LOGIT, _LANGUAGE_LOGIT, _TIMESTAMP_LOGIT = 20.0, 10.0, 10.0
_WORD_MARK, _EOT_MARK = 10.0, -5.0


def language_tokens() -> list[str]:
    """<|af|>, <|am|>, ...: one per language faster-whisper knows, in its order (large-v3's 100)."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return [f"<|{code}|>" for code in _LANGUAGE_CODES]


def special_tokens() -> list[str]:
    """Whisper's special tokens after the text vocabulary, in id order (timestamps excluded)."""
    return ["<|endoftext|>", "<|startoftranscript|>", *language_tokens(), *_TASK_TOKENS, "<|notimestamps|>"]


def timestamp_tokens() -> list[str]:
    return ["<|%.2f|>" % (i * 0.02) for i in range(N_TIMESTAMPS)]


def build_tokenizer():
    """A byte-level BPE `tokenizers.Tokenizer` with Whisper's special tokens, `VOCAB_SIZE` entries in all."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    n_text = VOCAB_SIZE - len(special_tokens()) - N_TIMESTAMPS
    symbols = bytes_to_unicode()  # byte -> printable symbol, GPT-2's byte-level alphabet
    vocab = {symbols[b]: b for b in range(256)}
    merges: list[tuple[str, str]] = []

    def add_merge(left: str, right: str) -> None:
        if left + right not in vocab:
            vocab[left + right] = len(vocab)
            merges.append((left, right))

    for left, right in _WORD_MERGES:
        add_merge(left, right)
    # Fill the rest with pairs of byte symbols, the commonest characters first; the ranking makes the pairs
    # of letters and spaces come before the pairs of rare bytes.
    common = " etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ0123456789.,'-?!"
    ranked = [symbols[ord(c)] for c in common] + [symbols[b] for b in range(256) if chr(b) not in common]
    rank = {symbol: i for i, symbol in enumerate(ranked)}
    pairs = sorted(
        ((a, b) for a in ranked for b in ranked), key=lambda p: (max(rank[p[0]], rank[p[1]]), rank[p[0]], rank[p[1]])
    )
    for left, right in pairs:
        if len(vocab) >= n_text - 1:
            break
        add_merge(left, right)
    # The last text token is the empty string, as in Whisper's multilingual vocabulary: CTranslate2 4.x calls a
    # Whisper model multilingual (language tokens, detect_language) when its vocabulary has "" in it.
    vocab[MULTILINGUAL_MARKER] = len(vocab)

    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special_tokens()])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in timestamp_tokens()])
    assert tokenizer.get_vocab_size(with_added_tokens=True) == VOCAB_SIZE  # noqa: S101
    assert tokenizer.token_to_id("<|endoftext|>") == n_text  # noqa: S101
    return tokenizer


def build_tiny_faster_whisper(dest: Path, seed: int = 0) -> Path:
    """Write a tiny random-weight Whisper model for `faster_whisper.WhisperModel` into `dest`; return `dest`.

    `dest` is created if needed; the model's files in it are overwritten, anything else there is left alone.
    The same `seed` gives byte-identical files.
    """
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="tiny-whisper-") as scratch:
        hf_dir, ct2_dir = Path(scratch) / "transformers", Path(scratch) / "ctranslate2"
        hf_dir.mkdir()
        _write_transformers_model(hf_dir, seed)
        _convert(hf_dir, ct2_dir)  # the converter deletes its output folder first: never point it at `dest`
        dest.mkdir(parents=True, exist_ok=True)
        for path in sorted(ct2_dir.iterdir()):
            shutil.copyfile(path, dest / path.name)
    return dest


def _write_transformers_model(hf_dir: Path, seed: int) -> None:
    """Save the tokenizer, feature extractor and random-weight model where `TransformersConverter` reads them."""
    import torch
    from transformers import (
        GenerationConfig,
        PreTrainedTokenizerFast,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
    )

    tokenizer = build_tokenizer()
    tokenizer.save(str(hf_dir / "tokenizer.json"))  # the file faster-whisper reads, copied as it is
    ids = {token: tokenizer.token_to_id(token) for token in special_tokens()}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    # For the converter only (it loads a tokenizer with AutoTokenizer); tokenizer_config.json names this class.
    hf_tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(hf_dir / "tokenizer.json"),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    hf_tokenizer.save_pretrained(str(hf_dir))
    tokenizer.save(str(hf_dir / "tokenizer.json"))  # keep the exact file, not save_pretrained's rewrite
    WhisperFeatureExtractor(feature_size=N_MELS, sampling_rate=SAMPLING_RATE).save_pretrained(str(hf_dir))

    begin_suppress = [tokenizer.token_to_id("Ġ"), eot]  # Whisper's: no blank and no end as the first token
    config = WhisperConfig(
        vocab_size=VOCAB_SIZE,
        num_mel_bins=N_MELS,
        **TINY_ARCH,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
        suppress_tokens=None,  # the generation config below holds these (and the converter reads them there)
        begin_suppress_tokens=None,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    _shape_output_head(model, tokenizer)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=TINY_ARCH["max_target_positions"],
        suppress_tokens=[],
        begin_suppress_tokens=begin_suppress,
        is_multilingual=True,
        lang_to_id={token: ids[token] for token in language_tokens()},
        task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"],
        alignment_heads=[[TINY_ARCH["decoder_layers"] - 1, h] for h in range(TINY_ARCH["decoder_attention_heads"])],
    )
    model.save_pretrained(str(hf_dir))


def _shape_output_head(model, tokenizer) -> None:
    """Make greedy decoding say " hello" once and then <|endoftext|>, whatever the audio.

    Whisper ties the output projection to the token embeddings E, so logit_j = E[j] . LN(h) with LN the decoder's
    final layer norm and h the residual stream at the last position. The final layer norm gets weight 0 except
    -1 on a "mark" dim m and bias 1 on a "bias" dim b; so logit_j = E[j, b] - xhat_m * E[j, m], with xhat_m the
    normalised value of h in dim m. Nothing random writes into dim m (the decoder layers' output rows for m and
    the positional embeddings are zeroed), so h_m is the input token's own E[., m]: 10 for "Ġhello", 0 for every
    token fed to the decoder otherwise (the sequence never continues past <|endoftext|>, so its -5 is never read).
    After "Ġhello", h_m stands out of a residual of ~0.1 and xhat_m is ~+8; after any other token it is ~0.
    E[j, b] and E[j, m] are 0 for all tokens but four:

    - "Ġhello": E[b] = 20, E[m] = 10 -> logit ~20 after other tokens, ~-60 after itself;
    - <|endoftext|>: E[m] = -5 -> logit ~0 after other tokens, ~+40 after "Ġhello";
    - <|en|>: E[b] = 10 -> "en" wins language detection (~99.5 % among the languages) and stays below "Ġhello";
    - <|0.00|>: E[b] = 10 -> the first timestamp is near-certain where timestamps are the only choice.

    So without timestamps: <|notimestamps|> -> " hello" -> <|endoftext|> (suppress_blank forbids <|endoftext|> as
    the first token anyway). With timestamps: <|0.00|> (only timestamps are allowed first) -> " hello" (a lone
    timestamp must be followed by text) -> <|endoftext|>. <|nocaptions|> has logit 0 against 20, so no_speech_prob
    is ~0 and no segment is skipped; every pick is near-certain, so avg_logprob is ~0 and no temperature fallback
    happens. CTranslate2 quantizes these matrices per row, so int8 keeps the values.
    """
    import torch

    decoder = model.model.decoder
    embeddings = decoder.embed_tokens.weight  # tied with model.proj_out.weight
    word = tokenizer.token_to_id(TRANSCRIPT_PIECE)
    eot = tokenizer.token_to_id("<|endoftext|>")
    english = tokenizer.token_to_id("<|en|>")
    first_timestamp = tokenizer.token_to_id("<|0.00|>")
    with torch.no_grad():
        embeddings[:, [_BIAS_DIM, _MARK_DIM]] = 0.0
        embeddings[word, _BIAS_DIM], embeddings[word, _MARK_DIM] = _WORD_LOGIT, _WORD_MARK
        embeddings[eot, _MARK_DIM] = _EOT_MARK
        embeddings[english, _BIAS_DIM] = _LANGUAGE_LOGIT
        embeddings[first_timestamp, _BIAS_DIM] = _TIMESTAMP_LOGIT
        decoder.embed_positions.weight[:, _MARK_DIM] = 0.0
        for layer in decoder.layers:
            for linear in (layer.self_attn.out_proj, layer.encoder_attn.out_proj, layer.fc2):
                linear.weight[_MARK_DIM, :] = 0.0
                linear.bias[_MARK_DIM] = 0.0
        decoder.layer_norm.weight.zero_()
        decoder.layer_norm.weight[_MARK_DIM] = -1.0
        decoder.layer_norm.bias.zero_()
        decoder.layer_norm.bias[_BIAS_DIM] = 1.0


def _convert(hf_dir: Path, dest: Path) -> None:
    from ctranslate2.converters import TransformersConverter

    converter = TransformersConverter(str(hf_dir), copy_files=["tokenizer.json", "preprocessor_config.json"])
    converter.convert(str(dest), quantization="int8", force=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path, help="folder to write the CTranslate2 model into (created if needed)")
    parser.add_argument("--seed", type=int, default=0, help="torch seed for the random weights (default: 0)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    dest = build_tiny_faster_whisper(args.dest, seed=args.seed)
    files = ", ".join(sorted(p.name for p in dest.iterdir()))
    print(f"tiny random-weight faster-whisper model written to {dest}: {files}")
    print(f"it transcribes any audio as {TRANSCRIPT.strip()!r}: the plumbing is real, the recognition is not")
    return 0


if __name__ == "__main__":
    sys.exit(main())
