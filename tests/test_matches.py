"""The classify stage's batched records: one per rule, in order, bounded, read back intact."""

from __future__ import annotations

import json

import pytest

from streams.engine import Classifier
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK
from streams.stories import alert_signature, document_minhash
from streams.text.document import Document
from streams.tools.replay import parse_seed
from streams.worker import matches
from streams.worker.matches import Match, match_records, read_matches

from .conftest import SEEDS


@pytest.fixture(scope="module")
def seed_matches() -> list[Match]:
    """Every seed's matches, as the classify stage collects them over one batch."""
    classifier = Classifier(load_ruleset([DEFAULT_PACK]))
    matches = []
    for path in sorted(SEEDS.glob("*.txt")):
        document = Document.from_article(parse_seed(path))
        minhash = document_minhash(document)
        for alert in classifier.classify_document(document):
            matches.append(Match(alert, alert_signature(alert, minhash), 1733367600.0))
    return matches


def test_a_batch_becomes_one_record_per_rule_keyed_by_it(seed_matches):
    rules = {m.alert.rule_id for m in seed_matches}
    assert len(seed_matches) > len(rules) > 1  # the seeds fire several rules, some more than once

    records = match_records(seed_matches)

    assert sorted(r.key for r in records) == sorted(rules)
    for record in records:
        read = read_matches(record.value)
        expected = [m for m in seed_matches if m.alert.rule_id == record.key]
        assert read == expected  # alerts, signatures and times intact, in the batch's order


def test_a_rule_with_many_matches_is_split_below_the_record_limit(seed_matches, monkeypatch):
    one = next(m for m in seed_matches if m.alert.rule_id == "troop_deployment")
    many = [
        Match(one.alert.model_copy(update={"alert_id": f"a{n}"}), one.signature, n)
        for n in range(9)
    ]
    size = len(one.to_json())
    monkeypatch.setattr(matches, "MATCHES_RECORD_BYTES", 4 * size)

    records = match_records(many)

    assert len(records) == 3  # three matches (plus separators) fit under four matches' size
    assert all(len(r.value) <= 4 * size for r in records)
    read = [m for r in records for m in read_matches(r.value)]
    assert [m.alert.alert_id for m in read] == [f"a{n}" for n in range(9)]


def test_a_single_match_record_from_an_older_worker_is_still_read(seed_matches):
    match = seed_matches[0]
    older = json.dumps(json.loads(match.to_json())).encode()  # one match, not a "matches" list

    assert read_matches(older) == [match]


def test_no_matches_means_no_records():
    assert match_records([]) == []
