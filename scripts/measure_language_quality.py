"""Train a language network with the default settings on a text file and print how good it is.

    OPENBLAS_NUM_THREADS=2 python scripts/measure_language_quality.py BOOK.txt [--words N] [--set name=value ...]

Prints the train and validation loss and perplexity of the network, the unigram and bigram baselines'
validation perplexities (same vocabulary, same validation split) and the time taken.
docs/language-models.md says which text the published figures come from and how to get it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.engine.training import TrainingSettings, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", type=Path, help="a plain UTF-8 text file")
    parser.add_argument("--words", type=int, default=None, help="use only the first N white-space separated words")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a training setting; VALUE is JSON, e.g. --set hidden_sizes=[128] --set epochs=3")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()

    text = args.text.read_text(encoding="utf-8")
    if args.words:
        text = " ".join(text.split()[: args.words])
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = json.loads(value)
    settings = TrainingSettings.from_dict(overrides)

    started_cpu = time.process_time()

    def progress(step: int, total: int, loss: float) -> None:
        if not args.quiet:
            print(f"  step {step}/{total}  minibatch loss {loss:.3f}", file=sys.stderr, flush=True)

    model, report = train(text, settings, on_progress=progress)
    cpu = time.process_time() - started_cpu

    print(f"text: {args.text.name}, {len(text.split())} words, {report.training_tokens + report.validation_tokens} tokens")
    print(f"settings: {json.dumps(overrides) if overrides else 'defaults'}")
    print(f"vocabulary: {report.vocabulary_size} words; validation unknown rate {report.validation_unknown_rate:.3f}")
    print(f"parameters: {report.parameter_count}")
    print(f"split: {report.training_tokens} training / {report.validation_tokens} validation tokens")
    print(f"training: {report.steps} steps, {report.epochs:.1f} epochs, {report.seconds:.1f} s wall, {cpu:.1f} s CPU")
    print(f"train loss:       {report.train_loss:.3f} nats  (perplexity {report.train_perplexity:.1f})")
    print(f"validation loss:  {report.validation_loss:.3f} nats  (perplexity {report.validation_perplexity:.1f})")
    print(f"unigram baseline: perplexity {report.unigram_perplexity:.1f}  (add-one)")
    print(f"bigram baseline:  perplexity {report.bigram_perplexity:.1f}  (interpolated Kneser-Ney)")
    verdict = (
        "beats both baselines"
        if report.validation_perplexity <= report.bigram_perplexity
        else "beats the unigram only" if report.validation_perplexity < report.unigram_perplexity else "beats neither"
    )
    print(f"verdict: the network {verdict}")
    sample = model.generate("it is a truth", max_words=25, temperature=0.8, seed=1)
    print(f"sample: {sample.text}")


if __name__ == "__main__":
    main()
