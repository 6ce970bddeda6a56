"""Turn an article field into word tokens once: normalised forms, offsets and sentences.

Offsets always point into the field's original text (after HTML cleaning), because evidence
must be shown to a person exactly as the outlet wrote it. Normalisation is per word and cached:
news vocabulary is Zipfian, so almost every word is a dictionary hit after the first articles.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, compress, repeat
from operator import add, ne

from selectolax.lexbor import LexborHTMLParser

# Numbers stay whole ("100.000", "2,5"); hyphens split words, so the halves of a
# reduplication ("kapal-kapal") and of a compound ("Korea-Rusia") are matched one by one.
TOKEN = re.compile(r"(\d+(?:[.,]\d+)*|\w+)")
SENTENCE_STOP = re.compile(r"\n|[.!?…]")
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen lt col maj capt sgt st no jl dkk u.s u.k sen rep gov pres inc".split()
)
HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
BLOCK_TAGS = "p,div,br,li,h1,h2,h3,h4,h5,h6,tr,blockquote,section,article,header,footer"


@lru_cache(maxsize=200_000)
def normalise_word(word: str) -> str:
    """NFKC, case-fold and strip accents, so 'Ratifikasi', 'RATIFIKASI' and 'ratifikási' agree."""
    folded = unicodedata.normalize("NFKC", word).casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def looks_like_html(text: str) -> bool:
    return "<" in text and HTML_TAG.search(text) is not None


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, with block elements on their own lines."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script,style,noscript,template"):
        node.decompose()
    for node in tree.css(BLOCK_TAGS):
        node.insert_after("\n")
    root = tree.body or tree.root
    text = root.text(separator="", strip=False) if root is not None else ""
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()


@dataclass(slots=True)
class Field:
    """One field's text and its words as parallel lists (built by C-level list operations)."""

    name: str
    text: str
    words: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    boundaries: list[int] = field(default_factory=list)  # sentence end offsets, ascending

    def sentence_of(self, position: int) -> int:
        """Sentence number of the word at ``position`` (asked only for matched words)."""
        return bisect_right(self.boundaries, self.starts[position])

    def sentence_span(self, sentence: int) -> tuple[int, int]:
        """Character span of a sentence, trimmed of surrounding white space."""
        start = self.boundaries[sentence - 1] if sentence else 0
        end = min(self.boundaries[sentence], len(self.text))
        chunk = self.text[start:end]
        left = len(chunk) - len(chunk.lstrip())
        return start + left, start + len(chunk.rstrip())

    def sentence_words(self, sentence: int) -> range:
        """Positions of the words in a sentence."""
        start, end = self.sentence_span(sentence)
        return range(bisect_left(self.starts, start), bisect_left(self.starts, end))


def _sentence_boundaries(gaps: list[str], tokens: list[str], starts: list[int]) -> list[int]:
    """Character offsets where a new sentence begins, then one past the end of the text.

    ``gaps[i]`` is the text before ``tokens[i]``. A sentence ends at a line break, or at
    . ! ? … when the next word starts with a capital or digit and the word before the stop is
    not an abbreviation or an initial. Only gaps other than a plain space are examined.
    """
    boundaries = []
    for i in compress(range(len(tokens)), map(ne, gaps, repeat(" "))):
        gap = gaps[i]
        stop = SENTENCE_STOP.search(gap)
        if stop is None or not i:
            continue
        if stop.group() != "\n":
            if not (tokens[i][0].isupper() or tokens[i][0].isdigit()):
                continue
            before = tokens[i - 1].lower()
            if before in ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                continue
        space = gap.find(" ", stop.end()) if stop.group() != "\n" else stop.start()
        cut = stop.end() if space < 0 else space + 1
        boundaries.append(starts[i] - len(gap) + cut)
    boundaries.append(sum(map(len, gaps)) + sum(map(len, tokens)) + 1)
    return boundaries


def tokenise(name: str, text: str) -> Field:
    """Words with offsets and sentence boundaries, without a Python loop over the words.

    ``re.split`` with a capturing group alternates gaps and words; running sums of their
    lengths are the offsets. Normalisation is one cached call per word.
    """
    parts = TOKEN.split(text)
    tokens = parts[1::2]
    starts = list(accumulate(map(len, parts)))[0:-1:2]
    boundaries = _sentence_boundaries(parts[0::2], tokens, starts)
    return Field(
        name=name,
        text=text,
        words=list(map(normalise_word, tokens)),
        starts=starts,
        ends=list(map(add, starts, map(len, tokens))),
        boundaries=boundaries,
    )
