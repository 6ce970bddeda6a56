"""Which Indonesian/Malay terms are roots, and which forms of a root are words of their own.

Indonesian and Malay terms are expanded from roots into their affixed forms
(:mod:`streams.text.morphology`), which makes two mistakes easy and silent: a term that is
itself affixed (``perluas`` = per- + ``luas``) expands into forms news does not write
(``memperluas`` is a form of ``luas``, not of ``perluas``), and a root whose forms include a
word of its own matches it too (``kena`` "hit by" matches ``mengenai`` "about"; ``angkat``
"lift" matches ``angkatan`` "armed forces"). The roots are the 29,933 of the dictionary that
PySastrawi ships (MIT); the words of their own are listed below with what they mean.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from streams.text.morphology import surface_forms

# An affixed form that is a word of its own -> (its root, what the form means). Each form is
# one the root expands into (a test checks it), so the root matches it.
LEXICALISED = {
    "mengenai": ("kena", "about, concerning"),
    "angkatan": ("angkat", "armed forces; generation"),
    "berangkat": ("angkat", "to depart"),
    "keberangkatan": ("angkat", "departure"),
    "pemerintah": ("perintah", "government"),
    "pemerintahan": ("perintah", "government, administration"),
    "pertahanan": ("tahan", "defence"),
    "tahanan": ("tahan", "detainee"),
    "berlaku": ("laku", "to be in force"),
    "tersebut": ("sebut", "the said, that"),
    "perusahaan": ("usaha", "company"),
    "pengusaha": ("usaha", "businessman"),
    "pengadilan": ("adil", "court of law"),
    "keadaan": ("ada", "situation"),
    "bersama": ("sama", "together with"),
    "terhadap": ("hadap", "towards, against"),
    "penduduk": ("duduk", "inhabitant"),
    "pendapat": ("dapat", "opinion"),
    "pendapatan": ("dapat", "income"),
    "kebijakan": ("bijak", "policy"),
    "perdana": ("dana", "first; prime (perdana menteri)"),
    "peringatan": ("ingat", "warning; commemoration"),
    "persatuan": ("satu", "union"),
    "kesatuan": ("satu", "unit"),
    "perairan": ("air", "territorial waters"),
    "perempuan": ("empu", "woman"),
    "terjadi": ("jadi", "to happen"),
    "tertentu": ("tentu", "certain, particular"),
    "kerajaan": ("raja", "kingdom; (Malay) government"),
    "pasukan": ("pasuk", "troops"),
    "pesawat": ("sawat", "aircraft"),
    "pejabat": ("jabat", "official"),
    "peserta": ("serta", "participant"),
    "perkara": ("kara", "case at law"),
    "keterangan": ("terang", "statement"),
    "pernyataan": ("nyata", "statement"),
    "penjara": ("jara", "prison"),
    "perang": ("rang", "war"),
}
_PREFIXES = ("", "di", "ke", "se", "be", "ber", "te", "ter", "pe", "per", "me", "mem", "men")
_PREFIXES += ("meng", "meny", "pem", "pen", "peng", "peny", "memper", "diper", "keber")
_SUFFIXES = ("", "kan", "i", "an")


@cache
def known_roots() -> frozenset[str]:
    """The roots of PySastrawi's dictionary of Indonesian."""
    text = (files("Sastrawi") / "Stemmer" / "data" / "kata-dasar.txt").read_text("utf-8")
    return frozenset(text.split())


def roots_of(term: str) -> list[str]:
    """The dictionary roots an affixed term is a form of and does not expand like (empty for
    a root, a word of its own, a verb form or a word the dictionary does not explain)."""
    roots = known_roots()
    if term in roots or term in LEXICALISED:
        return []
    found = set()
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            if not (term.startswith(prefix) and term.endswith(suffix)):
                continue
            core = term[len(prefix) : len(term) - len(suffix)]
            for root in (core, "k" + core, "p" + core, "t" + core, "s" + core):
                known = len(root) > 2 and root != term and root in roots
                if known and term in surface_forms(root, "id"):
                    found.add(root)
    # A verb form (dikerahkan) is expanded from its root already: only the others mislead.
    expanded = surface_forms(term, "id")
    return sorted((r for r in found if not surface_forms(r, "id") <= expanded), key=len)


def own_words(root: str) -> list[tuple[str, str]]:
    """The forms of ``root`` that are words of their own, with what they mean."""
    return [(form, meaning) for form, (of, meaning) in sorted(LEXICALISED.items()) if of == root]
