"""Group a rule's alerts into stories: one story per event, however many outlets report it.

Two alerts of the same rule share a story when, within the window, their articles are
near-duplicates (MinHash estimate of the Jaccard similarity of 3-word shingles of the
normalised text >= ``near_duplicate``), or report the same event: the countries in their
evidence overlap (overlap coefficient >= ``countries``, or both have none) and, when both
articles are in one language, they share evidence terms (Jaccard >= ``terms``, and at least
one). Terms are not compared across languages: a treaty is a 'perjanjian' in Indonesian.

A story is compared through the signature of its first article, so it cannot drift away from
what opened it as it grows. The state of one rule is a JSON value for a Faust table keyed by
rule id, rewritten to the changelog on every alert, so its size is bounded whatever the
traffic: at most ``MAX_STORIES`` open stories, each with counts instead of article lists and
at most ``STORY_SOURCES`` outlets, the rule's last ``STORY_RECENT_ARTICLES`` assignments (to
answer a redelivered article as the first time), and the stories' MinHash rows packed in one
base64 string so a new article is compared with all of them in one numpy operation.
Assignment is that linear scan: with a 72 h window and a few hundred stories per rule it is
cheaper than keeping an LSH index, which would have to be rebuilt from the table after every
restart or rebalance.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple

import numpy as np
from datasketch import MinHash

from streams.models import (
    STORY_RECENT_ARTICLES,
    STORY_SOURCES,
    Alert,
    Evidence,
    StoryInfo,
    StoryStatus,
)
from streams.text.document import Document
from streams.text.normalise import normalise_word

NUM_PERM = 64  # estimate error ~0.06 at J = 0.5; 256 bytes per story
MINHASH_SEED = 20241205  # fixed, so every worker and every replay hashes alike
MINHASH_SCHEME = "affine32"  # explicit, so stored rows stay comparable across upgrades
# Shingles are hashed with CRC-32 (C speed, stable across processes); the affine32 scheme mixes
# each input hash with the MurmurHash3 finalizer before permuting, which evens out its bits.
SHINGLE_WORDS = 3
STATE_VERSION = 2  # 1 kept every article id of a story: its state grew with the story
DEFAULT_WINDOW = timedelta(hours=72)
MAX_STORIES = 500  # per rule; beyond it the least recently updated story is dropped


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When two alerts of one rule are one story (measured on tests/data/stories.jsonl)."""

    near_duplicate: float = 0.5  # MinHash Jaccard of 3-word shingles: a copy or a light rewrite
    countries: float = 0.6  # overlap coefficient |A & B| / min(|A|, |B|) of evidence countries
    terms: float = 0.0  # Jaccard of evidence terms, same language only (one shared term needed)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Signature:
    """What assignment compares for one article."""

    minhash: tuple[int, ...]  # NUM_PERM uint32 values; empty when the text has no words
    terms: frozenset[str]
    countries: frozenset[str]
    language: str | None = None


class Assignment(NamedTuple):
    state: dict
    story: StoryInfo
    status: StoryStatus


def normalise_term(term: str) -> str:
    """A rule term as evidence reports it ('Ratif*', 'stationed*') in one comparable form."""
    return normalise_word(term.strip().rstrip("*").strip())


def evidence_terms(evidence: Iterable[Evidence]) -> list[str]:
    """The distinct rule terms that matched, from an alert's evidence."""
    return sorted({term.term for item in evidence for term in item.terms})


def _shingles(words: Sequence[str]) -> list[bytes]:
    size = min(SHINGLE_WORDS, len(words))
    if not size:
        return []
    grams = set(map(" ".join, zip(*(words[i:] for i in range(size)), strict=False)))
    return list(map(str.encode, grams))  # in any order: a MinHash is a minimum


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The seeded permutations, drawn once per process rather than once per article."""
    return MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations


def text_minhash(words: Sequence[str]) -> tuple[int, ...]:
    """MinHash of an article's word shingles: the costly part of a signature, once per article."""
    shingles = _shingles(words)
    if not shingles:
        return ()
    minhash = MinHash(
        num_perm=NUM_PERM,
        scheme=MINHASH_SCHEME,
        hashfunc=zlib.crc32,
        permutations=_permutations(),
    )
    minhash.update_batch(shingles)
    return tuple(int(v) for v in minhash.hashvalues)


