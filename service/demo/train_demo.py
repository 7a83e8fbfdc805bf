"""Train the demo language network on corpus.txt, deterministically.

    python -m service.demo.train_demo

Each paragraph of the corpus is one text (read from <pad> on, ending in </s>). Training is small enough
(about a second on 2 cores) that the service builds the model when it seeds the demo, so no weights file
is committed.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..engine.language import LanguageModel
from ..engine.training import TrainingReport, TrainingSettings, train

CORPUS_PATH = Path(__file__).with_name("corpus.txt")

DEMO_SETTINGS = TrainingSettings(
    max_vocabulary_size=1_000,
    min_count=1,
    context_size=5,
    embedding_size=32,
    hidden_sizes=(64,),
    activation="tanh",
    learning_rate=0.01,
    weight_decay=0.7,
    dropout=0.2,
    epochs=12,
    batch_size=64,
    validation_fraction=0.1,
    seed=2003,  # Bengio et al.
)


def demo_texts() -> list[str]:
    """The corpus, one text per paragraph."""
    text = CORPUS_PATH.read_text(encoding="utf-8")
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def build_demo_language_model() -> tuple[LanguageModel, TrainingReport]:
    return train(demo_texts(), DEMO_SETTINGS)


def main() -> None:
    model, report = build_demo_language_model()
    print(f"vocabulary {report.vocabulary_size} words, {report.parameter_count} parameters, "
          f"{report.training_tokens} training / {report.validation_tokens} validation tokens")
    print(f"{report.steps} steps ({report.epochs:.1f} epochs) in {report.seconds:.2f} s")
    print(f"train loss {report.train_loss:.3f} (perplexity {report.train_perplexity:.1f})")
    print(f"validation loss {report.validation_loss:.3f}, perplexity {report.validation_perplexity:.1f}; "
          f"unigram {report.unigram_perplexity:.1f}, bigram {report.bigram_perplexity:.1f}")
    for prompt in ("a neuron multiplies each input by its", "the output layer scores every", "softmax turns the"):
        words = ", ".join(f"{w.word} {w.probability:.2f}" for w in model.predict(prompt, top_k=3).words)
        print(f"{prompt!r} -> {words}")
    print(model.generate("the neuron", max_words=30, temperature=0).text)


if __name__ == "__main__":
    main()
