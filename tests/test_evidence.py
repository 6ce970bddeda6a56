"""Evidence a person can trust: offsets into an HTML body's original HTML, the concept of each
term, countries without the dateline; `replay` says what the worker will refuse; `tail`
prints alerts in publish order."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from streams.cli import main
from streams.engine import Classifier
from streams.models import Alert, Article
from streams.rules.packs import compile_texts
from streams.text.html_source import SourceMap

from .conftest import SANCTIONS, settings_for
from .test_guarantees import pantau

HTML = (
    "<html><head><title>Sanksi baru</title><style>p {color: red}</style></head><body>"
    "<p>Uni Eropa &amp; AS <b>menjatuhkan</b>&nbsp;sanksi kepada Iran &#8212; kata pejabat.</p>"
    '<script>var s = "sanksi dijatuhkan";</script></body></html>'
)


def alerts(body: str) -> list[Alert]:
    return Classifier(compile_texts([(str(SANCTIONS), SANCTIONS.read_text())])).classify(
        Article(id="t", body=body)
    )


def test_html_evidence_has_offsets_into_the_original_html():
    [alert] = alerts(HTML)
    [evidence] = alert.evidence
    assert evidence.snippet == "Uni Eropa & AS menjatuhkan\xa0sanksi kepada Iran — kata pejabat."
    assert HTML[evidence.html_start : evidence.html_end] == (
        "Uni Eropa &amp; AS <b>menjatuhkan</b>&nbsp;sanksi kepada Iran &#8212; kata pejabat."
    )
    located = {t.text: HTML[t.html_start : t.html_end] for t in evidence.terms}
    assert located == {"menjatuhkan": "menjatuhkan", "sanksi": "sanksi"}


def test_plain_text_evidence_has_no_html_offsets_and_a_mismatch_gives_none():
    [alert] = alerts("Uni Eropa menjatuhkan sanksi kepada Iran.")
    assert alert.evidence[0].html_start is None and alert.evidence[0].terms[0].html_end is None
    assert SourceMap.of("<p>one text</p>", "another text") is None


def test_each_term_names_its_concept():
    [alert] = alerts("Uni Eropa menjatuhkan sanksi kepada Iran.")
    assert {(t.text, t.concept) for t in alert.evidence[0].terms} == {
        ("menjatuhkan", "impose"),
        ("sanksi", "sanction"),
    }


@pytest.mark.parametrize(
    "dateline",
    ["JAKARTA, KOMPAS.com - ", "Jakarta, CNN Indonesia -- ", "JAKARTA (ANTARA) - "],
)
def test_a_datelines_place_is_not_one_of_the_alerts_countries(dateline):
    [alert] = alerts(f"{dateline}Amerika Serikat menjatuhkan sanksi baru kepada Iran.")
    assert alert.countries == ["IR", "US"]
    [named] = alerts("Amerika Serikat dan Indonesia menjatuhkan sanksi kepada Iran.")
    assert named.countries == ["ID", "IR", "US"]  # Indonesia named in the sentence counts


def test_replay_lists_what_the_worker_will_refuse_and_strict_sends_nothing(tmp_path):
    path = tmp_path / "feed.jsonl"
    rows = [
        {"id": "a", "headline": "Pasukan dikirim", "text": "Tentara dikirim ke Kursk."},
        {"title": "Tanpa id", "body": "Pasukan dikirim."},
        {"id": "c", "title": "Troops sent", "body": "Troops were sent to the border."},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = CliRunner().invoke(main, ["replay", "--strict", str(path)])  # refused: no broker
    assert result.exit_code == 1
    assert f"warning: {path}: 2 record(s) the worker will not take as they are:" in result.output
    assert (
        "line 1: dead-lettered as empty_text: article: title and body are both empty (nothing "
        "but whitespace, control or format characters); fields the worker ignores: headline, text"
    ) in result.output
    assert "line 2: dead-lettered as invalid_fields: id: Field required" in result.output
    assert "refused (--strict): 2 record(s) would be dead-lettered, 1 have fields" in result.output


@pytest.mark.integration
def test_tail_prints_alerts_in_publish_order(broker_url, topics, tmp_path):
    from streams.tools.replay import make_producer
    from streams.tools.topics import ensure_topics

    settings = settings_for(broker_url, topics)
    ensure_topics(settings, {settings.alerts_topic: (2, {})})
    [alert] = alerts("Uni Eropa menjatuhkan sanksi kepada Iran.")
    now = int(time.time() * 1000)
    producer = make_producer(settings)
    # The later alert sits on the partition read first; the earlier one on the other.
    for partition, status, stamp in ((0, "update", now + 5), (1, "new", now)):
        value = alert.model_copy(update={"story_status": status, "alert_id": status})
        producer.send(
            settings.alerts_topic,
            key=status.encode(),
            value=value.model_dump_json().encode(),
            partition=partition,
            timestamp_ms=stamp,
        )
    producer.flush()
    producer.close()
    env = {"PANTAU_BROKER": broker_url, "PANTAU_ALERTS_TOPIC": settings.alerts_topic}
    result = pantau(env, "tail", "--json", "--from-beginning", "--idle-timeout", "2")
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line)["story_status"] for line in result.stdout.splitlines()]
    assert printed == ["new", "update"]
