"""The classification engine: an article in, alerts out, with no Kafka, Faust or Prometheus.

article -> document (:mod:`streams.text.document`) -> rule matches (:mod:`streams.rules.matcher`)
-> alerts. The worker, ``pantau classify``, ``pantau eval`` and the benchmarks all call
:class:`Classifier`, so offline results are exactly what the stream produces. In a notebook::

    from streams import Classifier
    from streams.models import Article

    Classifier.from_packs().classify(Article(id="1", body="..."))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from streams.models import Alert, AlertArticle, Article, utcnow
from streams.rules.compiler import RuleSet
from streams.rules.matcher import RuleMatch, match_document
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK
from streams.text.document import Document


@dataclass
class Classifier:
    """Turns articles into alerts with one compiled rule set (swapped whole on reload)."""

    ruleset: RuleSet

    @classmethod
    def from_packs(cls, paths: Iterable[Path] = ()) -> Classifier:
        """A classifier of these rule packs (YAML files), or of the built-in pack."""
        return cls(load_ruleset(list(paths) or [DEFAULT_PACK]))

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
