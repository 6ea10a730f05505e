"""Name normalisation and a French phonetic key, for a search that forgives how people type.

Relatives searching in the night type names from memory, on a phone, often without accents:
"Helene" for Hélène, "jean pierre" for Jean-Pierre, "Delafontaine" for de la Fontaine, "Gautier"
for Gauthier, "Filipe" for Philippe. This module turns a name into *tokens* that survive those
differences, and each token into a *phonetic key* that survives French spelling variants.

Normalisation (``tokens``): Unicode NFKC + ``unidecode`` transliteration (accents and ligatures
gone: œ -> oe, ß -> ss), lower case, every non-letter (hyphen, apostrophe, dot) a separator.
French particles (de, du, des, la, le, d', l'…) are dropped as tokens but the particle-joined
form is kept as an extra token ("de la Fontaine" also gives "delafontaine"), as are hyphenated
compounds ("Jean-Pierre" also gives "jeanpierre"): both spellings are common on records.

Phonetic key (``phonetic``): Soundex, Metaphone and their kin are tuned for English and miss the
French silent letters and digraphs, so we use a small rule set in the lineage of the French
phonetic algorithms Soundex2 and Phonex (F. Brouard, "Phonétique française", 2002; C. Lemaire,
Phonex, 1998): the rules below rewrite digraphs (ph->f, qu->k, ch->sh, gu/ge…), merge vowel
spellings that sound the same (eau/au/o, ai/ei/é/è/er$, ou), fold nasal vowels (an/en, in/ain/
un, on), drop the letters French does not pronounce (h, final e/s/t/d/x/z/p, the l of "ault") but
keep a final é sound (-er, -ez, -et: Royer is not Roy),
then collapse doubled letters. Unlike Soundex it keeps the vowels (as classes): names are short
and the vowels carry much of what tells "Martin" from "Morton". Examples (tested):
Gauthier/Gautier/Gaultier -> "gotiE", Philippe/Filipe -> "filip", Dupont/Dupond -> "dupO".

The key is deliberately a *candidate generator*, not a verdict: the ranking step (``search``)
rescores each candidate with edit distance, so a collision costs only a little re-ranking time.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from unidecode import unidecode

# Particles of French (and neighbouring) family names; never a name on their own.
PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "les", "d", "l", "van", "von", "der", "den", "di", "da", "del"}
)

_NON_LETTER = re.compile(r"[^a-z]+")


def fold(text: str) -> str:
    """Return ``text`` lower-cased, without accents, letters and spaces only."""
    text = unicodedata.normalize("NFKC", text)
    return _NON_LETTER.sub(" ", unidecode(text).lower()).strip()


def raw_tokens(text: str) -> list[str]:
    """Return the folded words of ``text``, particles included, in order."""
    return fold(text).split()


def split_tokens(text: str) -> tuple[list[str], list[str]]:
    """Return a name's plain words (without particles) and its joined forms, apart."""
    words = raw_tokens(text)
    plain: list[str] = []
    for word in words:
        if word not in PARTICLES and word not in plain:
            plain.append(word)
    if not plain:  # a name made only of particles ("Le") is still a name
        plain = list(dict.fromkeys(words))
    # Joined forms, only where people glue words: inside a hyphenated or apostrophised part
    # ("Jean-Pierre" -> "jeanpierre", "d'Arcy" -> "darcy") and a particle run with the word it
    # introduces ("de la Fontaine" -> "delafontaine", "lafontaine"). Gluing given and family
    # names would only inflate the vocabulary.
    joined: list[str] = []

    def add(part: list[str]) -> None:
        glued = "".join(part)
        if (len(part) > 1 and any(w not in PARTICLES for w in part) and len(glued) <= 40
                and glued not in plain and glued not in joined):
            joined.append(glued)

    for chunk in text.split():
        add(raw_tokens(chunk))
    for i, word in enumerate(words):
        if word in PARTICLES:
            j = i
            while j < len(words) and words[j] in PARTICLES:
                j += 1
            if j < len(words):
                add(words[i : j + 1])
    return plain, joined


