"""Story grouping: the seeds, different events of one rule, state in a table, the labelled set."""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams import stories
from streams.engine import Classifier
from streams.models import STORY_RECENT_ARTICLES, STORY_SOURCES, Alert, Article
from streams.rules.packs import load_ruleset
from streams.settings import DEFAULT_PACK
from streams.stories import Signature, Thresholds, assign, signature_of, text_minhash
from streams.text.document import Document
from streams.tools.replay import parse_seed

from .conftest import SEEDS

LABELLED = Path(__file__).parent / "data" / "stories.jsonl"
T0 = datetime(2024, 12, 5, 3, 0, tzinfo=UTC)
WORDS = "the parliament of ruritania voted on tuesday to ratify the border treaty".split()


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_ruleset([DEFAULT_PACK]))


def signed_alerts(classifier: Classifier, article: Article) -> list[tuple[Alert, Signature]]:
    document = Document.from_article(article)
    minhash = stories.document_minhash(document)
    alerts = classifier.classify_document(document)
    return [(a, stories.alert_signature(a, minhash)) for a in alerts]


def put(state, alert: Alert, signature: Signature, now: datetime, **options):
    return assign(
        state,
        rule_id=alert.rule_id,
        alert_id=alert.alert_id,
        article_id=alert.article.id,
        source=alert.article.source,
        signature=signature,
        now=now,
        **options,
    )


def put_plain(state, article_id: str, signature: Signature, now: datetime, **options):
    return assign(
        state,
        rule_id="treaty_ratified",
        alert_id=f"alert-{article_id}",
        article_id=article_id,
        source=f"outlet-{article_id}",
        signature=signature,
        now=now,
        **options,
    )


# ---- the seeds and different events of the same rule ----------------------------------------
def seed_treaty_story(classifier: Classifier):
    state, results = None, []
    for path in sorted(SEEDS.glob("*.txt")):
        for alert, signature in signed_alerts(classifier, parse_seed(path)):
            if alert.rule_id == "treaty_ratified":
                state, story, status = put(state, alert, signature, T0)
                results.append((alert.article.id[:3], story, status))
    return state, results


def test_seeds_give_one_treaty_ratified_story_of_three_articles(classifier):
    state, results = seed_treaty_story(classifier)
    assert {seed for seed, _, _ in results} >= {"001", "003", "004"}
    assert len({story.id for _, story, _ in results}) == 1
    assert [status for _, _, status in results] == ["new"] + ["update"] * (len(results) - 1)
    last = results[-1][1]
    assert last.article_count == len(results) == state["stories"][0]["article_count"]
    assert len(last.sources) == len(results)  # each seed file is its own "outlet"
    assert last.id == stories.story_id("treaty_ratified", state_first_alert(classifier))


def state_first_alert(classifier: Classifier) -> str:
    first = sorted(SEEDS.glob("001_*.txt"))[0]
    alerts = {a.rule_id: a for a in classifier.classify(parse_seed(first))}
    return alerts["treaty_ratified"].alert_id


OTHER_EVENTS = {
    "japan": (
        "Parlemen Jepang Ratifikasi Perjanjian Akses Timbal Balik dengan Filipina",
        "Parlemen Jepang meratifikasi perjanjian akses timbal balik dengan Filipina pada Rabu. "
        "Perjanjian itu mengatur latihan bersama pasukan kedua negara.",
    ),
    "iran": (
        "Duma Rusia Ratifikasi Perjanjian Kemitraan dengan Iran",
        "Duma Negara Rusia meratifikasi perjanjian kemitraan strategis dengan Iran. Perjanjian "
        "itu berlaku dua puluh tahun.",
    ),
}


@pytest.mark.parametrize("event", sorted(OTHER_EVENTS))
def test_a_different_event_of_the_same_rule_is_a_different_story(classifier, event):
    state, results = seed_treaty_story(classifier)
    title, body = OTHER_EVENTS[event]
    article = Article(id=f"other-{event}", title=title, body=body, source="other.id")
    [(alert, signature)] = [
        p for p in signed_alerts(classifier, article) if p[0].rule_id == ("treaty_ratified")
    ]
    state, story, status = put(state, alert, signature, T0 + timedelta(hours=1))
    assert status == "new" and story.article_count == 1
    assert story.id != results[0][1].id
    assert [s["article_count"] for s in state["stories"]] == [len(results), 1]


