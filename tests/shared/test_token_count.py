"""token_count: the one token estimate both chunk planners and checkers use."""

from __future__ import annotations

from shared.token_count import estimate_tokens


def test_estimate_tokens_counts_words_by_four_characters_and_each_symbol() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde(x)") == 2 + 1 + 1 + 1
    assert estimate_tokens("  \n\t ") == 0, "whitespace is free"
