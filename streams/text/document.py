"""An article made ready for matching: cleaned, tokenised and its language known, once."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.models import Article
from streams.text.language import detect_language
from streams.text.normalise import Field, html_to_text, looks_like_html, tokenise

FIELDS = ("title", "body")


@dataclass(slots=True)
class Document:
    article: Article
    language: str | None
    fields: tuple[Field, Field]  # title, body: in the order of FIELDS
    countries: dict[tuple[int, int], set[str]] = field(default_factory=dict)  # per sentence

    @classmethod
    def from_article(cls, article: Article) -> Document:
        body = html_to_text(article.body) if looks_like_html(article.body) else article.body
        title = tokenise("title", article.title)
        text = tokenise("body", body)
        language = article.language or detect_language(f"{article.title}\n{body[:1000]}")
        return cls(article=article, language=language, fields=(title, text))
