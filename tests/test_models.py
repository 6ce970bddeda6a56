"""The message models: what is required, deterministic alert ids, published schemas."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streams.models import Alert, Article
from streams.schemas import generated

from .conftest import ROOT


def test_an_article_needs_only_an_id_and_some_text():
    article = Article(id="a1", body="Rusia meratifikasi pakta.")
    assert article.title == "" and article.language is None and article.published_at is None


@pytest.mark.parametrize(
    "data",
    [
        {"body": "text without an id"},
        {"id": "", "body": "empty id"},
        {"id": "a", "title": " ", "body": "\n"},
        {"id": "a", "body": "x", "language": "Indonesian"},
        {"id": "a", "body": "x", "published_at": "yesterday"},
    ],
)
def test_invalid_articles_are_refused(data):
    with pytest.raises(ValidationError):
        Article.model_validate(data)


def test_alert_id_is_deterministic_per_article_rule_and_version():
    first = Alert.make_id("article-1", "treaty_ratified", "1")
    assert first == Alert.make_id("article-1", "treaty_ratified", "1")
    assert first != Alert.make_id("article-1", "treaty_ratified", "2")
    assert first != Alert.make_id("article-2", "treaty_ratified", "1")
    assert first != Alert.make_id("article-1", "treaty_signed", "1")
    # The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert Alert.make_id("ab", "c_rule", "1") != Alert.make_id("a", "bc_rule", "1")


def test_published_schemas_match_the_models():
    for name, text in generated().items():
        path = ROOT / "schemas" / name
        assert path.exists(), f"{path} missing: run `pantau schemas`"
        assert path.read_text() == text, f"{path} drifted from the models: run `pantau schemas`"
