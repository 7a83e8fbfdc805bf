import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from service.engine.errors import EngineError
from service.engine.tokenizer import (
    EOS,
    PAD,
    SPECIAL_TOKENS,
    UNK,
    TextJoiner,
    Tokenizer,
    is_punctuation,
    token_spans,
    Vocabulary,
    join_tokens,
    tokenize,
)


def test_lower_cases_and_splits_punctuation():
    assert tokenize("The Neuron fires.") == ["the", "neuron", "fires", "."]


def test_inner_apostrophes_stay_in_the_word():
    assert tokenize("Don't touch the neuron's weights") == ["don't", "touch", "the", "neuron's", "weights"]
    assert tokenize("rock'n'roll") == ["rock'n'roll"]


def test_typographic_apostrophe_is_the_same_word():
    assert tokenize("Don’t") == ["don't"]


def test_leading_and_trailing_apostrophes_are_punctuation():
    assert tokenize("'tis the students' books") == ["'", "tis", "the", "students", "'", "books"]


def test_digits_are_word_characters():
    assert tokenize("layer2 has 128 neurons") == ["layer2", "has", "128", "neurons"]
    assert tokenize("3.5") == ["3", ".", "5"]


def test_runs_of_one_punctuation_character_are_one_token():
    assert tokenize("wait... what?! -- no") == ["wait", "...", "what", "?", "!", "--", "no"]


def test_dropping_punctuation():
    assert tokenize('"Hello, world!" (she said)', punctuation="drop") == ["hello", "world", "she", "said"]


def test_unicode_letters_are_words():
    assert tokenize("Café NAÏVE") == ["café", "naïve"]


def test_specials_cannot_be_written_in_a_text():
    assert tokenize("<pad> </s>") == ["<", "pad", ">", "<", "/", "s", ">"]


def test_white_space_only():
    assert tokenize("  \n\t ") == []


def test_bad_punctuation_setting():
    with pytest.raises(EngineError) as e:
        tokenize("x", punctuation="strip")
    assert e.value.field == "punctuation"


def test_join_tokens_puts_punctuation_back():
    assert join_tokens(["the", "neuron", ",", "the", "weight", "."]) == "the neuron, the weight."
    assert join_tokens(["she", "said", '"', "hi", "!", '"', "then", "left"]) == 'she said "hi!" then left'
    assert join_tokens(["a", "(", "small", ")", "well", "-", "known", "net"]) == "a (small) well-known net"
    assert join_tokens([]) == ""


VOCAB = [PAD, UNK, EOS, "the", "neuron", "fires", "."]


def test_vocabulary_ids_and_unknowns():
    tok = Tokenizer(VOCAB)
    enc = tok.encode("The neuron sleeps.", add_end=True)
    assert enc.tokens == ["the", "neuron", "sleeps", ".", EOS]
    assert enc.ids.tolist() == [3, 4, 1, 6, 2]
    assert enc.unknown.tolist() == [False, False, True, False, False]


def test_decode_skips_pad_and_stops_at_end():
    tok = Tokenizer(VOCAB)
    assert tok.decode([0, 0, 3, 4, 5, 6, 2, 3]) == "the neuron fires."
    assert tok.decode([3, 1]) == "the <unk>"
    with pytest.raises(EngineError) as e:
        tok.decode([7])
    assert e.value.field == "ids"


def test_duplicate_word():
    with pytest.raises(EngineError) as e:
        Vocabulary([PAD, UNK, EOS, "a", "b", "a"])
    assert e.value.field == "vocabulary[5]"
    assert "duplicate word 'a'" in e.value.message and "vocabulary[3]" in e.value.message


def test_missing_special_tokens():
    with pytest.raises(EngineError) as e:
        Vocabulary([PAD, "a", "b"])
    assert e.value.field == "vocabulary"
    assert e.value.message == "missing special tokens <unk>, </s>"


@pytest.mark.parametrize("bad", [["", PAD, UNK, EOS], [PAD, UNK, EOS, " a"], [PAD, UNK, EOS, 3]])
def test_bad_words(bad):
    with pytest.raises(EngineError) as e:
        Vocabulary(bad)
    assert e.value.field.startswith("vocabulary[")


def test_build_orders_by_count_then_alphabet_and_applies_min_count_and_max_size():
    texts = [["b", "a", "c", "a", "b", "d"], ["a", "e", "e"]]
    assert Vocabulary.build(texts, max_size=100, min_count=1).words == (*SPECIAL_TOKENS, "a", "b", "e", "c", "d")
    assert Vocabulary.build(texts, max_size=100, min_count=2).words == (*SPECIAL_TOKENS, "a", "b", "e")
    assert Vocabulary.build(texts, max_size=5, min_count=1).words == (*SPECIAL_TOKENS, "a", "b")


@given(st.text(max_size=200), st.sampled_from(["keep", "drop"]))
def test_tokenize_is_deterministic_and_never_makes_specials_or_spaces(text, punctuation):
    tokens = tokenize(text, punctuation)
    assert tokens == tokenize(text, punctuation)
    for t in tokens:
        assert t and not any(c.isspace() for c in t)
        assert t not in SPECIAL_TOKENS


@given(st.lists(st.sampled_from(["the", "neuron", "fires", ".", ",", "weights", "(", ")"]), max_size=30))
def test_join_then_tokenize_round_trips(tokens):
    assume(all(a != b or not is_punctuation(a) for a, b in zip(tokens, tokens[1:])))  # ". ." joins as "..", one token
    assert tokenize(join_tokens(tokens)) == tokens


def test_ids_are_int64():
    enc = Tokenizer(VOCAB).encode("")
    assert enc.ids.dtype == np.int64 and enc.ids.shape == (0,)


@given(st.lists(st.sampled_from(["the", "neuron", ",", ".", '"', "'", "(", ")", "-", "/", "...", "$", "x"]), max_size=12))
def test_text_joiner_pieces_concatenate_to_join_tokens(tokens):
    joiner = TextJoiner()
    pieces = []
    for token in tokens:
        peeked = joiner.piece(token)
        pieces.append(joiner.add(token))
        assert peeked == pieces[-1] and pieces[-1].lstrip(" ") == token
    assert "".join(pieces) == join_tokens(tokens)


def test_text_joiner_by_hand():
    joiner = TextJoiner()
    assert [joiner.add(t) for t in ["she", "said", '"', "hi", "!", '"', "then"]] == ["she", " said", ' "', "hi", "!", '"', " then"]


@pytest.mark.parametrize("punctuation", ["keep", "drop"])
@given(text=st.text(alphabet=st.sampled_from("aZé9 ,.'’\"İß-\n"), max_size=30))
def test_token_spans_point_at_each_token_in_the_text_as_given(punctuation, text):
    spans = token_spans(text, punctuation)
    tokens = tokenize(text, punctuation)
    assert len(spans) == len(tokens)
    for (start, end), token in zip(spans, tokens):
        assert 0 <= start < end <= len(text)
        if "İ" not in text:  # the one letter here whose lower case is two characters
            assert text[start:end].lower().replace("’", "'") == token
    assert spans == sorted(spans)


def test_token_spans_by_hand():
    assert token_spans("The  neuron, fires!") == [(0, 3), (5, 11), (11, 12), (13, 18), (18, 19)]
    assert token_spans("The  neuron, fires!", "drop") == [(0, 3), (5, 11), (13, 18)]
    assert token_spans("İx y") == [(0, 1), (0, 1), (1, 2), (3, 4)]  # "i" and a combining dot, both from İ
