"""Match keys that let one rule term match every inflected form of it (English, Indonesian/Malay).

Why this design:

* Indonesian/Malay: the Snowball 'indonesian' stemmer is fast but undoes meN-/peN- unevenly
  (mengirim -> irim, dikirim -> kirim) and over-strips (disahkan -> sahkan, pasokan -> paso,
  masalah -> masa), so its stems would both miss and collide. Instead each rule root is expanded
  once, at rule-compile time, into its surface forms (prefix chains with nasal assimilation x
  suffixes), and a document token matches by exact form after its particles, possessives and
  reduplication are stripped. A token then matches only if it *is* a form of the root, so unknown
  words cannot collide by over-stemming. A verb form written as the term (``dikerahkan``) is
  first reduced to the candidate roots that regenerate it. Snowball keys of the generated forms
  as a fallback were measured on the SIB-200 Indonesian and Malay vocabulary: for 46 likely rule
  roots they added no true form the generator missed and 12 false ones (tempat ~ empat, tarik ~
  tari, unjuk ~ menunjukkan, perang ~ menangani), so Snowball is not used on this path.
* English: Snowball 'english' (C, fast) conflates regular inflection and much derivation
  (deployed, deployment); lemminflect supplies irregular forms (sent, struck, flown) on the term
  side, so the hot path runs one stemmer call per token.

Keys carry their path as a prefix ("id:", "en:") because ``token_keys`` does not know the
document language and the two paths must not meet by accident; numbers are their own key.
"""

import re
from functools import lru_cache

import Stemmer
from lemminflect import getAllInflections, getAllLemmas

_EN = Stemmer.Stemmer("english")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_VOWEL_GROUP = re.compile(r"[aeiou]+")
_HYPHEN = re.compile(r"[-‐‑]")
_VOWELS = frozenset("aeiou")
# English forms that news uses as other lexemes; stemming them would match "according to" with
# "accord" or "including" with "include", so they key as themselves.
_EN_LEXICALISED = frozenset(
    {
        "according",
        "accordingly",
        "accordance",
        "concerning",
        "considering",
        "following",
        "including",
        "protestant",
        "protestants",
        "regarding",
    }
)

# Indonesian suffix sets per prefix: verbs take -kan/-i, nouns of peN-/per-/ke- take -an.
_VERB = ("", "kan", "i")
_NOUN = ("", "an")
_CONFIX = ("an",)
_PARTICLES = ("lah", "kah", "pun", "tah")
_POSSESSIVES = ("nya", "ku", "mu")
_MIN_STEM = 3  # shorter remainders are roots (buku, tanya), not stem + clitic


def _syllables(word: str) -> int:
    return len(_VOWEL_GROUP.findall(word))


def _nasal(base: str, stem: str, derived: bool = False) -> set[str]:
    """meN-/peN- (``base`` "me"/"pe") on ``stem``, with nasal assimilation.

    k/p/t/s drop before a vowel (kirim -> mengirim) and stay on stems that are themselves
    prefixed (perkuat -> memperkuat); loanwords (clusters, three or more syllables) are spelled
    both ways in news (memprotes/pemrotes, mengoordinasikan/mengkoordinasikan).
    """
    first, second = stem[0], stem[1:2]
    cluster = second not in _VOWELS
    if first in "lmnrwy":
        forms = {base + stem}
    elif first in _VOWELS or first in "gh":
        forms = {base + "ng" + stem}
    elif first in "bfv":
        forms = {base + "m" + stem}
    elif first in "dcjz" or stem.startswith("sy"):
        forms = {base + "n" + stem}
    elif first in "kpts":
        nasal = {"k": "ng", "p": "m", "t": "n", "s": "n"}[first]
        kept = base + nasal + stem
        dropped = base + ("ny" if first == "s" and not cluster else nasal) + stem[1:]
        if derived:
            forms = {kept}
        elif cluster or _syllables(stem) >= 3:  # loanwords: both memprotes and pemrotes occur
            forms = {kept, dropped}
        else:
            forms = {dropped}
    else:
        forms = {base + stem}
    if _syllables(stem) == 1:  # monosyllabic roots take menge-/penge- (mengesahkan, pengeboman)
        forms.add(base + "nge" + stem)
    return forms


def _ber(stem: str) -> set[str]:
    """ber- drops its r before r and before a first syllable in -er (berencana, bekerja)."""
    closed_er = stem[1:3] == "er" and stem[0] not in _VOWELS and stem[3:4] not in _VOWELS
    if stem[0] == "r" or closed_er:
        return {"ber" + stem, "be" + stem}
    return {"ber" + stem}


def _r_prefix(prefix: str, stem: str) -> set[str]:
    """ter-/per- lose their r before r (terasa, perindah)."""
    return {prefix + stem, prefix[:-1] + stem} if stem[0] == "r" else {prefix + stem}