def test_the_same_event_after_the_window_is_a_new_story(classifier):
    state, results = seed_treaty_story(classifier)
    path = sorted(SEEDS.glob("004_*.txt"))[0]
    article = parse_seed(path).model_copy(update={"id": "004-repeat", "source": "late.id"})
    [(alert, signature)] = [
        p for p in signed_alerts(classifier, article) if p[0].rule_id == ("treaty_ratified")
    ]
    inside = put(state, alert, signature, T0 + timedelta(hours=71))
    assert inside.status == "update" and inside.story.id == results[0][1].id
    after = put(state, alert, signature, T0 + timedelta(hours=73))
    assert after.status == "new" and after.story.id != results[0][1].id
    assert len(after.state["stories"]) == 1  # the expired story was dropped


# ---- the rules of assignment, on hand-made signatures ------------------------------------
def sig(words=WORDS, terms=("ratify", "treaty"), countries=("RU", "KP"), language="en"):
    return signature_of(text_minhash(list(words)), terms, countries, language)


def test_signature_is_deterministic_across_processes():
    here = sig().minhash
    code = f"from streams.stories import text_minhash;print(list(text_minhash({WORDS!r})))"
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(there) == list(here)
    assert len(here) == stories.NUM_PERM


def test_signature_normalises_terms_and_countries():
    signature = sig(["a"], ["Ratif*", " stationed* ", "Perjanjian", "*"], ["ru"], None)
    assert signature.terms == {"ratif", "stationed", "perjanjian"}
    assert signature.countries == {"RU"}
    assert sig([], [], []).minhash == ()


def test_near_duplicates_join_even_when_their_evidence_differs():
    copy_ = sig(words=[*WORDS, "reuters", "reported"], terms=("pact",), countries=("US",))
    state, first, _ = put_plain(None, "a", sig(), T0)
    _, story, status = put_plain(state, "b", copy_, T0 + timedelta(hours=1))
    assert (story.id, status, story.article_count) == (first.id, "update", 2)


def test_same_event_needs_overlapping_countries():
    state, first, _ = put_plain(None, "a", sig(words=["one"] * 5), T0)
    subset = sig(words=["two"] * 5, countries=("KP",))
    partial = sig(words=["three"] * 5, countries=("RU", "IR"))
    assert put_plain(state, "b", subset, T0).story.id == first.id  # overlap 1/1
    assert put_plain(state, "c", partial, T0).status == "new"  # overlap 1/2 < 0.6


def test_terms_must_be_shared_within_a_language_but_not_across_languages():
    state, first, _ = put_plain(None, "a", sig(words=["one"] * 5), T0)
    other_terms = sig(words=["two"] * 5, terms=("approve", "accord"))
    indonesian = sig(words=["tiga"] * 5, terms=("perjanjian", "ratifikasi"), language="id")
    assert put_plain(state, "b", other_terms, T0).status == "new"
    assert put_plain(state, "c", indonesian, T0).story.id == first.id


def test_articles_without_countries_group_only_with_each_other():
    state, first, _ = put_plain(None, "a", sig(words=["one"] * 5, countries=()), T0)
    assert put_plain(state, "b", sig(words=["two"] * 5, countries=()), T0).story.id == first.id
    assert put_plain(state, "c", sig(words=["three"] * 5), T0).status == "new"


def test_redelivery_changes_nothing_and_answers_as_the_first_time():
    state, _, _ = put_plain(None, "a", sig(), T0)
    state, story, _ = put_plain(state, "b", sig(countries=("KP",)), T0)
    again_first = put_plain(state, "a", sig(), T0 + timedelta(hours=1))
    again_second = put_plain(state, "b", sig(), T0 + timedelta(hours=1))
    assert (again_first.status, again_second.status) == ("new", "update")
    assert again_first.story == again_second.story == story
    assert again_second.state == state


def test_assign_leaves_its_input_state_alone():
    state, _, _ = put_plain(None, "a", sig(), T0)
    before = copy.deepcopy(state)
    put_plain(state, "b", sig(), T0)
    put_plain(state, "c", sig(words=["x"] * 4, countries=("JP",)), T0 + timedelta(days=9))
    assert state == before


