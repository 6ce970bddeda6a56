"""The benchmark harness's pure parts: statistics, the naive baseline, targets and JSON shape.

No timing is asserted: figures depend on the machine; only their shape and the logic that
judges them are tested here.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
from click.testing import CliRunner

from benchmarks import bench
from benchmarks.e2e import Load
from benchmarks.memory import MemoryPlan, summarise_memory
from benchmarks.naive import naive_classify, naive_rules
from benchmarks.profile import top_frames
from benchmarks.report import targets
from benchmarks.stats import median, percentile, ratio, slope
from benchmarks.workload import article_events
from streams.engine import Classifier
from streams.models import Article
from streams.rules.packs import compile_texts, parse_pack
from streams.settings import DEFAULT_PACK

SIMPLE_PACK = """
rules:
  - {id: missile_launch, title: t, query: 'missile AND launch'}
  - {id: troops_border, title: t, query: 'troops NEAR/3 border'}
  - {id: peace_treaty, title: t, query: '"peace treaty"'}
  - {id: ratify_prefix, title: t, query: 'ratif*'}
  - {id: summit_not_cancelled, title: t, query: 'summit NOT cancelled'}
  - {id: title_election, title: t, query: 'title:election'}
  - {id: ordered_near, title: t, query: 'signed ONEAR/2 treaty'}
"""

ARTICLES = [
    ("Missile launch reported", "The missile launch came at dawn. Troops massed near the border."),
    (
        "Election day",
        "Troops reached the border on Monday. Leaders signed a peace treaty and will ratify it.",
    ),
    ("Summit news", "The summit was cancelled by the hosts. Nobody mentioned a missile."),
    ("Summit opens", "The summit opened in Jakarta with a launch party for the election."),
    ("Border news", "Troops arrived in the morning. The border was closed."),
    ("Treaty talk", "The treaty was signed after the summit."),
]


def test_percentile_interpolates_like_numpy() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_median_ratio_and_slope() -> None:
    assert median([3.0, math.nan, 1.0, 2.0]) == 2.0
    assert math.isnan(median([math.nan]))
    assert ratio(10.0, 4.0) == 2.5
    assert math.isnan(ratio(1.0, 0.0))
    assert slope([0, 1, 2, 3], [1.0, 3.0, 5.0, 7.0]) == pytest.approx(2.0)
    assert math.isnan(slope([1], [1.0]))


def test_naive_baseline_agrees_with_the_classifier_on_simple_rules() -> None:
    pack = parse_pack(SIMPLE_PACK)
    classifier = Classifier(compile_texts([("<simple>", SIMPLE_PACK)]))
    rules = naive_rules([pack])
    for number, (title, body) in enumerate(ARTICLES):
        article = Article(id=f"a{number}", title=title, body=body)
        expected = sorted({alert.rule_id for alert in classifier.classify(article)})
        assert sorted(naive_classify(rules, article)) == expected, title


def test_naive_baseline_reads_concepts_and_field_scope() -> None:
    pack = parse_pack(
        """
concepts:
  arms: {en: [missile, "air defence", rocket*]}
rules:
  - {id: arms_title, title: t, query: 'title:@arms'}
