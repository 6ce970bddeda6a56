"""`pantau eval` on an analyst's own labelled file: JSON Lines or TSV, scored per rule."""

from __future__ import annotations

import json

from click.testing import CliRunner

from streams.cli.evaluate import eval_command
from streams.tools.evaluation.labelled import is_labelled, load_labelled
from streams.tools.evaluation.run import detect

from .conftest import SANCTIONS

RECORDS = [
    {"text": "The EU will slap an embargo on Iran.", "rules": ["sanctions_imposed"]},
    {
        "title": "Sanksi baru",
        "body": "Uni Eropa menjatuhkan sanksi kepada Iran.",
        "language": "id",
        "rules": "sanctions_imposed",
    },
    {"id": "quiet", "text": "The EU will never impose an embargo.", "rules": []},
    {"text": "An embargo was discussed at length.", "rules": ["sanctions_imposed", "elsewhere"]},
    {"text": "Washington is said to slap sanctions on oil.", "rules": ""},
]


def test_a_json_lines_file_is_scored_per_rule_with_the_matchers_reasons(tmp_path):
    pack, path = SANCTIONS, tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in RECORDS))
    assert detect(path) == [("labelled", path)] and detect(tmp_path) == [("labelled", path)]
    result = CliRunner().invoke(eval_command, [str(path), "--rules", str(pack), "--json"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.output)["results"][str(path)]
    counts = scored["rules"]["sanctions_imposed"]
    assert (counts["tp"], counts["fp"], counts["fn"], counts["tn"]) == (2, 1, 1, 1)
    assert scored["unknown_rules"] == {"elsewhere": 1}
    table = CliRunner().invoke(eval_command, [str(path), "--rules", str(pack), "--errors", "5"])
    assert "sanctions_imposed fn #record 4" in table.output
    assert "why: @impose is absent: none of its terms occur" in table.output
    assert "sanctions_imposed fp #record 5" in table.output
    assert "1 text(s) expect 'elsewhere', which no loaded pack has" in table.output


def test_a_tsv_file_with_a_header_is_read_too(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text(
        "id\ttitle\tbody\tlanguage\trules\n"
        "a\tSanksi\tUni Eropa menjatuhkan sanksi kepada Iran.\tid\tsanctions_imposed\n"
        "b\t\tHujan turun di Jakarta.\t\t\n"
    )
    assert is_labelled(path)
    [first, second] = load_labelled(path)
    assert (first.id, first.article.title, first.article.language) == ("a", "Sanksi", "id")
    assert first.positives == {"sanctions_imposed"} and second.positives == frozenset()


def test_a_bad_record_is_named_by_its_line(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"text": "ok", "rules": []}\n{"text": "", "rules": []}\n')
    result = CliRunner().invoke(eval_command, [str(path)])
    assert result.exit_code == 1
    assert (
        f"{path}:2: not a labelled record (record: title and body are both empty"
    ) in result.output
    other = tmp_path / "other.tsv"
    other.write_text("text\tlabels\nsomething\tx\n")
    refused = CliRunner().invoke(eval_command, [str(other)])
    assert "missing columns" in refused.output and "needs a 'rules' column" in refused.output
