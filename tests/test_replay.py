"""Seed files and JSON Lines become article events."""

from __future__ import annotations

import json

import pytest

from streams.replay import articles_from, parse_seed

from .conftest import SEEDS


def test_the_five_seeds_parse_with_title_from_the_first_non_empty_line():
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 5
    article = parse_seed(seeds[4])
    assert article.id == seeds[4].stem
    assert article.title.startswith("Perjanjian Diratifikasi")
    assert "meratifikasi" in article.body and not article.body.startswith("\n")


def test_blank_leading_lines_are_skipped(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("\n\n  Judul Berita  \n\nIsi berita.\n")
    article = parse_seed(path)
    assert (article.title, article.body) == ("Judul Berita", "Isi berita.")


def test_jsonl_and_text_files_mix_in_order(tmp_path):
    lines = tmp_path / "a.jsonl"
    lines.write_text(
        json.dumps({"id": "j1", "body": "satu"}) + "\n\n" + '{"id": "j2", "body": "dua"}\n'
    )
    text = tmp_path / "b.txt"
    text.write_text("Judul\nIsi")
    assert [e["id"] for e in articles_from([lines, text])] == ["j1", "j2", "b"]


def test_a_bad_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "body": "x"}\n{not json}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        list(articles_from([path]))
