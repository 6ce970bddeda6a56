"""Seed files and JSON Lines become article events."""

from __future__ import annotations

import json

import pytest

from streams.tools.replay import articles_from, parse_seed

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


def test_a_dateline_above_the_headline_stays_in_the_body():
    article = parse_seed(sorted(SEEDS.glob("001_*.txt"))[0])
    assert article.title.startswith("Putin Sahkan Perjanjian Pertahanan")
    assert article.body.startswith("Selasa, Desember 3, 2024\n")


@pytest.mark.parametrize(
    ("line", "dateline"),
    [
        ("Selasa, Desember 3, 2024", True),
        ("Tuesday, 3 December 2024", True),
        ("Isnin, 2 Dis 2024", True),
        ("Tanggal: 13 Nov 2024 07:00 wib.", False),  # a labelled line of the body
        ("Mei 2024: Korea Utara Kirim Pasukan", False),  # a headline naming a month
        ("2024", False),
    ],
)
def test_a_dateline_is_only_calendar_words_and_numbers(tmp_path, line, dateline):
    path = tmp_path / "x.txt"
    path.write_text(f"{line}\nJudul Berita\nIsi berita.\n")
    assert parse_seed(path).title == ("Judul Berita" if dateline else line)


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
