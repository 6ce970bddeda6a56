"""The operators' Grafana dashboard as code; ``pantau dashboard`` writes its JSON for Grafana.

Panels are reviewed as Python and the JSON under ``deploy/grafana/dashboards/`` is generated, so
the two cannot drift apart unnoticed (``--check`` and the test suite compare them). Every query
reads a ``pantau_*`` metric from :mod:`streams.worker.metrics` or Prometheus' own ``up``; the
integration test runs each one against a Prometheus that scraped a real worker.

grafana-foundation-sdk is a development dependency, so it is imported only when building.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders.prometheus import Dataquery
    from grafana_foundation_sdk.builders.stat import Panel as Stat
    from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
    from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel

DASHBOARD_PATH = (
    Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards" / "pantau.json"
)
UID = "pantau"
RATE = "[$__rate_interval]"
JOB = 'job="pantau"'
"""The scrape job of deploy/prometheus/prometheus.yml; only ``up`` needs it, pantau_* are ours."""


def query(expr: str, legend: str = "", instant: bool = False) -> Dataquery:
    from grafana_foundation_sdk.builders.prometheus import Dataquery

    target = Dataquery().expr(expr).legend_format(legend or "__auto").ref_id("A")
    return target.instant() if instant else target.range()


def quantiles(histogram: str, label: str = "") -> list[Dataquery]:
    """p50, p95 and p99 of a histogram across all workers."""
    buckets = f"sum by (le) (rate({histogram}_bucket{RATE}))"
    return [
        query(f"histogram_quantile({q}, {buckets})", f"{label}p{round(q * 100)}")
        for q in (0.5, 0.95, 0.99)
    ]


def timeseries(title: str, description: str, unit: str, targets: list[Dataquery]) -> Timeseries:
    from grafana_foundation_sdk.builders.common import VizLegendOptions
    from grafana_foundation_sdk.builders.timeseries import Panel
    from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement

    legend = (
        VizLegendOptions()
        .display_mode(LegendDisplayMode.LIST)
        .placement(LegendPlacement.BOTTOM)
        .show_legend(True)
    )
    return (
        Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .min(0)
        .targets([t.ref_id(chr(ord("A") + i)) for i, t in enumerate(targets)])
        .legend(legend)
        .height(8)
        .span(12)
    )


def stat(title: str, description: str, target: Dataquery, unit: str = "none") -> Stat:
    from grafana_foundation_sdk.builders.common import ReduceDataOptions
    from grafana_foundation_sdk.builders.stat import Panel
    from grafana_foundation_sdk.models.common import BigValueGraphMode

    return (
        Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .with_target(target)
        .graph_mode(BigValueGraphMode.NONE)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
        .height(4)
        .span(6)
    )


def judged(window: str, verdict: str = "") -> str:
    """Alerts readers judged in ``window``, by rule and latest verdict: a changed verdict counts
    under the new one only. The alerting rules record the same over 24 h (alerts.yml)."""
    selector = f'{{verdict="{verdict}"}}' if verdict else ""
    given = f"sum by (rule_id, verdict) (increase(pantau_alert_feedback_total{selector}[{window}]))"
    withdrawn = (
        "sum by (rule_id, verdict) "
        f"(increase(pantau_alert_feedback_withdrawn_total{selector}[{window}]))"
    )
    return f"clamp_min(({given} - {withdrawn}) or {given}, 0)"


PRECISION = (
    f"sum by (rule_id) ({judged('$__range', 'correct')})"
    f" / (sum by (rule_id) ({judged('$__range')}) > 0)"
)
"""Each rule's precision from readers' verdicts over the dashboard's time range (the rules
with verdicts only)."""


def feedback_panels() -> list:
    """Precision by rule from readers' verdicts, and how many verdicts come in."""
    from grafana_foundation_sdk.builders.bargauge import Panel as BarGauge
    from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
    from grafana_foundation_sdk.models.common import GraphDrawStyle, VizOrientation
    from grafana_foundation_sdk.models.dashboard import Threshold, ThresholdsMode

    precision = (
        BarGauge()
        .title("Precision by rule (from feedback)")
        .description(
            "Of each rule's alerts that readers judged in the time range (`pantau feedback`), "
            "the share judged correct; an alert counts once, by its latest verdict. "
            "PantauRulePrecisionLow fires below 70% over 24 h with at least 10 votes."
        )
        .with_target(query(PRECISION, "{{rule_id}}", instant=True))
        .orientation(VizOrientation.HORIZONTAL)
        .unit("percentunit")
        .min(0)
        .max(1)
        .thresholds(
            ThresholdsConfig()
            .mode(ThresholdsMode.ABSOLUTE)
            .steps(
                [
                    Threshold(value=None, color="red"),
                    Threshold(value=0.7, color="yellow"),
                    Threshold(value=0.9, color="green"),
                ]
            )
        )
        .height(8)
        .span(12)
    )
    volume = timeseries(
        "Feedback volume",
        "Verdicts readers gave per interval, by verdict, and verdicts changed (each counted "
        "under its new verdict too).",
        "short",
        [
            query(
                "sum by (verdict) (increase(pantau_alert_feedback_total[$__interval]))",
                "{{verdict}}",
            ),
            query("sum(increase(pantau_alert_feedback_withdrawn_total[$__interval]))", "changed"),
        ],
    ).draw_style(GraphDrawStyle.BARS)
    return [precision, volume]