"""
    )
    rules = naive_rules([pack])
    assert naive_classify(rules, Article(id="1", title="Rockets fired", body="x")) == ["arms_title"]
    assert naive_classify(rules, Article(id="2", title="News", body="air  defence")) == []


def test_workload_articles_are_seed_sized_and_unique() -> None:
    events = article_events(12)
    assert len({e["id"] for e in events}) == 12
    assert all(2000 <= len(e["body"].encode()) <= 8192 for e in events)


def test_quiet_articles_fire_nothing_and_are_spread_by_their_share() -> None:
    classify = Classifier(compile_texts([(str(DEFAULT_PACK), DEFAULT_PACK.read_text())])).classify
    events = article_events(20, quiet_share=0.75)
    quiet = [e for e in events if e["id"].endswith("quiet")]
    assert len(quiet) == 15 and len({e["body"] for e in quiet}) == 15
    assert all(2000 <= len(e["body"].encode()) <= 8192 for e in quiet)
    assert not any(classify(Article.model_validate(e)) for e in quiet)
    loud = [e for e in events if e not in quiet]
    assert all(classify(Article.model_validate(e)) for e in loud)
    assert [e["body"] for e in loud] == [e["body"] for e in article_events(5)]
    assert [i for i, e in enumerate(events) if e in loud] == [0, 4, 8, 12, 16]


def test_end_to_end_latency_waits_only_for_articles_that_owe_an_output() -> None:
    load = Load.of(article_events(8, quiet_share=0.5))
    quiet = {e["id"] for e in load.events if e["id"].endswith("quiet")}
    everything = {e["id"] for e in load.events}
    assert len(quiet) == 4
    assert load.answered("worker") == everything - quiet
    assert load.answered("raw") == everything  # a reference outputs one record per article
    fired = {e["id"] for e, alerts in zip(load.events, load.alerts, strict=True) if alerts}
    assert fired == everything - quiet
    assert load.outputs("worker") == sum(load.alerts)
    assert load.outputs("faust_send") == 8


def test_targets_judge_each_section_that_ran() -> None:
    results = {
        "classifier": {
            "rulesets": [
                {"name": "default", "rules": 10, "pantau": {"articles_per_second": 6000.0}},
                {"name": "generated-1000", "rules": 1000, "speedup_vs_naive": 12.0},
                {
                    "name": "generated-10000",
                    "rules": 10000,
                    "pantau": {"articles_per_second": 2400.0},
                },
            ]
        },
        "e2e": {
            "rate": 500.0,
            "systems": {"worker": {"articles_per_second": 2600.0, "p99_ms": math.nan}},
        },
    }
    verdicts = {row["target"]: row["met"] for row in targets(results)}
    assert verdicts == {
        "Classifier, default pack (10 rules)": True,
        "Classifier, 10,000 rules": False,
        "Classifier / naive, 1,000 rules": True,
        "End to end, worker throughput": True,
        "End to end, worker / Faust no-op": None,
        "End to end, p99 latency at 500/s": None,
    }


def test_memory_trend_is_judged_from_the_first_checkpoint() -> None:
    plan = MemoryPlan(articles=100, checkpoints=5)
    flat = [(n, 300.0 + (n % 3) * 0.1) for n in range(0, 101, 5)]
    growing = [(n, 300.0 + n) for n in range(0, 101, 5)]
    assert summarise_memory(plan, 250.0, flat)["no_growth_trend"] is True
    result = summarise_memory(plan, 250.0, growing)
    assert result["no_growth_trend"] is False
    assert [c["articles"] for c in result["checkpoints"]] == [20, 40, 60, 80, 100]
    assert result["complete"] is True


def test_top_frames_ranks_self_and_total_time(tmp_path) -> None:
    folded = tmp_path / "stacks.txt"
    folded.write_text(
        "main (run.py:1);classify (streams/classify.py:9);detect (streams/text/language.py:3) 6\n"
        "main (run.py:1);classify (streams/classify.py:9) 4\n"
    )
    frames = top_frames(folded)
    assert frames["samples"] == 10
    assert frames["self"][0] == {"frame": "detect (streams/text/language.py)", "percent": 60.0}
    assert {"frame": "classify (streams/classify.py)", "percent": 100.0} in frames["total"]


def quick_bench(out, *arguments: str) -> tuple[dict, str]:
    """``pantau bench --quick`` writing to ``out``: its results.json and what it printed."""
    outcome = CliRunner().invoke(bench, ["--quick", *arguments, "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    return json.loads((out / "results.json").read_text()), outcome.output


def test_quick_classifier_run_writes_json_and_chart(tmp_path) -> None:
    out = tmp_path / "results"
    arguments = ["--only", "classifier", "--rule-counts", "20", "--articles", "6", "--repeats", "1"]
    results, printed = quick_bench(out, *arguments)
    assert (out / "results.png").stat().st_size > 0
    assert set(results) == {"meta", "classifier", "targets"}
    assert results["meta"]["machine"]["cores"] >= 1
    names = [r["name"] for r in results["classifier"]["rulesets"]]
    assert names == ["default", "generated-20"]
    for entry in results["classifier"]["rulesets"]:
        for side in ("pantau", "naive"):
            assert entry[side]["articles_per_second"] > 0
            assert entry[side]["p99_ms"] >= entry[side]["p50_ms"] > 0
            assert len(entry[side]["runs"]) == 1
        assert entry["speedup_vs_naive"] > 0
    assert {row["section"] for row in results["targets"]} == {"classifier"}
    assert "Pantau benchmark: targets" in printed


def test_quick_end_to_end_run_through_tansu_times_every_article_that_alerts(tmp_path) -> None:
    arguments = ["--only", "e2e", "--backlog", "300", "--rate", "50", "--quiet-share", "0.5"]
    e2e = quick_bench(tmp_path / "results", *arguments)[0]["e2e"]
    assert e2e["quiet_share"] == 0.5
    systems = e2e["systems"]
    assert set(systems) == {"worker", "faust_noop", "faust_send", "raw"}
    assert all(s["complete"] and s["articles_per_second"] > 0 for s in systems.values())
    steady = systems["worker"]["runs"][0]["latency"]
    assert steady["articles"] == 250 and steady["timed"] == 125 and steady["missing"] == 0
    assert 0 < steady["p50_ms"] <= steady["p99_ms"] < 5_000
    assert e2e["worker_share_of_faust_noop"] > 0


def test_bench_outside_a_checkout_says_so_in_one_line(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from streams.cli import bench as bench_command
    from streams.cli import main

    monkeypatch.setattr(bench_command, "CHECKOUT", tmp_path)  # no benchmarks/ there
    result = CliRunner().invoke(main, ["bench", "--quick"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        "Error: pantau bench runs from a checkout of the repository (benchmarks/ is not installed)"
    ]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="Debian's valgrind is not installed")
def test_instructions_per_article_are_counted_by_callgrind_around_the_loop_only() -> None:
    from benchmarks.instructions import measure

    few, more = measure(3, 0.8, None), measure(6, 0.8, None)
    # The start-up (imports, compiling the pack) is not counted: per article it stays put.
    assert 1_000_000 < few < 100_000_000 and 0.5 < more / few < 2
