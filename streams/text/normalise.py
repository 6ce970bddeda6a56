"""Turn an article field into word tokens once: normalised forms, offsets and sentences.

Offsets always point into the field's original text (after HTML cleaning), because evidence
must be shown to a person exactly as the outlet wrote it. Normalisation is per word and cached:
news vocabulary is Zipfian, so almost every word is a dictionary hit after the first articles.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser

# Numbers stay whole ("100.000", "2,5"); words may be joined by hyphens ("kapal-kapal").
TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+(?:[-‐‑]\w+)*")
HYPHEN = re.compile(r"[-‐‑]")
# A sentence ends at . ! ? … (plus closing quotes) before a capital or digit, or at a line break.
SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]*[A-Z0-9])|\n")
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


@lru_cache(maxsize=200_000)
def _split_word(surface: str) -> tuple[tuple[int, int, str], ...]:
    """A matched word as (start, end, normalised) parts: reduplications stay whole."""
    norm = normalise_word(surface)
    if not HYPHEN.search(surface) or _is_reduplication(norm):
        return ((0, len(surface), norm),)
    parts, start = [], 0
    for piece in HYPHEN.split(surface):
        if piece:
            parts.append((start, start + len(piece), normalise_word(piece)))
        start += len(piece) + 1
    return tuple(parts)


def _is_reduplication(norm: str) -> bool:
    """kapal-kapal, negara-negara, tembak-menembak: Indonesian plural and reciprocal forms."""
    pieces = HYPHEN.split(norm)
    if len(pieces) != 2 or not pieces[0]:
        return False
    first, second = pieces
    return second.startswith(first) or first.startswith(second) or second.endswith(first[1:])


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
    """One field's text and its tokens as parallel lists (cheap to build and to index)."""

    name: str
    text: str
    words: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    sentence_of: list[int] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)

    def sentence_span(self, index: int) -> tuple[int, int]:
        """Character span of sentence ``index``, trimmed of surrounding white space."""
        start, end = self.sentences[index]
        chunk = self.text[start:end]
        left = len(chunk) - len(chunk.lstrip())
        return start + left, start + len(chunk.rstrip())


def _sentence_ends(text: str) -> list[int]:
    ends = []
    for match in SENTENCE_END.finditer(text):
        if match.group() != "\n":
            before = text[: match.start()].rsplit(None, 1)
            word = before[-1].lower() if before else ""
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        ends.append(match.end())
    ends.append(len(text) + 1)
    return ends


def tokenise(name: str, text: str) -> Field:
    """Split a field into normalised words with offsets and sentence numbers, in one pass."""
    result = Field(name=name, text=text)
    words, starts, ends, sentence_of = result.words, result.starts, result.ends, result.sentence_of
    boundaries = _sentence_ends(text)
    sentence, limit = 0, boundaries[0]
    for match in TOKEN.finditer(text):
        offset = match.start()
        while offset >= limit:
            sentence += 1
            limit = boundaries[sentence]
        for start, end, norm in _split_word(match.group()):
            words.append(norm)
            starts.append(offset + start)
            ends.append(offset + end)
            sentence_of.append(sentence)
    previous = 0
    for boundary in boundaries:
        result.sentences.append((previous, min(boundary, len(text))))
        previous = boundary
    return result