def build() -> DashboardModel:
    """The dashboard model (grafana-foundation-sdk), ready for JSON encoding."""
    from grafana_foundation_sdk.builders.bargauge import Panel as BarGauge
    from grafana_foundation_sdk.builders.common import ReduceDataOptions, StackingConfig
    from grafana_foundation_sdk.builders.dashboard import (
        Dashboard,
        DatasourceVariable,
        Row,
        ThresholdsConfig,
    )
    from grafana_foundation_sdk.models.common import (
        BigValueTextMode,
        GraphDrawStyle,
        StackingMode,
        VizOrientation,
    )
    from grafana_foundation_sdk.models.dashboard import (
        DataSourceRef,
        Threshold,
        ThresholdsMode,
    )

    workers_up = stat(
        "Workers up",
        "Workers Prometheus scrapes successfully. Fewer than you run: see PantauWorkerDown.",
        query(f"sum(up{{{JOB}}})", "workers", instant=True),
    ).thresholds(
        ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=None, color="red"), Threshold(value=1, color="green")])
    )
    ruleset = stat(
        "Rule-set version",
        "Version of the active rule set, with how many workers run it; "
        "two versions at once mean a rollout is under way.",
        query("count by (version) (pantau_ruleset_info)", "{{version}}", instant=True),
    ).text_mode(BigValueTextMode.VALUE_AND_NAME)
    rules = stat(
        "Rules loaded",
        "Enabled rules in the active rule set (highest across workers).",
        query("max(pantau_rules_loaded)", "rules", instant=True),
    )
    idle = stat(
        "Since last article",
        "Time since any worker finished an article. Quiet feeds are normal at night; "
        "see PantauNoArticles.",
        query("time() - max(pantau_last_processed_timestamp_seconds > 0)", "idle", instant=True),
        unit="s",
    )

    articles = timeseries(
        "Articles in / classified / dead-lettered",
        "Records consumed, classified and sent to the dead-letter topic, per second. "
        "In minus classified minus dead-lettered is what is still in flight.",
        "ops",
        [
            query(f"sum(rate(pantau_articles_consumed_total{RATE}))", "in"),
            query(f"sum(rate(pantau_articles_classified_total{RATE}))", "classified"),
            query(f"sum(rate(pantau_articles_dead_lettered_total{RATE}))", "dead-lettered"),
        ],
    )
    per_rule = timeseries(
        "Alerts per rule",
        "Alerts published per minute, by watch rule.",
        "cpm",
        [
            query(
                f"60 * sum by (rule_id) (rate(pantau_alerts_published_total{RATE}))",
                "{{rule_id}}",
            )
        ],
    )
    by_severity = (
        timeseries(
            "Alerts by severity",
            "Alerts published per minute, stacked by the severity of their rule.",
            "cpm",
            [
                query(
                    f"60 * sum by (severity) (rate(pantau_alerts_published_total{RATE}))",
                    "{{severity}}",
                )
            ],
        )
        .draw_style(GraphDrawStyle.BARS)
        .fill_opacity(80)
        .stacking(StackingConfig().mode(StackingMode.NORMAL))
    )
    top_rules = (
        BarGauge()
        .title("Top rules")
        .description("Rules with the most alerts over the dashboard's time range.")
        .with_target(
            query(
                "topk(10, sum by (rule_id) "
                "(increase(pantau_alerts_published_total[$__range])) > 0)",
                "{{rule_id}}",
                instant=True,
            )
        )
        .orientation(VizOrientation.HORIZONTAL)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
        .unit("short")
        .decimals(0)
        .height(8)
        .span(12)
    )

    bursts = timeseries(
        "Bursts and new stories",
        "Burst events (a rule far above its rolling baseline, also on the bursts topic) and "
        "alerts that opened a new story, per rule, per minute.",
        "cpm",
        [
            query(f"60 * sum by (rule_id) (rate(pantau_bursts_total{RATE}))", "burst {{rule_id}}"),
            query(
                f"60 * sum by (rule_id) (rate(pantau_stories_opened_total{RATE}))",
                "new story {{rule_id}}",
            ),
        ],
    ).draw_style(GraphDrawStyle.BARS)

    end_to_end = timeseries(
        "End-to-end latency",
        "From the article's publish time (or its receipt) to the broker's acknowledgement of "
        "its alert. Articles published long before they reach Pantau raise it.",
        "s",
        quantiles("pantau_end_to_end_latency_seconds"),
    )
    classification = timeseries(
        "Classification time",
        "Time to classify one article against every rule.",
        "s",
        quantiles("pantau_classification_seconds"),
    )

    lag = timeseries(
        "Consumer lag",
        "Records per partition not processed yet (highwater minus next offset). "
        "Steady growth means the workers cannot keep up: see PantauConsumerLagGrowing.",
        "short",
        [query("max by (topic, partition) (pantau_consumer_lag)", "{{topic}}/{{partition}}")],
    )
    partitions = timeseries(
        "Partitions per worker",
        "Topic partitions assigned to each worker; a worker at 0 is idle or not in the group.",
        "short",
        [query("sum by (instance) (pantau_faust_assigned_partitions)", "{{instance}}")],
    )
    kafka_latency = timeseries(
        "Kafka send and commit p99",
        "99th percentile of producer acknowledgements and offset commits (Faust's sensor).",
        "s",
        [
            query(
                "histogram_quantile(0.99, sum by (le) "
                f"(rate(pantau_faust_send_latency_seconds_bucket{RATE})))",
                "send p99",
            ),
            query(
                "histogram_quantile(0.99, sum by (le) "
                f"(rate(pantau_faust_commit_latency_seconds_bucket{RATE})))",
                "commit p99",
            ),
        ],
    )

    layout = [
        ("Overview", [workers_up, ruleset, rules, idle]),
        ("Articles and alerts", [articles, per_rule, by_severity, top_rules, bursts]),
        ("Latency", [end_to_end, classification]),
        ("Kafka", [lag, partitions, kafka_latency]),
        ("Feedback", feedback_panels()),
    ]
    datasource = DataSourceRef(type_val="prometheus", uid="${datasource}")
    board = (
        Dashboard("Pantau")
        .uid(UID)
        .description(
            "Pantau workers: articles in, alerts out, latency, Kafka consumption and readers' "
            "verdicts."
        )
        .tags(["pantau", "generated"])
        .refresh("30s")
        .time("now-3h", "now")
        .timezone("browser")
        .with_variable(DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    panel_id = 0
    for title, panels in layout:
        panel_id += 1
        board = board.with_row(Row(title).id(panel_id))
        for panel in panels:
            panel_id += 1
            board = board.with_panel(panel.id(panel_id).datasource(datasource))
    return board.build()


def dashboard_json() -> str:
    """The dashboard as stable, reviewable JSON text (sorted keys, trailing newline)."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder

    return json.dumps(build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