def test_state_survives_a_json_round_trip_like_a_table_changelog():
    events = [
        ("a", sig(), T0),
        ("b", sig(words=["other"] * 6, countries=("KP",)), T0 + timedelta(hours=2)),
        ("c", sig(words=["elsewhere"] * 6, countries=("JP", "PH")), T0 + timedelta(hours=3)),
        ("d", sig(words=WORDS[:-1], countries=()), T0 + timedelta(hours=4)),
    ]
    live = stored = None
    for article_id, signature, now in events:
        live_result = put_plain(live, article_id, signature, now)
        stored_result = put_plain(stored, article_id, signature, now)
        live, stored = live_result.state, json.loads(json.dumps(stored_result.state))
        stories._ROWS.clear()  # a restarted worker has no decoded rows cached
        assert live_result[1:] == stored_result[1:]
    assert [s["article_count"] for s in live["stories"]] == [3, 1]


def test_a_state_of_another_version_is_started_afresh():
    state, first, _ = put_plain(None, "a", sig(), T0)
    assert put_plain(state, "b", sig(), T0).story.id == first.id
    result = put_plain({**state, "version": stories.STATE_VERSION + 1}, "b", sig(), T0)
    assert result.status == "new" and len(result.state["stories"]) == 1


def test_a_busy_story_keeps_a_state_of_bounded_size():
    state, sizes = None, {}
    for n in range(1, 2001):
        state = put_plain(state, f"article-{n}", sig(), T0).state
        if n in (STORY_RECENT_ARTICLES, 2000):
            sizes[n] = len(json.dumps(state))
    [story] = state["stories"]
    assert story["article_count"] == 2000
    assert len(story["sources"]) == STORY_SOURCES
    assert [len(ids) for ids in state["recent"]] == [STORY_RECENT_ARTICLES] * 2
    assert sizes[2000] <= sizes[STORY_RECENT_ARTICLES] * 1.05  # ids grow from 3 to 4 digits


def test_the_largest_state_fits_in_one_changelog_record_of_a_default_kafka():
    state = None
    for i in range(stories.MAX_STORIES):  # as many stories, outlets and terms as a state keeps
        signature = sig(
            words=[f"w{i}"] * 3,
            terms=[f"term-{i}-{k}" for k in range(8)],
            countries=(f"C{i}", f"D{i}", f"E{i}"),
        )
        for j in range(STORY_SOURCES):
            state = assign(
                state,
                rule_id="a_rule_id_of_forty_characters_0123456789",
                alert_id=f"{i}-{j}",
                article_id=f"https://example.org/news/{i:06d}/{j:04d}-an-article-id",
                source=f"an-outlet-with-a-long-name-{j:04d}.example.org",
                signature=signature,
                now=T0,
            ).state
    assert len(state["stories"]) == stories.MAX_STORIES
    assert len(json.dumps(state).encode()) < 1_000_000  # Kafka's default max.message.bytes


def test_a_redelivery_older_than_the_recent_assignments_counts_again():
    state, first, _ = put_plain(None, "a", sig(), T0)
    for n in range(STORY_RECENT_ARTICLES):
        state = put_plain(state, f"later-{n}", sig(), T0).state
    again = put_plain(state, "a", sig(), T0)
    assert (again.story.id, again.status) == (first.id, "update")
    assert again.story.article_count == STORY_RECENT_ARTICLES + 2


def test_a_version_1_state_is_upgraded_and_keeps_its_stories():
    current = put_plain(put_plain(None, "a", sig(), T0).state, "b", sig(), T0).state
    [story] = current["stories"]
    fields = {k: v for k, v in story.items() if k not in ("first_article", "article_count")}
    old = {
        "version": 1,
        "rule_id": "treaty_ratified",
        "stories": [{**fields, "articles": ["a", "b"]}],
        "minhashes": current["minhashes"],
    }
    result = put_plain(old, "c", sig(), T0)
    found = (result.story.id, result.status, result.story.article_count)
    assert found == (story["id"], "update", 3)
    assert result.state["stories"][0]["first_article"] == "a"


def test_story_ids_depend_only_on_rule_and_first_alert_so_replays_agree():
    def replay() -> list[str]:
        state, ids = None, []
        for i, countries in enumerate([("RU",), ("JP",), ("RU", "KP")]):
            state, story, _ = put_plain(state, str(i), sig(words=[str(i)], countries=countries), T0)
            ids.append(story.id)
        return ids

    assert replay() == replay()
    assert replay()[0] == replay()[2] == stories.story_id("treaty_ratified", "alert-0")
    assert stories.story_id("troop_deployment", "alert-0") != replay()[0]


