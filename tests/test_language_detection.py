"""Language detection on the seed articles and short hand-written paragraphs."""

from pathlib import Path

import pytest

from streams.text.language import detect_language

SEEDS = sorted((Path(__file__).parents[1] / "seeds").glob("*.txt"))

ENGLISH = (
    "The defence ministry said on Tuesday that two more brigades had been moved to the border "
    "region after talks between the two governments broke down late last week."
)
MALAY = (
    "Kerajaan memberitahu pemberita semalam bahawa tentera akan dihantar ke sempadan selepas "
    "mesyuarat kabinet, manakala menteri berkenaan enggan mengulas lanjut mengenai perkara itu."
)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: path.stem)
def test_seeds_are_indonesian(seed: Path) -> None:
    assert detect_language(seed.read_text(encoding="utf-8")) == "id"


def test_seeds_exist() -> None:
    assert SEEDS


@pytest.mark.parametrize(("text", "expected"), [(ENGLISH, "en"), (MALAY, "ms")])
def test_paragraphs(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   \n", "Putin", "2024-06-19"])
def test_empty_or_too_short_is_unknown(text: str) -> None:
    assert detect_language(text) is None
