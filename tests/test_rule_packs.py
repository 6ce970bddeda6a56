"""YAML rule packs: validated, compiled, and errors located in the file."""

from __future__ import annotations

import pytest

from streams.rules.packs import RulePackError, compile_texts

GOOD = """\
version: "1"
concepts:
  treaty:
    en: [treaty, pact]
    id: [perjanjian, pakta]
rules:
  - id: treaty_named
    title: A treaty is named
    query: '@treaty AND (russia OR rusia)'
"""


def test_a_good_pack_compiles_with_concepts_in_every_language():
    ruleset = compile_texts([("good.yaml", GOOD)])
    assert [r.rule.id for r in ruleset.rules] == ["treaty_named"]
    labels = {t.label for t in ruleset.terms}
    assert {"treaty", "pact", "perjanjian", "pakta", "russia", "rusia"} <= labels


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            GOOD.replace("'@treaty AND (russia OR rusia)'", "'@treaty AND (russia OR'"),
            9,
            35,
            "ends too early",
        ),
        (GOOD.replace("    query: '@treaty AND", "    query: '@traety AND"), 9, 13, "@traety"),
        (
            GOOD.replace("title: A treaty is named", "title: A\n    severity: urgent"),
            9,
            15,
            "severity",
        ),
        (GOOD.replace("  - id: treaty_named", "  - id: Treaty Named"), 7, 9, "rules.0.id"),
        ("rules: [\n  {id: x", 2, 9, "YAML"),
        ("- just\n- a list\n", 1, 1, "mapping"),
    ],
)
def test_errors_point_at_file_line_and_column(text, line, column, message):
    with pytest.raises(RulePackError) as caught:
        compile_texts([("pack.yaml", text)])
    error = caught.value
    assert (error.source, error.line, error.column) == ("pack.yaml", line, column), str(error)
    assert message in str(error)


def test_block_scalar_queries_are_located_too():
    text = GOOD.replace(
        "    query: '@treaty AND (russia OR rusia)'",
        "    query: |\n      @treaty AND\n        (russia OR )",
    )
    with pytest.raises(RulePackError) as caught:
        compile_texts([("pack.yaml", text)])
    assert (caught.value.line, caught.value.column) == (11, 20), str(caught.value)
