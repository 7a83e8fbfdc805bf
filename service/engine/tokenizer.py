"""Words in, ids out: the deterministic tokenizer and the vocabulary of a language network.

Rules (docs/language-models.md has examples):
- the text is lower-cased (str.lower) and the typographic apostrophe ’ becomes ';
- a word is a run of letters and digits (any script), and may contain inner apostrophes:
  "don't", "neuron's" and "rock'n'roll" are one word each; a leading or trailing apostrophe is punctuation;
- every other visible character is punctuation; a run of the same punctuation character is one token
  ("...", "--", "!!"), so "end..." gives "end", "...". Underscore counts as punctuation;
- punctuation is kept as its own token (`punctuation="keep"`) or dropped (`"drop"`);
- white space only separates tokens.
The tokenizer never produces the special tokens: "<pad>" in a text reads as "<", "pad", ">".
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .errors import EngineError

PAD = "<pad>"  # context before the start of a text
UNK = "<unk>"  # a word that is not in the vocabulary
EOS = "</s>"  # the end of a text
SPECIAL_TOKENS = (PAD, UNK, EOS)
PUNCTUATION_SETTINGS = ("keep", "drop")

_WORD = r"[^\W_]+(?:'[^\W_]+)*"
_PUNCTUATION = r"([^\w\s]|_)\1*"
_TOKEN = re.compile(f"{_WORD}|{_PUNCTUATION}")
_PUNCTUATION_TOKEN = re.compile(_PUNCTUATION)

# How decode() puts punctuation back next to words.
_NO_SPACE_BEFORE = frozenset(".,;:!?)]}%")
_NO_SPACE_AFTER = frozenset("([{$#“‘¿¡")
_JOINERS = frozenset({"-", "/"})  # "well-known", "and/or"
_QUOTES = frozenset({'"', "'"})  # open and close in turn


def check_punctuation(punctuation: str, field: str = "punctuation") -> str:
    if punctuation not in PUNCTUATION_SETTINGS:
        raise EngineError(field, f"expected one of {list(PUNCTUATION_SETTINGS)}, got {punctuation!r}")
    return punctuation


def tokenize(text: str, punctuation: str = "keep") -> list[str]:
    check_punctuation(punctuation)
    if not isinstance(text, str):
        raise EngineError("text", f"expected a string, got {type(text).__name__}")
    text = text.lower().replace("’", "'")
    keep = punctuation == "keep"
    # group(1) is set only when the token is punctuation
    return [m.group(0) for m in _TOKEN.finditer(text) if keep or m.group(1) is None]


def is_punctuation(token: str) -> bool:
    return _PUNCTUATION_TOKEN.fullmatch(token) is not None


def join_tokens(tokens: Iterable[str]) -> str:
    """Tokens back to readable text: punctuation hugs the word it belongs to ("weight, bias.")."""
    joiner = TextJoiner()
    return "".join(joiner.add(token) for token in tokens)


class TextJoiner:
    """join_tokens one token at a time: add(token) returns the text the token adds (its leading
    space, if any, and the token), so the pieces of a text concatenate to join_tokens of it."""

    def __init__(self) -> None:
        self._glue_next = True  # no space before the first token
        self._open_quote = {q: False for q in _QUOTES}

    def piece(self, token: str) -> str:
        """What add(token) would return, without adding it."""
        return token if self._glue(token)[0] else " " + token

    def add(self, token: str) -> str:
        glue, self._glue_next = self._glue(token)
        if token in _QUOTES:
            self._open_quote[token] = not self._open_quote[token]
        return token if glue else " " + token

    def _glue(self, token: str) -> tuple[bool, bool]:
        """(no space before token, no space before the token after it)."""
        glue, glue_next = self._glue_next, False
        if token in _QUOTES:
            if self._open_quote[token]:
                glue = True  # closing quote hugs the word before it
            else:
                glue_next = True  # opening quote hugs the word after it
        elif token[0] in _NO_SPACE_BEFORE and is_punctuation(token):
            glue = True
        elif token[0] in _NO_SPACE_AFTER and is_punctuation(token):
            glue_next = True
        elif token in _JOINERS:
            glue = glue_next = True
        return glue, glue_next


def token_spans(text: str, punctuation: str = "keep") -> list[tuple[int, int]]:
    """Where each token of tokenize(text, punctuation) lies in text itself: (start, end) offsets.

    tokenize reads text.lower(); the few characters whose lower case is longer (\u0130 becomes two)
    are mapped back, so the spans are always offsets into the text as given.
    """
    check_punctuation(punctuation)
    lowered = text.lower().replace("’", "'")
    if len(lowered) == len(text):
        back = None
    else:  # position in lowered -> position in text
        back = [i for i, c in enumerate(text) for _ in c.lower()] + [len(text)]
    keep = punctuation == "keep"
    spans = [m.span() for m in _TOKEN.finditer(lowered) if keep or m.group(1) is None]
    return spans if back is None else [(back[a], back[b - 1] + 1) for a, b in spans]


class Vocabulary:
    """The words a language network knows, in id order. The special tokens are ordinary entries."""

    def __init__(self, words: Sequence[str]) -> None:
        if isinstance(words, str) or not isinstance(words, Sequence):
            raise EngineError("vocabulary", "expected a list of words")
        seen: dict[str, int] = {}
        for i, word in enumerate(words):
            if not isinstance(word, str) or not word or word != word.strip():
                raise EngineError(f"vocabulary[{i}]", f"expected a non-empty word without surrounding spaces, got {word!r}")
            if word in seen:
                raise EngineError(f"vocabulary[{i}]", f"duplicate word {word!r} (also at vocabulary[{seen[word]}])")
            seen[word] = i
        missing = [s for s in SPECIAL_TOKENS if s not in seen]
        if missing:
            raise EngineError("vocabulary", f"missing special token{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        self.words: tuple[str, ...] = tuple(words)
        self.index: dict[str, int] = seen
        self.pad_id = seen[PAD]
        self.unk_id = seen[UNK]
        self.eos_id = seen[EOS]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """(n,) int64; unknown tokens map to <unk>."""
        unk = self.unk_id
        return np.fromiter((self.index.get(t, unk) for t in tokens), dtype=np.int64, count=len(tokens))

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], max_size: int, min_count: int = 1) -> "Vocabulary":
        """Specials first (<pad>=0, <unk>=1, </s>=2), then words seen >= min_count times, most frequent first
        (ties alphabetical), until the vocabulary has max_size entries."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(list(SPECIAL_TOKENS) + ranked[: max(0, max_size - len(SPECIAL_TOKENS))])