@lru_cache(maxsize=4096)
def _indonesian_forms(root: str) -> frozenset[str]:
    """Surface forms of an Indonesian/Malay root, before particles and possessives."""
    forms: set[str] = set()

    def add(stems: set[str], suffixes: tuple[str, ...]) -> None:
        forms.update(stem + suffix for stem in stems for suffix in suffixes)

    per, ber, ter = _r_prefix("per", root), _ber(root), _r_prefix("ter", root)
    pen = _nasal("pe", root)
    add({root}, ("", "kan", "i", "an"))
    add({"di" + root} | _nasal("me", root) | ter, _VERB)
    add(pen | {"pe" + root}, _NOUN)  # pe- without nasal: petugas, pejuang, peperangan
    add(per, ("", "an", "kan", "i"))
    add(ber, ("", "kan", "an"))
    add({"ke" + root} | {"ke" + stem for stem in ber | ter | pen}, _CONFIX)
    add(_ber("ke" + root), _CONFIX)  # berkelanjutan
    for stem in per:  # memperkuat, diperkirakan
        add({"di" + stem} | _nasal("me", stem, derived=True), _VERB)
    for stem in ber:  # memberlakukan, diberangkatkan, pemberdayaan
        add({"di" + stem} | _nasal("me", stem), _VERB)
        add(_nasal("pe", stem), _NOUN)
    return frozenset(forms)


def _indonesian_roots(term: str) -> set[str]:
    """The term itself plus, for a transitive verb form (di-, meN-), every root regenerating it.

    Other derived words stay as written because they are often lexicalised: pemerintah
    "government" is not perintah "order", pertahanan "defence" is not tahanan "detainee",
    berlaku "be in force" is not dilakukan "carried out", tersebut "the said" is not sebut.
    Two-syllable words are kept too, as many merely look prefixed (merah, dinas). Ambiguous nasal
    forms keep all readings (mengerahkan -> kerah, erah): the wrong readings' other forms are not
    words.
    """
    roots = {term}
    if _syllables(term) < 3 or not term.startswith(("di", "me")):
        return roots
    for cut in range(2, 7):  # di- .. memper-
        for suffix in ("", "kan", "i", "an"):
            if not term.endswith(suffix):
                continue
            core = term[cut : len(term) - len(suffix)]
            if len(core) < _MIN_STEM:
                continue
            roots.update(
                root
                for root in (core, "k" + core, "p" + core, "t" + core, "s" + core)
                if term in _indonesian_forms(root)
            )
    return roots


def _english_forms(term: str) -> set[str]:
    """The term's lemmas and all their inflections, plus -ify -> -ification nominalisations."""
    words = {term}
    for lemmas in getAllLemmas(term).values():
        words.update(lemmas)
    forms = set(words)
    for word in words:
        for inflected in getAllInflections(word).values():
            forms.update(inflected)
    forms.update(form[:-3] + "ification" for form in list(forms) if form.endswith("ify"))
    return {form for form in forms if form == term or form not in _EN_LEXICALISED}


def _english_key(word: str) -> str:
    return "en:" + (word if word in _EN_LEXICALISED else _EN.stemWord(word))


@lru_cache(maxsize=8192)
def term_keys(term: str, lang: str) -> frozenset[str]:
    """Keys a lower-cased single-word rule term matches; ``lang`` is "en", "id" or "ms".

    An Indonesian compound root written apart ("tanda tangan") is matched in its joined,
    affixed spelling (menandatangani); the separate spelling is a phrase for the caller.
    """
    if _NUMBER.fullmatch(term):
        return frozenset({term})
    if lang == "en":
        return frozenset(_english_key(form) for form in _english_forms(term))
    if lang in ("id", "ms"):
        roots = _indonesian_roots(term.replace(" ", ""))
        return frozenset("id:" + form for root in roots for form in _indonesian_forms(root))
    raise ValueError(f"unsupported term language: {lang!r}")


def surface_forms(term: str, lang: str) -> frozenset[str]:
    """The words a single-word term is expanded into: an Indonesian/Malay root's affixed forms
    (before particles and possessives), or an English term's inflections (other words of its
    stem match too). For ``pantau rules terms`` and the checks of :mod:`streams.text.roots`."""
    if lang == "en":
        return frozenset(_english_forms(term))
    roots = _indonesian_roots(term.replace(" ", ""))
    return frozenset(form for root in roots for form in _indonesian_forms(root))


def _strip_clitics(word: str) -> list[str]:
    """The word with and without its particle (-lah, -kah, ...) and possessive (-nya, -ku, -mu)."""
    variants = [word]
    for clitics in (_PARTICLES, _POSSESSIVES):
        for variant in list(variants):
            for clitic in clitics:
                if variant.endswith(clitic) and len(variant) - len(clitic) >= _MIN_STEM:
                    variants.append(variant[: -len(clitic)])
    return variants


def _word_keys(word: str) -> list[str]:
    if _NUMBER.fullmatch(word):
        return [word]
    return [_english_key(word)] + ["id:" + variant for variant in _strip_clitics(word)]


@lru_cache(maxsize=1 << 20)
def token_keys(token: str) -> tuple[str, ...]:
    """Keys a normalised document token yields, for both language paths.

    A hyphenated token (reduplication such as kapal-kapal or serang-menyerang) also yields the
    keys of each part. Cached: called for every token of every article, and word frequencies are
    Zipfian.
    """
    keys = _word_keys(token)
    parts = _HYPHEN.split(token)
    if len(parts) > 1:
        for part in parts:
            if part:
                keys.extend(_word_keys(part))
    return tuple(dict.fromkeys(keys))
