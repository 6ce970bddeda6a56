"""An article made ready for matching: cleaned, tokenised and its language known, once."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.models import Article
from streams.text.countries import default_countries
from streams.text.language import article_language
from streams.text.normalise import Field, html_to_text, looks_like_html, tokenise

FIELDS = ("title", "body")


UNDETECTED = "?"


@dataclass(slots=True)
class Document:
    article: Article
    fields: tuple[Field, Field]  # title, body: in the order of FIELDS
    mentions: dict[tuple[int, int], list[tuple[int, int, str]]] = field(default_factory=dict)
    _language: str | None = UNDETECTED

    @classmethod
    def from_article(cls, article: Article) -> Document:
        body = html_to_text(article.body) if looks_like_html(article.body) else article.body
        title = tokenise("title", article.title)
        text = tokenise("body", body)
        return cls(article=article, fields=(title, text), _language=article.language or UNDETECTED)

    def country_mentions(self, f: int, sentence: int) -> list[tuple[int, int, str]]:
        """(first word, last word, ISO code) of each country named in a sentence, found once:
        rules that look for ``@country`` and an alert's ``countries`` read the same list."""
        key = (f, sentence)
        found = self.mentions.get(key)
        if found is None:
            text_field = self.fields[f]
            span = text_field.sentence_words(sentence)
            originals = _AsWritten(text_field, span.start, span.stop)
            words = text_field.words[span.start : span.stop]
            found = self.mentions[key] = [
                (first + span.start, last + span.start, code)
                for first, last, code in default_countries().find(words, originals)
            ]
        return found

    @property
    def language(self) -> str | None:
        """The article's language, detected on first use: most articles never need it."""
        if self._language == UNDETECTED:
            self._language = article_language(self.article.title, self.fields[1].text)
        return self._language


class _AsWritten:
    """Some of a field's words as written, sliced only where a country name may start."""

    def __init__(self, text_field: Field, start: int, stop: int):
        self.field, self.start, self.stop = text_field, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: slice) -> list[str]:
        text, starts, ends = self.field.text, self.field.starts, self.field.ends
        return [
            text[starts[p + self.start] : ends[p + self.start]]
            for p in range(*index.indices(len(self)))
        ]
