"""demo-english: a word-level language network trained from *Pride and Prejudice* (texts/NOTICE.md).

The service enqueues its training as an ordinary training job when it seeds an empty store, so a
first start stays fast and the job shows its progress like any other. One text per paragraph (line
breaks folded), so the network also learns how a text begins; the training settings are the
documented defaults with a fixed seed.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..engine.training import TrainingSettings

DEMO_ENGLISH_NAME = "demo-english"
DEMO_ENGLISH_DESCRIPTION = (
    "A Bengio-style neural language model of everyday English, trained on Jane Austen's Pride and Prejudice "
    "(public domain): it reads the last four words, looks up their embeddings, and its output layer scores "
    "each of its 3,786 words as the next one. Try: 'i do not' or 'thank you very'."
)
TEXT_PATH = Path(__file__).with_name("texts") / "pride-and-prejudice.txt"
DEMO_ENGLISH_SETTINGS = TrainingSettings(seed=1813)


def demo_english_texts() -> list[str]:
    """The novel, one text per paragraph, each paragraph's line breaks folded into spaces."""
    text = TEXT_PATH.read_text(encoding="utf-8")
    return [" ".join(paragraph.split()) for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip()]
