"""The data path, top to bottom: record -> validate -> normalise -> match -> alerts.

The worker, ``pantau classify`` and the benchmarks all call this module, so offline results
are exactly what the stream produces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from streams.models import Alert, AlertArticle, Article, utcnow
from streams.rules.compiler import RuleSet
from streams.rules.matcher import RuleMatch, match_document
from streams.text.document import Document


class BadRecord(ValueError):
    """A record that cannot be classified; ``reason`` is a short, bounded class for metrics."""

    def __init__(self, reason: str, message: str):
        self.reason, self.message = reason, message
        super().__init__(f"{reason}: {message}")


def parse_record(raw: bytes | str, max_body_bytes: int) -> Article:
    """Validate one raw record into an :class:`Article`, or raise :class:`BadRecord`."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRecord("invalid_utf8", f"not UTF-8 at byte {error.start}") from None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadRecord("too_deep", "JSON nested too deeply") from None
    except ValueError as error:
        raise BadRecord("not_json", str(error)) from None
    if not isinstance(data, dict):
        raise BadRecord("not_object", f"expected a JSON object, got {type(data).__name__}")
    body = data.get("body")
    if isinstance(body, str) and len(body.encode("utf-8")) > max_body_bytes:
        raise BadRecord("too_large", f"body is over the {max_body_bytes}-byte limit")
    try:
        return Article.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "article"
        reason = "empty_text" if "both empty" in first["msg"] else "invalid_fields"
        raise BadRecord(reason, f"{where}: {first['msg']}") from None


@dataclass
class Classifier:
    """Turns articles into alerts with one compiled rule set (swapped whole on reload)."""

    ruleset: RuleSet

    def classify(self, article: Article) -> list[Alert]:
        return self.classify_document(Document.from_article(article))

    def classify_document(self, document: Document) -> list[Alert]:
        """Alerts for an already normalised article (the worker reuses its words for stories)."""
        return [self._alert(document, match) for match in match_document(self.ruleset, document)]

    @staticmethod
    def _alert(document: Document, match: RuleMatch) -> Alert:
        article, rule = document.article, match.rule.rule
        return Alert(
            alert_id=Alert.make_id(article.id, rule.id, rule.version),
            rule_id=rule.id,
            rule_version=rule.version,
            rule_title=rule.title,
            severity=rule.severity,
            article=AlertArticle(
                id=article.id,
                title=article.title,
                url=article.url,
                source=article.source,
                language=document.language,
                published_at=article.published_at,
            ),
            score=match.score,
            evidence=match.evidence,
            countries=match.countries,
            detected_at=utcnow(),
        )
