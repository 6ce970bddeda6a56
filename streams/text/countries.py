"""Country mentions in a tokenised sentence, as ISO 3166-1 alpha-2 codes.

Names come from Babel's CLDR territory names in English and Indonesian, so the list of ~250
countries needs no upkeep here; a small curated table adds what news actually writes and CLDR
lacks: short forms (Korut, AS), Malay spellings, capitals and metonyms (Moskow, Kremlin).
Matching needs the original case because many names are also ordinary words: acronyms must be
written exactly (Indonesian "AS" is the USA, English "as" is not), and other names must start
capitalised ("China" the country, "china" the porcelain).
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

from babel import Locale

_WORD = re.compile(r"\w+(?:-\w+)*")

# CLDR codes that are not countries: supranational bodies, pseudo-locales, outlying parts.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)

# Curated names per code, English/Indonesian/Malay mixed: short forms, capitals, metonyms.
_ALIASES = {
    "AE": "Abu Dhabi",
    "AF": "Kabul",
    "AM": "Yerevan",
    "AT": "Vienna, Wina",
    "AU": "Canberra",
    "AZ": "Baku",
    "BD": "Dhaka",
    "BR": "Brasilia",
    "BY": "Minsk, Belarusia",
    "CA": "Ottawa",
    "CD": "Kinshasa, DR Congo, Democratic Republic of the Congo, Republik Demokratik Kongo",
    "CG": "Brazzaville, Republic of the Congo, Republik Kongo",
    "CI": "Ivory Coast, Pantai Gading",
    "CN": "Cina, China, Beijing, People's Republic of China, Republik Rakyat Tiongkok",
    "CO": "Bogota",
    "CU": "Havana",
    "CZ": "Czech Republic, Republik Ceko, Prague, Praha",
    "DE": "Berlin",
    "DK": "Copenhagen, Kopenhagen",
    "EG": "Cairo, Kairo",
    "ES": "Madrid",
    "ET": "Addis Ababa",
    "FI": "Helsinki",
    "FR": "Perancis, Paris, Elysee",
    "GB": "Inggris, Britain, Great Britain, England, Britania Raya, London, Downing Street, "
    "Northern Ireland, Irlandia Utara",
    "GE": "Tbilisi",
    "GR": "Athens",
    "HU": "Budapest, Hongaria",
    "ID": "Jakarta, Republik Indonesia",
    "IL": "Tel Aviv",
    "IN": "New Delhi",
    "IQ": "Baghdad, Bagdad",
    "IR": "Tehran, Teheran",
    "IT": "Rome",
    "JO": "Amman",
    "JP": "Tokyo, Jepun",
    "KE": "Nairobi",
    "KH": "Phnom Penh, Kemboja",
    "KP": "Korut, Pyongyang, Democratic People's Republic of Korea, "
    "Republik Rakyat Demokratik Korea",
    "KR": "Korsel, Seoul, Republic of Korea, Republik Korea",
    "KZ": "Astana",
    "LB": "Beirut",
    "LY": "Libia",
    "MM": "Burma, Naypyidaw, Naypyitaw",
    "MN": "Ulaanbaatar",
    "MX": "Mexico City",
    "MY": "Kuala Lumpur, Putrajaya",
    "NG": "Abuja",
    "NL": "Holland, Amsterdam",
    "NO": "Oslo",
    "NP": "Kathmandu",
    "NZ": "Wellington",
    "PH": "Manila",
    "PK": "Islamabad",
    "PL": "Warsaw, Warsawa",
    "PS": "Palestine, Palestina, Gaza, Gaza Strip, Jalur Gaza, West Bank, Tepi Barat, Ramallah",
    "PT": "Lisbon, Lisabon",
    "QA": "Doha",
    "RO": "Bucharest, Bukares",
    "RS": "Belgrade, Beograd",
    "RU": "Russian Federation, Federasi Rusia, Moskow, Moskwa, Moscow, Kremlin",
    "SA": "Saudi, Riyadh, Riyad",
    "SD": "Khartoum",
    "SE": "Stockholm",
    "SY": "Damascus, Damaskus",
    "TH": "Bangkok",
    "TR": "Turkey, Turkiye, Ankara",
    "TW": "Taipei",
    "UA": "Kyiv, Kiev, Kiew",
    "US": "Amerika, Amerika Serikat, Amerika Syarikat, America, United States of America, "
    "Washington, White House, Gedung Putih, Pentagon",
    "UZ": "Tashkent",
    "VA": "Vatican",
    "VE": "Caracas",
    "VN": "Hanoi, Viet Nam",
    "ZA": "Pretoria",
}

# Acronyms match only as written: "AS" and "US" are the USA, "as" and "us" are not.
_ACRONYMS = {
    "AE": "UAE, UEA",
    "CD": "DRC",
    "CN": "PRC, RRT, RRC",
    "GB": "UK, U.K.",
    "ID": "RI",
    "KP": "DPRK",
    "KR": "ROK",
    "SA": "KSA",
    "US": "AS, US, USA, U.S., U.S.A.",
}

# Longer names that contain a country name but are not that country; matched and dropped.
_NOT_A_COUNTRY = (
    "Amerika Latin, Amerika Selatan, Amerika Utara, Amerika Tengah, Latin America, "
    "New Mexico, New Jersey, New South Wales, New Guinea, Guinea pig"
)

# "bahasa Inggris" is the English language, not Britain.
_LANGUAGE_WORDS = frozenset({"bahasa"})


def fold(text: str) -> str:
    """Case- and accent-fold like the document normaliser does (Côte -> cote)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", bare.casefold())


