"""An article made ready for matching: cleaned, tokenised and its language known, once."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.models import Article
from streams.text.language import article_language
from streams.text.normalise import Field, html_to_text, looks_like_html, tokenise

FIELDS = ("title", "body")


UNDETECTED = "?"


@dataclass(slots=True)
class Document:
    article: Article
    fields: tuple[Field, Field]  # title, body: in the order of FIELDS
    countries: dict[tuple[int, int], set[str]] = field(default_factory=dict)  # per sentence
    _language: str | None = UNDETECTED

    @classmethod
    def from_article(cls, article: Article) -> Document:
        body = html_to_text(article.body) if looks_like_html(article.body) else article.body
        title = tokenise("title", article.title)
        text = tokenise("body", body)
        return cls(article=article, fields=(title, text), _language=article.language or UNDETECTED)

    @property
    def language(self) -> str | None:
        """The article's language, detected on first use: most articles never need it."""
        if self._language == UNDETECTED:
            self._language = article_language(self.article.title, self.fields[1].text)
        return self._language