def tokens(text: str) -> list[str]:
    """Return the search tokens of a name: words without particles, plus joined forms."""
    plain, joined = split_tokens(text)
    return plain + joined


_ELIDED = re.compile(r"\b([dl])\s*['\u2019\u02bc`]", re.IGNORECASE)


def query_words(text: str) -> list[tuple[str, bool]]:
    """Return the folded words of a typed query, each with whether it is a particle.

    A lone "d" or "l" is a particle only when elided ("d'Arcy", "L'Hermite"); otherwise it is
    an initial ("J. L. Payet", "D Leroy"), which the search matches against first letters.
    """
    marked = _ELIDED.sub(lambda m: f" {m.group(1)}\u0001 ", text)
    out: list[tuple[str, bool]] = []
    for chunk in marked.split():
        elided = chunk.endswith("\u0001")
        for word in raw_tokens(chunk.rstrip("\u0001")):
            particle = word in PARTICLES and (len(word) > 1 or elided)
            out.append((word, particle))
    return out


def query_tokens(text: str) -> list[str]:
    """Return the tokens of a typed query: words without particles (no joined forms)."""
    words = query_words(text)
    kept = [w for w, particle in words if not particle]
    # Initials may repeat ("P. P. Jean"); a repeated word is typed once too many.
    return [w for i, w in enumerate(kept or [w for w, _ in words])
            if len(w) == 1 or w not in kept[:i]]


def glued_forms(text: str) -> list[tuple[str, str]]:
    """Return ``(word, glued)`` for each particle run typed before a word: "de la Tour" gives
    ("tour", "delatour") and ("tour", "latour"), the spellings a record may have glued."""
    words = query_words(text)
    out: list[tuple[str, str]] = []
    for i, (word, particle) in enumerate(words):
        if particle:
            continue
        j = i
        while j > 0 and words[j - 1][1]:
            j -= 1
        for start in range(j, i):
            out.append((word, "".join(w for w, _ in words[start : i + 1])))
    return out


# Ordered rewrite rules; each is (pattern, replacement) on the folded word.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"ph", "f"),
        (r"gh", "g"),
        (r"([cst])h", r"\1H"),  # protect ch/sh/th from the silent-h rule
        (r"h", ""),
        (r"tH", "t"),
        (r"[cs]H", "S"),  # ch, sh, sch -> one sound
        (r"sS", "S"),
        (r"qu?", "k"),
        (r"ck", "k"),
        (r"c([eiy])", r"s\1"),
        (r"c", "k"),
        (r"gu([eiy])", r"g\1"),
        (r"g([eiy])", r"j\1"),
        (r"w", "v"),
        # A final é sound (-er, -ez, -et) is said, unlike a mute final e: Royer is no Roy.
        (r"(er|ez|et)$", "E"),
        (r"y", "i"),
        (r"x$", ""),
        (r"x", "ks"),
        (r"z", "s"),
        (r"aul([^aeiou]|$)", r"o\1"),  # Gaultier, Renault: the l is silent
        (r"eau", "o"),
        (r"au", "o"),
        (r"ou", "U"),
        (r"(ai|ei)", "e"),
        (r"(ain|ein|in|im|un|um)([^aeiouU]|$)", r"I\2"),
        (r"(an|am|en|em)([^aeiouU]|$)", r"A\2"),
        (r"(on|om)([^aeiouU]|$)", r"O\2"),
        (r"([aeiouU])s([aeiouU])", r"\1z\2"),
        (r"e$", ""),
        (r"[tdsxz]+$", ""),
        (r"([a-zA-Z])\1+", r"\1"),
    )
)


@lru_cache(maxsize=65536)
def phonetic(word: str) -> str:
    """Return the French phonetic key of one folded word (letters a-z only)."""
    if not word:
        return ""
    key = word
    for pattern, replacement in _RULES:
        key = pattern.sub(replacement, key)
    # A word reduced to nothing ("Eu", "Hée") keeps its first letter, so it still matches itself.
    return key or word[:1]


def phonetic_tokens(text: str) -> list[str]:
    """Return the phonetic keys of a name's tokens, in order, without repeats."""
    return list(dict.fromkeys(phonetic(t) for t in tokens(text)))