def _token_variants(name: str) -> set[tuple[str, ...]]:
    """Token tuples for a name, with hyphenated parts both joined and split (Timor-Leste)."""
    tokens = _WORD.findall(fold(name))
    split = [part for token in tokens for part in token.split("-")]
    return {tuple(tokens), tuple(split)}


def _cldr_names(name: str, conjunction: str) -> set[str]:
    """Spellings of a CLDR name: "Myanmar (Burma)", "St. Lucia", "Hong Kong SAR China", "&"."""
    name = re.sub(r"\s+(SAR China|DAK Tiongkok)$", "", name)
    names = {re.sub(r"\s*\(.*?\)", "", name), name.replace("&", conjunction)}
    names |= {re.sub(r"\bSt\.", "Saint", variant) for variant in names}
    return names


@dataclass(frozen=True)
class CountryMatcher:
    """Greedy longest-match of country names over the tokens of one sentence."""

    # token tuple -> (code, exact original tokens for acronyms or None); code "" drops the match
    names: Mapping[tuple[str, ...], tuple[str, tuple[str, ...] | None]]
    # first token -> length of the longest name starting with it
    longest: Mapping[str, int]

    def find(self, tokens: Sequence[str], originals: Sequence[str]) -> list[tuple[int, int, str]]:
        """(first token, last token inclusive, ISO code) of each country mention, in order."""
        if len(tokens) != len(originals):
            raise ValueError("tokens and originals differ in length")
        found: list[tuple[int, int, str]] = []
        longest = self.longest
        following = 0  # the first token not inside the previous mention
        # Most tokens start no name: only those that do are tried, in order.
        for start in compress(range(len(tokens)), map(longest.__contains__, tokens)):
            if start < following:
                continue
            hit = self._match_at(tokens, originals, start)
            if hit is None:
                continue
            end, code = hit
            if code and not (start and tokens[start - 1] in _LANGUAGE_WORDS):
                found.append((start, end, code))
            following = end + 1
        return found

    def _match_at(
        self, tokens: Sequence[str], originals: Sequence[str], start: int
    ) -> tuple[int, str] | None:
        for length in range(min(self.longest.get(tokens[start], 0), len(tokens) - start), 0, -1):
            entry = self.names.get(tuple(tokens[start : start + length]))
            if entry is None:
                continue
            code, exact = entry
            surface = tuple(originals[start : start + length])
            if surface == exact if exact else any(char.isupper() for char in surface[0]):
                return start + length - 1, code
        return None


def _entries(table: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(code, name.strip()) for code, names in table.items() for name in names.split(",")]


@lru_cache(maxsize=1)
def default_countries() -> CountryMatcher:
    """The matcher for CLDR English and Indonesian names plus the curated tables (built once)."""
    names: dict[tuple[str, ...], tuple[str, tuple[str, ...] | None]] = {}
    for locale, conjunction in (("en", "and"), ("id", "dan")):
        for code, name in Locale(locale).territories.items():
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES:
                for spelling in _cldr_names(name, conjunction):
                    names.update(dict.fromkeys(_token_variants(spelling), (code, None)))
    for code, name in _entries(_ALIASES):
        names.update(dict.fromkeys(_token_variants(name), (code, None)))
    for code, acronym in _entries(_ACRONYMS):
        names[tuple(fold(token) for token in _WORD.findall(acronym))] = (
            code,
            tuple(_WORD.findall(acronym)),
        )
    for name in _NOT_A_COUNTRY.split(","):
        names.update(dict.fromkeys(_token_variants(name.strip()), ("", None)))
    longest: dict[str, int] = {}
    for key in names:
        longest[key[0]] = max(longest.get(key[0], 0), len(key))
    return CountryMatcher(names, longest)
