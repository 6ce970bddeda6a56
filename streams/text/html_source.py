"""Where the characters of a cleaned HTML body stand in the original HTML.

Bodies are cleaned before matching (:func:`streams.text.normalise.html_to_text`) and evidence
offsets point into the cleaned text, which is what a snippet shows. To highlight the words in
the page they came from, an alert also carries offsets into the HTML: the HTML's visible
characters are listed with where each is written (the standard library's parser reports where
every run of text starts, and entities as written), then walked alongside the cleaned text,
character for character, white space aside. Computed only for an article that raised an alert.
"""

from __future__ import annotations

import html as entities
from bisect import bisect_left
from html.parser import HTMLParser

HIDDEN = frozenset({"head", "script", "style", "noscript", "template"})  # no visible text


class _Visible(HTMLParser):
    """The visible characters of an HTML text, each with its span in that text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.line_starts = [0, *(i + 1 for i, char in enumerate(text) if char == "\n")]
        self.chars: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.hidden = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.hidden += tag in HIDDEN

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            start = self._offset()
            self.chars.extend(data)
            self.spans.extend((start + i, start + i + 1) for i in range(len(data)))

    def _reference(self, raw_length: int) -> None:
        start = self._offset()
        end = start + raw_length + (self.text[start + raw_length : start + raw_length + 1] == ";")
        if not self.hidden:
            for char in entities.unescape(self.text[start:end]):
                self.chars.append(char)
                self.spans.append((start, end))

    def handle_entityref(self, name: str) -> None:
        self._reference(len(name) + 1)

    def handle_charref(self, name: str) -> None:
        self._reference(len(name) + 2)


class SourceMap:
    """Offsets in the cleaned text -> offsets in the HTML it was cleaned from."""

    def __init__(self, cleaned: list[int], spans: list[tuple[int, int]]):
        self.cleaned, self.spans = cleaned, spans  # aligned characters, in order

    @classmethod
    def of(cls, html: str, cleaned: str) -> SourceMap | None:
        """The map, or None where the two texts differ in more than white space."""
        visible = _Visible(html)
        visible.feed(html)
        visible.close()
        chars, spans = visible.chars, visible.spans
        aligned, mapped, j = [], [], 0
        for i, char in enumerate(cleaned):
            if char.isspace():
                continue
            while j < len(chars) and chars[j].isspace():
                j += 1
            if j == len(chars) or chars[j] != char:
                return None
            aligned.append(i)
            mapped.append(spans[j])
            j += 1
        return cls(aligned, mapped)

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where the cleaned text's ``[start, end)`` is written in the HTML."""
        first, last = bisect_left(self.cleaned, start), bisect_left(self.cleaned, end) - 1
        if first > last:
            return None
        return self.spans[first][0], self.spans[last][1]
