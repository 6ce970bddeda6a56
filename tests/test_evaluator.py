"""The evaluator's shortcuts change nothing: evaluating the other side of a NEAR, or a guard,
only in the sentences where it can matter gives exactly the hits of a plain evaluation."""

from __future__ import annotations

import random
from functools import cache

import pytest

from streams.models import Article
from streams.rules.compiler import RuleSet
from streams.rules.evaluator import Evaluator, Hit, document_postings
from streams.rules.packs import load_ruleset
from streams.rules.plan import walk
from streams.settings import DEFAULT_PACK
from streams.text.document import Document
from streams.tools.replay import parse_seed

from .conftest import SEEDS

TEXTS = [
    "Rusia dan Korea Utara menandatangani perjanjian pertahanan di Pyongyang, Rabu.",
    "The Senate ratified the treaty. Troops were later sent to the border town.",
    "Menteri Luar Negeri bertemu mitranya dari Jepang di Tokyo untuk perundingan.",
    "North Korea test-fired a missile into the sea; no one was hurt, Seoul said.",
]


class Plain(Evaluator):
    """The reference: every node evaluated in the whole document, then filtered."""

    def hits_in(self, plan, fields, sentences) -> list[Hit]:
        return [hit for hit in self.hits(plan, fields) if (hit[0], hit[1]) in sentences]

    def _groups_near(self, plan, fields, hits):
        return self.grouped(self.hits(plan, fields))


@cache
def default_rules() -> RuleSet:
    return load_ruleset([DEFAULT_PACK])


@cache
def documents() -> list[Document]:
    seeds = [parse_seed(path) for path in sorted(SEEDS.glob("*.txt"))]
    texts = [Article(id=str(n), body=text) for n, text in enumerate(TEXTS)]
    return [Document.from_article(article) for article in [*seeds, *texts]]


def pair(document: Document) -> tuple[Evaluator, Plain]:
    postings = document_postings(default_rules(), document)
    return Evaluator(document, postings, "sentence"), Plain(document, postings, "sentence")


@pytest.mark.parametrize("index", range(len(TEXTS) + 5))
def test_every_rule_has_the_hits_of_a_plain_evaluation(index):
    document = documents()[index]
    fast, plain = pair(document)
    for rule in default_rules().rules:
        assert sorted(fast.hits(rule.plan)) == sorted(plain.hits(rule.plan)), rule.rule.id


@pytest.mark.parametrize("seed", range(5))
def test_a_node_evaluated_in_some_sentences_gives_its_hits_there(seed):
    document = documents()[seed]
    chooser = random.Random(seed)
    sentences = [(f, s) for f in (0, 1) for s in range(len(document.fields[f].boundaries))]
    nodes = {
        id(node): (node, fields) for r in default_rules().rules for node, fields in walk(r.plan)
    }
    assert len(nodes) > 500
    for node, fields in nodes.values():
        wanted = set(chooser.sample(sentences, k=max(1, len(sentences) // 3)))
        fast, plain = pair(document)
        expected = plain.hits_in(node, fields, wanted)
        assert sorted(fast.hits_in(node, fields, wanted)) == sorted(expected)