def signature_of(
    minhash: tuple[int, ...],
    evidence_terms: Iterable[str],
    countries: Iterable[str],
    language: str | None = None,
) -> Signature:
    return Signature(
        minhash=minhash,
        terms=frozenset(filter(None, map(normalise_term, evidence_terms))),
        countries=frozenset(code.upper() for code in countries),
        language=language,
    )


def document_minhash(document: Document) -> tuple[int, ...]:
    """MinHash of the normalised title then body words; shared by all the article's alerts."""
    return text_minhash([word for field in document.fields for word in field.words])


def alert_signature(alert: Alert, minhash: tuple[int, ...]) -> Signature:
    """Signature of an alert, from its article's :func:`document_minhash`."""
    return signature_of(
        minhash, evidence_terms(alert.evidence), alert.countries, alert.article.language
    )


def overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """|A & B| / min(|A|, |B|): 1 when one set names only countries the other does too."""
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _terms_agree(signature: Signature, story: dict, thresholds: Thresholds) -> bool:
    if not signature.language or signature.language != story["language"]:
        return True
    terms = set(story["terms"])
    shared = len(signature.terms & terms)
    return shared > 0 and shared / len(signature.terms | terms) >= thresholds.terms


def story_id(rule_id: str, first_alert_id: str) -> str:
    """Deterministic, so replaying the same alerts in the same order gives the same ids."""
    return "st-" + hashlib.sha256(f"{rule_id}\x1f{first_alert_id}".encode()).hexdigest()[:24]


def alert_time(published_at: datetime | None, detected_at: datetime) -> datetime:
    """The time stories are measured in: publication, unless absent, naive or after detection
    (one article dated in the future would otherwise expire every open story at once)."""
    if published_at is None or published_at.tzinfo is None or published_at > detected_at:
        return detected_at
    return published_at


# Decoded MinHash rows of the states this process produced or read last. A worker passes back
# the state it got from the previous call, so the lookup hits (a str caches its hash) and a
# 500-story state is not base64-decoded on every alert.
_ROWS: OrderedDict[str, np.ndarray] = OrderedDict()
_ROWS_CACHED = 64


def _remember(packed: str, rows: np.ndarray) -> None:
    rows.flags.writeable = False
    _ROWS[packed] = rows
    _ROWS.move_to_end(packed)
    while len(_ROWS) > _ROWS_CACHED:
        _ROWS.popitem(last=False)


def _rows(state: dict, count: int) -> np.ndarray:
    packed = state.get("minhashes", "")
    rows = _ROWS.get(packed)
    if rows is None:
        flat = np.frombuffer(base64.b64decode(packed), dtype="<u4") if packed else np.empty(0)
        rows = flat.astype("<u4").reshape(-1, NUM_PERM)
        _remember(packed, rows)
    if len(rows) != count:
        raise ValueError(f"story state has {count} stories but {len(rows)} MinHash rows")
    return rows


def _pack(rows: np.ndarray) -> str:
    rows = np.ascontiguousarray(rows, dtype="<u4")
    packed = base64.b64encode(rows.tobytes()).decode()
    _remember(packed, rows)
    return packed


def _info(story: dict) -> StoryInfo:
    return StoryInfo(
        id=story["id"],
        first_seen=datetime.fromtimestamp(story["first_seen"], UTC),
        article_count=story["article_count"],
        sources=list(story["sources"]),
    )


def _best_match(
    stories: list[dict],
    rows: np.ndarray,
    signature: Signature,
    at: float,
    window: float,
    thresholds: Thresholds,
) -> int | None:
    """The story the article belongs to: the most similar near-duplicate, else the same event
    sharing most countries (the most recently updated on ties), else none."""
    open_ = np.array([s["first_seen"] - window <= at <= s["last_seen"] + window for s in stories])
    if not open_.any():
        return None
    if signature.minhash:
        has_text = np.array([s["text"] for s in stories])
        similarity = (rows == np.asarray(signature.minhash, dtype="<u4")).mean(axis=1)
        similarity[~(open_ & has_text)] = -1.0
        best = int(similarity.argmax())
        if similarity[best] >= thresholds.near_duplicate:
            return best
    found: tuple[float, float, int] | None = None
    countries = signature.countries
    for i in np.flatnonzero(open_):
        story = stories[i]
        if countries.isdisjoint(story["countries"]) and (countries or story["countries"]):
            continue
        score = overlap(countries, story["countries"])
        if score < thresholds.countries or not _terms_agree(signature, story, thresholds):
            continue
        if found is None or (score, story["last_seen"]) > found[:2]:
            found = (score, story["last_seen"], int(i))
    return None if found is None else found[2]


