"""The rule language parses what analysts write and says exactly where it does not."""

from __future__ import annotations

import pytest

from streams.rules.query import (
    AllOf,
    AnyOf,
    ButNot,
    ConceptRef,
    Near,
    NotNear,
    Phrase,
    Prefix,
    RuleSyntaxError,
    Scoped,
    Word,
    parse_query,
)


def test_precedence_near_binds_tighter_than_not_then_and_then_or():
    tree = parse_query("a OR b AND c NEAR/3 d NOT e")
    assert tree == AnyOf(
        (
            Word("a"),
            AllOf((Word("b"), ButNot(Near(Word("c"), Word("d"), 3, ordered=False), Word("e")))),
        )
    )


def test_every_construct():
    tree = parse_query('title:("missile test" OR rudal*) AND @treaty ONEAR/5 ratify')
    assert tree == AllOf(
        (
            Scoped("title", AnyOf((Phrase(("missile", "test")), Prefix("rudal")))),
            Near(ConceptRef("treaty"), Word("ratify"), 5, ordered=True),
        )
    )
    assert parse_query("@treaty NEAR/12 @ratify NOT NEAR/4 @denial") == NotNear(
        Near(ConceptRef("treaty"), ConceptRef("ratify"), 12, ordered=False), ConceptRef("denial"), 4
    )


def test_lower_case_operators_and_words_containing_them_are_words():
    assert parse_query("ANDROID AND nato") == AllOf((Word("ANDROID"), Word("nato")))
    with pytest.raises(RuleSyntaxError):
        parse_query("war and peace")  # two words need an operator between them


@pytest.mark.parametrize(
    ("query", "line", "column", "expected"),
    [
        ("a AND", 1, 6, "ends too early"),
        ("(a OR b", 1, 8, "expected ')'"),
        ("a\nAND ) b", 2, 5, "unexpected ')'"),
        ("ab* OR c", 1, 1, "at least 3 letters"),
        ('a AND "x', 1, 7, "unexpected character"),
        ("a NEAR/x b", 1, 3, "unexpected"),
    ],
)
def test_errors_name_line_column_and_what_was_expected(query, line, column, expected):
    with pytest.raises(RuleSyntaxError) as caught:
        parse_query(query)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert expected in caught.value.message


def test_no_catastrophic_input_is_possible():
    # Deeply nested parentheses and long queries parse in linear time or fail cleanly.
    deep = "(" * 200 + "a" + ")" * 200
    assert parse_query(deep) == Word("a")
    long = " OR ".join(f"w{i}" for i in range(5000))
    assert len(parse_query(long).children) == 5000
