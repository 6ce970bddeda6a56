"""Country mentions in Indonesian and English news sentences."""

import re

import pytest

from streams.text.countries import default_countries, fold


def countries(sentence: str) -> list[tuple[int, int, str]]:
    """Tokenise like the document pipeline (hyphenated compounds already split) and match."""
    originals = re.findall(r"\w+", sentence)
    return default_countries().find([fold(word) for word in originals], originals)


def codes(sentence: str) -> set[str]:
    return {code for _, _, code in countries(sentence)}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Rusia dan Korea Utara menandatangani pakta", {"RU", "KP"}),
        ("as soon as possible", set()),
        ("AS mengirim kapal", {"US"}),
        ("Pasukan Korut tiba di Kursk", {"KP"}),
        ("the Kremlin said", {"RU"}),
        ("Inggris dan Prancis", {"GB", "FR"}),
        ("Perancis dan Jerman mengirim bantuan ke Kiev", {"FR", "DE", "UA"}),
        ("Moskow dan Pyongyang makin dekat", {"RU", "KP"}),
        ("Korea Selatan memantau Korea Utara", {"KR", "KP"}),
        ("Beijing menolak pernyataan Washington", {"CN", "US"}),
        ("US troops landed as the U.S. Navy watched", {"US"}),
        ("let us know what the UK and UAE decide", {"GB", "AE"}),
        ("North Korea sent troops to Russia, Seoul said", {"KP", "RU", "KR"}),
        ("Kyiv accused Moscow of striking Kharkiv", {"UA", "RU"}),
        ("Amerika Serikat dan Tiongkok", {"US", "CN"}),
        ("delegasi dari Amerika Latin", set()),
        ("kursus bahasa Inggris di Jakarta", {"ID"}),
        ("fine china and roast turkey", set()),
        ("Turkey and Türkiye and Turki", {"TR"}),
        ("Côte d'Ivoire and Timor-Leste", {"CI", "TL"}),
        ("Papua New Guinea", {"PG"}),
        ("the governor of New Mexico", set()),
        ("Myanmar dan Filipina", {"MM", "PH"}),
    ],
)
def test_country_codes(sentence: str, expected: set[str]) -> None:
    assert codes(sentence) == expected


def test_spans_are_longest_and_in_order() -> None:
    assert countries("Presiden Amerika Serikat bertemu PM Inggris Raya") == [
        (1, 2, "US"),
        (5, 6, "GB"),
    ]


def test_lengths_must_agree() -> None:
    with pytest.raises(ValueError, match="differ"):
        default_countries().find(["rusia"], [])


def test_matcher_is_built_once() -> None:
    assert default_countries() is default_countries()