@dataclass(frozen=True)
class Encoding:
    tokens: list[str]  # as read from the text (lower-cased); "</s>" last when add_end
    ids: np.ndarray  # (n,) int64
    unknown: np.ndarray  # (n,) bool: the token is not in the vocabulary and became <unk>


class Tokenizer:
    """tokenize + vocabulary lookup, and the way back."""

    def __init__(self, vocabulary: Vocabulary | Sequence[str], punctuation: str = "keep") -> None:
        self.vocabulary = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary(vocabulary)
        self.punctuation = check_punctuation(punctuation)

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.punctuation)

    def encode(self, text: str, add_end: bool = False) -> Encoding:
        tokens = self.tokenize(text)
        if add_end:
            tokens.append(EOS)
        ids = self.vocabulary.ids(tokens)
        unknown = np.fromiter((t not in self.vocabulary for t in tokens), dtype=bool, count=len(tokens))
        return Encoding(tokens, ids, unknown)

    def decode(self, ids: Iterable[int]) -> str:
        """ids -> text. <pad> is skipped, the text ends at </s>, <unk> shows as "<unk>"."""
        words = self.vocabulary.words
        tokens = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(words):
                raise EngineError("ids", f"id {i} is outside the vocabulary (0..{len(words) - 1})")
            if i == self.vocabulary.eos_id:
                break
            if i != self.vocabulary.pad_id:
                tokens.append(words[i])
        return join_tokens(tokens)
