"""The default pack on the five seed articles, offline, through the worker's own engine."""

from __future__ import annotations

from streams.engine import Classifier
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK
from streams.tools.replay import parse_seed

from .conftest import EXPECTED_SEED_ALERTS, SEEDS

FIRST_RULES = {"treaty_ratified", "troop_deployment"}


def classify_seeds() -> dict[str, list]:
    classifier = Classifier(load_ruleset([DEFAULT_PACK]))
    return {p.stem[:3]: classifier.classify(parse_seed(p)) for p in sorted(SEEDS.glob("*.txt"))}


def test_first_rules_fire_on_exactly_the_expected_seeds():
    found = {
        (seed, alert.rule_id)
        for seed, alerts in classify_seeds().items()
        for alert in alerts
        if alert.rule_id in FIRST_RULES
    }
    assert found == EXPECTED_SEED_ALERTS


def test_alerts_carry_located_evidence_and_countries():
    alerts = {a.rule_id: a for a in classify_seeds()["004"]}
    ratified = alerts["treaty_ratified"]
    assert ratified.article.language == "id"
    assert ratified.evidence[0].field == "title"  # the title counts most, so it comes first
    title = parse_seed(sorted(SEEDS.glob("004_*.txt"))[0]).title
    for term in ratified.evidence[0].terms:
        assert title[term.start : term.end] == term.text
    assert {t.text for t in ratified.evidence[0].terms} >= {"Perjanjian", "Diratifikasi"}
    assert "RU" in ratified.countries