def assign(
    state: dict | None,
    *,
    rule_id: str,
    alert_id: str,
    article_id: str,
    source: str | None,
    signature: Signature,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    max_stories: int = MAX_STORIES,
) -> Assignment:
    """Put one alert of ``rule_id`` into a story. Returns the rule's new state (the input is
    left as it was), the story, and ``new`` or ``update``.

    ``now`` is the alert's time (see :func:`alert_time`); stories whose last article is more
    than ``window`` before it are dropped. An article delivered again, if among the rule's last
    ``STORY_RECENT_ARTICLES`` assignments, changes nothing and gets the answer it got the first
    time: ``new`` if it opened its story, else ``update``; an older one counts again (its alert
    keeps its id, which subscribers de-duplicate on). A state of version 1 is upgraded; of any
    other version, started afresh.
    """
    state = _upgrade(state)
    stories: list[dict] = list(state.get("stories", []))
    rows = _rows(state, len(stories))
    recent: list[list[str]] = state.get("recent", [[], []])  # [article ids, their story ids]
    if article_id in recent[0]:  # the latest assignment of it, should it have been evicted
        story_key = recent[1][len(recent[0]) - 1 - recent[0][::-1].index(article_id)]
        for story in stories:
            if story["id"] == story_key:
                status: StoryStatus = "new" if story["first_article"] == article_id else "update"
                return Assignment(_state(rule_id, stories, rows, recent), _info(story), status)

    at, span = now.timestamp(), window.total_seconds()
    keep = np.array([s["last_seen"] >= at - span for s in stories], dtype=bool)
    if not keep.all():
        stories, rows = [s for s, k in zip(stories, keep, strict=True) if k], rows[keep]
    index = _best_match(stories, rows, signature, at, span, thresholds) if stories else None
    if index is None:
        story = {
            "id": story_id(rule_id, alert_id),
            "first_seen": at,
            "last_seen": at,
            "first_article": article_id,
            "article_count": 1,
            "sources": [source] if source else [],
            "terms": sorted(signature.terms),
            "countries": sorted(signature.countries),
            "language": signature.language,
            "text": bool(signature.minhash),
        }
        row = np.asarray(signature.minhash or (0,) * NUM_PERM, dtype="<u4")
        stories.append(story)
        rows = np.vstack([rows, row[None, :]])
        status = "new"
    else:
        old = stories[index]
        listed = old["sources"]
        new_source = bool(source and source not in listed and len(listed) < STORY_SOURCES)
        story = {
            **old,
            "first_seen": min(old["first_seen"], at),
            "last_seen": max(old["last_seen"], at),
            "article_count": old["article_count"] + 1,
            "sources": listed + [source] * new_source,
        }
        stories[index] = story
        status = "update"
    if len(stories) > max_stories:  # evict the stalest, never the story just touched
        recency = [(s is story, s["last_seen"]) for s in stories]
        newest = sorted(range(len(stories)), key=recency.__getitem__)[-max_stories:]
        order = np.array(sorted(newest))
        stories, rows = [stories[i] for i in order], rows[order]
    recent = [
        [*recent[0], article_id][-STORY_RECENT_ARTICLES:],
        [*recent[1], story["id"]][-STORY_RECENT_ARTICLES:],
    ]
    return Assignment(_state(rule_id, stories, rows, recent), _info(story), status)


def _upgrade(state: dict | None) -> dict:
    """Version 1 listed every article of a story: keep its first and its count instead."""
    if not state or state.get("version") not in (1, STATE_VERSION):
        return {}
    if state["version"] == STATE_VERSION:
        return state
    stories = [
        {
            **{k: v for k, v in story.items() if k != "articles"},
            "first_article": story["articles"][0],
            "article_count": len(story["articles"]),
            "sources": story["sources"][:STORY_SOURCES],
        }
        for story in state.get("stories", [])
    ]
    return {**state, "version": STATE_VERSION, "stories": stories}


def _state(rule_id: str, stories: list[dict], rows: np.ndarray, recent: list[list[str]]) -> dict:
    return {
        "version": STATE_VERSION,
        "rule_id": rule_id,
        "stories": stories,
        "recent": recent,
        "minhashes": _pack(rows),
    }
