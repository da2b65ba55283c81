"""NLTK Punkt data for `whisperx.align` (used only to compare against it): trained here, written as punkt_tab."""

from __future__ import annotations

from pathlib import Path

# Enough ordinary English for Punkt to learn a few sentence starters and abbreviations.
TRAINING_TEXT = (
    "Mr. Smith went to the market. He bought apples and bread. Dr. Jones met him there. "
    "They talked about the weather. It was a fine day. The sun was bright and warm. "
    "Mrs. Brown arrived at noon. She had walked from the station. Everyone sat down to eat. "
)


def write_punkt(nltk_data_dir: Path) -> None:
    from nltk.tokenize.punkt import PunktTrainer

    trainer = PunktTrainer()
    trainer.train(TRAINING_TEXT * 4, finalize=True)
    params = trainer.get_params()
    lang_dir = nltk_data_dir / "tokenizers" / "punkt_tab" / "english"
    lang_dir.mkdir(parents=True, exist_ok=True)
    (lang_dir / "collocations.tab").write_text("".join(f"{a}\t{b}\n" for a, b in sorted(params.collocations)))
    (lang_dir / "sent_starters.txt").write_text("".join(f"{word}\n" for word in sorted(params.sent_starters)))
    (lang_dir / "abbrev_types.txt").write_text("".join(f"{word}\n" for word in sorted(params.abbrev_types)))
    (lang_dir / "ortho_context.tab").write_text(
        "".join(f"{word}\t{flags}\n" for word, flags in sorted(params.ortho_context.items()))
    )
