"""``pantau feedback``: a reader's verdict on an alert, published for the workers to count."""

from __future__ import annotations

import click
from pydantic import ValidationError

from streams.cli.output import console
from streams.settings import get_settings


@click.command()
@click.argument("alert_id")
@click.argument("verdict", type=click.Choice(["correct", "wrong"]))
@click.option("--reason", default=None, help="Why, in a few words, for the rule's author.")
@click.option("--by", default=None, help="Who judged it.")
def feedback(alert_id: str, verdict: str, reason: str | None, by: str | None) -> None:
    """Say whether the alert ALERT_ID was right: publish the verdict, keyed by the alert id, on
    the feedback topic (compacted, so the last verdict on an alert wins). Workers count each
    alert once, by its latest verdict, per rule; one that knows no such alert dead-letters it.
    """
    from streams.models import Feedback, first_problem
    from streams.tools.replay import make_producer
    from streams.tools.topics import ensure_topics

    settings = get_settings()
    try:
        record = Feedback(alert_id=alert_id, verdict=verdict, reason=reason, by=by)
    except ValidationError as error:
        raise click.BadParameter(first_problem(error, "feedback")[1]) from None
    topic = settings.alert_feedback_topic
    ensure_topics(settings, {topic: (settings.partitions, {"cleanup.policy": "compact"})})
    producer = make_producer(settings)
    producer.send(topic, key=alert_id.encode(), value=record.model_dump_json().encode())
    producer.flush()
    producer.close()
    console.print(f"{verdict} on alert {alert_id} published on {topic}", markup=False)
