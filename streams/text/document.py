"""An article made ready for matching: cleaned, tokenised and its language known, once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from streams.models import Article
from streams.text.countries import default_countries
from streams.text.html_source import SourceMap
from streams.text.language import article_language
from streams.text.normalise import Field, html_to_text, looks_like_html, tokenise

FIELDS = ("title", "body")
# A dateline opens a paragraph: a place and maybe an outlet or date, then a dash ("JAKARTA,
# KOMPAS.com - ", "WASHINGTON, Dec 3 (Reuters) - ", "Jakarta, CNN Indonesia -- "). It says
# where the report was filed, not who acts, so its place is not one of an alert's countries.
# The separator after a dateline's place: "JAKARTA, KOMPAS.com - ...", "Moskow (ANTARA) – ...".
DATELINE_DASH = re.compile(r"[ \t]+(?:--?|–|—)[ \t]")
DATELINE_PLACE = re.compile(r"[A-Z][^\n.!?]*(?:\.[A-Za-z]{2,4}[^\n.!?]*)?")
DATELINE_LONGEST = 92  # characters of a place and its agency
DATELINE_REACH = 1000  # characters of the body where a dateline may stand


UNDETECTED = "?"


@dataclass(slots=True)
class Document:
    article: Article
    fields: tuple[Field, Field]  # title, body: in the order of FIELDS
    mentions: dict[tuple[int, int], list[tuple[int, int, str]]] = field(default_factory=dict)
    _language: str | None = UNDETECTED
    html: bool = False  # the body was HTML: its field holds the cleaned text
    _source: SourceMap | bool | None = None  # the body's map into its HTML, once asked
    _datelines: list[tuple[int, int]] | None = None  # the body's dateline spans, once asked

    @classmethod
    def from_article(cls, article: Article) -> Document:
        html = looks_like_html(article.body)
        body = html_to_text(article.body) if html else article.body
        title = tokenise("title", article.title)
        text = tokenise("body", body)
        language = article.language or UNDETECTED
        return cls(article=article, fields=(title, text), _language=language, html=html)

    def html_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where ``[start, end)`` of the cleaned body is written in the article's HTML; None
        for a plain-text body (or HTML the map cannot follow)."""
        if not self.html:
            return None
        if self._source is None:
            self._source = SourceMap.of(self.article.body, self.fields[1].text) or False
        return self._source.span(start, end) if self._source else None

    def in_dateline(self, f: int, position: int) -> bool:
        """Whether the word at ``position`` of field ``f`` is part of a dateline."""
        if f != FIELDS.index("body"):
            return False
        start = self.fields[f].starts[position]
        if start >= DATELINE_REACH:
            return False
        if self._datelines is None:
            self._datelines = _datelines(self.fields[f].text)
        return any(a <= start < b for a, b in self._datelines)

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


def _datelines(text: str) -> list[tuple[int, int]]:
    """Character spans of the datelines at the start of the body's paragraphs.

    A line whose first dash follows a short place written like one (capitalised, no sentence
    stop but a domain's dot, shouted or with a comma or an agency in brackets).
    """
    found, offset = [], 0
    for line in text[:DATELINE_REACH].split("\n"):
        dash = DATELINE_DASH.search(line, 0, DATELINE_LONGEST + 8)
        if dash:
            lead = len(line) - len(line.lstrip(" \t"))
            place = line[lead : dash.start()]
            shouted = any(len(word) >= 3 and word.isupper() for word in place.split())
            written_as_one = DATELINE_PLACE.fullmatch(place) and len(place) <= DATELINE_LONGEST
            if written_as_one and (shouted or "," in place or "(" in place):
                found.append((offset + lead, offset + dash.start()))
        offset += len(line) + 1
    return found


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