def test_the_stalest_stories_are_evicted_beyond_the_cap():
    state = None
    for i in range(5):
        words, countries = [f"w{i}"] * 3, (f"C{i}",)
        at = T0 + timedelta(minutes=i)
        state = put_plain(state, str(i), sig(words=words, countries=countries), at).state
    later = T0 + timedelta(minutes=10)
    state = put_plain(state, "0b", sig(words=["w0"] * 3, countries=("C0",)), later).state
    old = T0 - timedelta(hours=1)  # a late article: its new story is kept all the same
    result = put_plain(state, "new", sig(words=["n"], countries=("N",)), old, max_stories=3)
    assert [s["first_article"] for s in result.state["stories"]] == ["0", "4", "new"]
    assert len(stories._rows(result.state, 3)) == 3


def test_a_late_article_moves_first_seen_back_and_the_window_follows_last_seen():
    state, _, _ = put_plain(None, "a", sig(), T0)
    state, story, _ = put_plain(state, "b", sig(), T0 - timedelta(hours=5))
    assert story.first_seen == T0 - timedelta(hours=5)
    state, _, _ = put_plain(state, "c", sig(), T0 + timedelta(hours=70))
    assert put_plain(state, "d", sig(), T0 + timedelta(hours=140)).status == "update"


def test_alert_time_prefers_publication_unless_it_is_missing_or_in_the_future():
    detected = T0
    assert stories.alert_time(T0 - timedelta(hours=3), detected) == T0 - timedelta(hours=3)
    assert stories.alert_time(None, detected) == detected
    assert stories.alert_time(T0 + timedelta(days=400), detected) == detected
    assert stories.alert_time(datetime(2024, 1, 1), detected) == detected  # naive: unknown zone


# ---- the labelled set: pairwise precision and recall, and the cost --------------------------
def labelled_alerts(classifier: Classifier) -> list[tuple[dict, Alert, list[str]]]:
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines() if line.strip()]
    found = []
    for row in rows:
        article = Article.model_validate(row)
        document = Document.from_article(article)
        minhash = stories.document_minhash(document)
        alerts = classifier.classify_document(document)
        found += [(row, a, minhash) for a in alerts if a.rule_id == row["rule"]]
    return sorted(found, key=lambda item: item[0]["published_at"])


def group(items, thresholds: Thresholds = stories.DEFAULT_THRESHOLDS) -> dict[str, str]:
    states: dict[str, dict] = {}
    predicted = {}
    for row, alert, minhash in items:
        signature = stories.alert_signature(alert, minhash)
        now = datetime.fromisoformat(row["published_at"])
        result = put(states.get(alert.rule_id), alert, signature, now, thresholds=thresholds)
        states[alert.rule_id] = result.state
        predicted[row["id"]] = result.story.id
    return predicted


def pairwise(items, predicted: dict[str, str]) -> tuple[float, float]:
    tp = fp = fn = 0
    for (a, _, _), (b, _, _) in itertools.combinations(items, 2):
        if a["rule"] != b["rule"]:
            continue
        truth, guess = a["story"] == b["story"], predicted[a["id"]] == predicted[b["id"]]
        tp, fp, fn = tp + (truth and guess), fp + (guess and not truth), fn + (truth and not guess)
    return tp / (tp + fp), tp / (tp + fn)


def test_labelled_set_precision_recall_and_cost(classifier):
    items = labelled_alerts(classifier)
    rows = LABELLED.read_text().count("\n")
    assert len(items) >= rows - 3, "the rules no longer fire on most labelled articles"
    precision, recall = pairwise(items, group(items))
    # Measured: P 0.854, R 1.000 on 36 alerts. Every false pair is the one hard case left in
    # on purpose: two Indonesia-Singapore treaties ratified in the same week (see README).
    assert precision >= 0.85
    assert recall == 1.0

    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        group(items)
    per_alert = (time.perf_counter() - started) / (rounds * len(items))
    print(
        f"\nstories: P={precision:.3f} R={recall:.3f} over {len(items)} alerts; "
        f"signature + assign {per_alert * 1e6:.0f} us per alert"
    )


def test_countries_carry_the_grouping_and_evidence_terms_only_cost_recall(classifier):
    """Why the defaults: stricter term overlap loses same-event pairs and gains nothing."""
    items = labelled_alerts(classifier)
    default = pairwise(items, group(items))
    strict_terms = pairwise(items, group(items, Thresholds(terms=0.34)))
    loose_countries = pairwise(items, group(items, Thresholds(countries=0.34)))
    assert strict_terms[1] < default[1] and strict_terms[0] <= default[0]
    assert loose_countries[0] < default[0]
