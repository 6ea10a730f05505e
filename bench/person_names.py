"""Synthetic French names for the person-search benchmark, and the misspelt queries people type.

No Faker here (it is not a dependency): common French given and family names (INSEE's most
frequent ones, public facts), compound given names, particles, and invented family names built
from French syllables, so the vocabulary has the tens of thousands of distinct words a real
registry of a million people has (a registry of 300 surnames would flatter any index).
"""

from __future__ import annotations

import random
import unicodedata


def _words(text: str) -> list[str]:
    return text.split()


GIVEN = _words(
    "Marie Jean Pierre Michel André Philippe René Louis Alain Jacques Bernard Marcel Daniel "
    "Roger Robert Paul Claude Christian Henri Georges Nicolas François Patrick Gérard Christophe "
    "Joseph Julien Frédéric Éric Laurent Stéphane David Pascal Thierry Olivier Sébastien Thomas "
    "Alexandre Antoine Maxime Hugo Lucas Théo Nathan Mathis Enzo Léo Louis Gabriel Raphaël Arthur "
    "Jules Adam Ethan Noah Mohamed Karim Yacine Mehdi Rayan Sofiane Hélène Anne Catherine "
    "Françoise Monique Isabelle Sylvie Nathalie Martine Nicole Christine Valérie Sandrine "
    "Céline Sophie "
    "Julie Aurélie Émilie Camille Léa Manon Chloé Emma Inès Jade Louise Alice Lina Zoé Juliette "
    "Margaux Clémence Pauline Mathilde Océane Lucie Élodie Laetitia Amélie Agathe Gaëlle Maëlle "
    "Noémie Anaïs Fatima Amina Yasmine Sarah Leïla Nadia Samira Aïcha Ophélie Héloïse Bérénice "
    "Gauthier Gaultier Gautier Philippine Mickaël Michaël Jérôme Jérémy Loïc Yannick Gwenaël "
    "Benoît Grégoire Rémi Cédric Fabrice Ludovic Vincent Xavier Yves Guillaume Benjamin Quentin"
)
COMPOUND_FIRST = ("Jean", "Marie", "Anne", "Pierre", "Paul", "Louis")
COMPOUND_SECOND = ("Pierre", "Paul", "Luc", "Claude", "François", "Hélène", "Christine",
                   "Louise", "Marc", "Baptiste", "Michel", "Sophie", "Laure", "Charlotte")
FAMILY = _words(
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefèvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine "
    "Rousseau Vincent Muller Lefebvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier "
    "François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu "
    "Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun "
    "Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche "
    "Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas "
    "Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Leclercq "
    "Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis Moulin "
    "Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier "
    "Marty Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly "
    "Hervé Schneider Fernandez Collet Léger Bouvier Julien Prévost Millet Perrot Daniel Cousin "
    "Germain Breton Besson Langlois Rémy Pelletier Lebrun Benali Haddad Mansouri Belkacem "
    "Nguyen Tran Diallo Traoré Cissé Kone"
)
PARTICLE_NAMES = ("de la Fontaine", "de Villiers", "Le Goff", "Le Gall", "de Montfort",
                  "du Pont", "de la Tour", "Le Roux", "d'Arcy", "de Saint-Exupéry")
# The same families written glued, as registers and relatives often do.
GLUED_NAMES = ("Delafontaine", "Devilliers", "Legoff", "Legall", "Demontfort", "Delatour",
               "Darcy", "Lebreton", "Lacroix", "Delaunay")
SYLLABLES = _words(
    "ba be bi bo bou bri bru ca ce cha che chi co cou cour da de di do du fa fe fi fon "
    "ga ge gi go gou gra gre gui la le li lo lou lan lin ma me mi mo mou mar mer "
    "na ne ni no nou pa pe pi po pou pra pre ra re ri ro rou sa se si so sou ta te ti "
    "to tou tra tre va ve vi vo vau ville mont val court bert mand ret ron rin lot"
)
ENDINGS = ("", "t", "d", "x", "s", "ault", "eau", "ier", "et", "in", "on", "and", "y", "e")


def invented_family(rng: random.Random) -> str:
    """Return a plausible French-looking family name (2-3 syllables and an ending)."""
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))) + rng.choice(
        ENDINGS)
    return word.capitalize()


def make_families(rng: random.Random, invented: int) -> list[str]:
    """Return the family-name pool: real names (weighted up) and ``invented`` others."""
    pool = list(FAMILY) * 40 + list(PARTICLE_NAMES) * 10 + list(GLUED_NAMES) * 10
    # Sorted: a set's order follows the per-process string hash, and the records would differ
    # from run to run.
    pool += sorted({invented_family(rng) for _ in range(invented)})
    return pool


def make_name(rng: random.Random, families: list[str]) -> tuple[str, str, str]:
    """Return (full_name, given_name, family_name) of one synthetic person."""
    if rng.random() < 0.12:
        given = f"{rng.choice(COMPOUND_FIRST)}-{rng.choice(COMPOUND_SECOND)}"
    else:
        given = rng.choice(GIVEN)
    family = rng.choice(families)
    return f"{given} {family}", given, family


def strip_accents(text: str) -> str:
    """Drop accents as a hurried phone user does."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


PHONETIC_SWAPS = (("ph", "f"), ("th", "t"), ("eau", "o"), ("au", "o"), ("ault", "aut"),
                  ("ck", "k"), ("qu", "k"), ("ll", "l"), ("mm", "m"), ("nn", "n"), ("ss", "s"),
                  ("ai", "é"), ("y", "i"), ("an", "en"), ("ç", "s"), ("f", "ph"), ("é", "ai"))


def typo(rng: random.Random, word: str, edits: int) -> str:
    """Apply ``edits`` random edits (substitution, deletion, insertion, transposition)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    chars = list(word)
    for _ in range(edits):
        if len(chars) < 3:
            break
        i = rng.randrange(1, len(chars))  # people rarely get the first letter wrong
        kind = rng.choice(("sub", "del", "ins", "swap"))
        if kind == "sub":
            chars[i] = rng.choice(letters)
        elif kind == "del":
            del chars[i]
        elif kind == "ins":
            chars.insert(i, rng.choice(letters))
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def variant(rng: random.Random, given: str, family: str) -> tuple[str, str]:
    """Return (kind, query) for a name as a relative might type it."""
    kind = rng.choice(("accents", "swap", "typo1", "typo2", "phonetic", "hyphen", "lower"))
    if kind == "accents":
        return kind, strip_accents(f"{given} {family}")
    if kind == "swap":
        return kind, f"{family} {given}"
    if kind in ("typo1", "typo2"):
        longest = max((given, family), key=len)
        changed = typo(rng, longest, 1 if kind == "typo1" else 2)
        return kind, f"{given} {family}".replace(longest, changed, 1)
    if kind == "phonetic":
        text = f"{given} {family}".lower()
        swaps = [s for s in PHONETIC_SWAPS if s[0] in text]
        if swaps:
            old, new = rng.choice(swaps)
            return kind, text.replace(old, new, 1)
        return kind, text
    if kind == "hyphen":
        return kind, f"{given} {family}".replace("-", " ").replace("'", " ")
    return kind, f"{given} {family}".lower()


PARTICLES = ("de la ", "de ", "du ", "des ", "le ", "la ", "d'", "l'")


def _unglue(family: str) -> str | None:
    """Split a glued particle off ("Delafontaine" -> "de la Fontaine"), or None."""
    low = family.lower()
    for particle in ("dela", "de", "du", "le", "la", "d"):
        rest = family[len(particle):]
        if low.startswith(particle) and len(rest) >= 4:
            spaced = {"dela": "de la ", "d": "d'"}.get(particle, particle + " ")
            return spaced + rest.capitalize()
    return None


HARD_KINDS = ("initial", "short_form", "phonetic2", "compound_part", "compound_initials",
              "glued", "no_particle", "split")


def hard_kinds(given: str, family: str) -> list[str]:
    """The harder kinds a name lends itself to."""
    kinds = ["initial", "phonetic2"]
    if len(given.split("-")[0]) >= 6:
        kinds += ["short_form"]
    if "-" in given:
        kinds += ["compound_part", "compound_initials"]
    if " " in family or "'" in family:
        kinds += ["glued", "no_particle"]
    if family in GLUED_NAMES:
        kinds += ["split"]
    return kinds


def hard_variant(rng: random.Random, given: str, family: str,
                 kind: str | None = None) -> tuple[str, str] | None:
    """Return (kind, query) of a harder kind (issue 22), or None when the name has none:
    initials, compound given names cut short or by initials, short forms, family names
    glued, split or without their particle, and French phonetic respellings."""
    kinds = hard_kinds(given, family)
    if kind is None:
        kind = rng.choice(kinds)
    elif kind not in kinds:
        return None
    if kind == "initial":
        initial = strip_accents(given)[0]
        return kind, rng.choice((f"{initial}. {family}", f"{family} {initial}",
                                 f"{initial} {family}"))
    if kind == "short_form":
        first = given.split("-")[0]
        return kind, f"{first[: rng.choice((4, 5))]} {family}"
    if kind == "phonetic2":
        text = f"{given} {family}".lower()
        swaps = [sw for sw in PHONETIC_SWAPS if sw[0] in text]
        rng.shuffle(swaps)
        for old, new in swaps[:2]:
            text = text.replace(old, new, 1)
        return kind, text
    if kind == "compound_part":
        return kind, f"{rng.choice(given.split('-'))} {family}"
    if kind == "compound_initials":
        a, b = (strip_accents(p)[0] for p in given.split("-"))
        return kind, rng.choice((f"{a}{b} {family}", f"{a}.-{b}. {family}", f"{a}. {b}. {family}"))
    if kind == "glued":
        glued = family.replace(" ", "").replace("'", "")
        return kind, f"{given} {glued[0].upper()}{glued[1:].lower()}"
    if kind == "no_particle":
        bare = family.replace("'", " ").split()[-1]
        return kind, f"{given} {bare}"
    unglued = _unglue(family)
    return (kind, f"{given} {unglued}") if unglued else None


def _fold(text: str) -> str:
    return " ".join("".join(c if c.isalpha() else " " for c in strip_accents(text).lower())
                    .split())


def _bare(family: str) -> str:
    """A family name without its leading particle words, spaces removed."""
    words = _fold(family).split()
    while len(words) > 1 and words[0] in ("de", "la", "le", "du", "des", "d", "l"):
        words = words[1:]
    return "".join(words)


def fits(kind: str, query: str, target: tuple[str, str, str],
         other: tuple[str, str, str]) -> bool:
    """Whether ``other`` (full, given, family) is as good an answer to ``query`` as the target:
    the query, of this kind, does not tell them apart. Used for the "fit" recall only; the
    strict recall asks for the target's own name."""
    _, tgiven, tfamily = target
    _, ogiven, ofamily = other
    same_name = _fold(f"{tgiven} {tfamily}").replace(" ", "") == \
        _fold(f"{ogiven} {ofamily}").replace(" ", "")
    if same_name:
        return True
    same_family = _fold(tfamily).replace(" ", "") == _fold(ofamily).replace(" ", "")
    typed = _fold(query).split()
    if kind == "initial":
        return same_family and _fold(ogiven)[:1] == _fold(tgiven)[:1]
    if kind == "compound_initials":
        parts = [_fold(p)[:1] for p in ogiven.split("-")]
        return same_family and parts == [_fold(p)[:1] for p in tgiven.split("-")]
    if kind == "compound_part":
        return same_family and typed[0] in [_fold(p) for p in ogiven.split("-")]
    if kind == "short_form":
        return same_family and _fold(ogiven.split("-")[0]).startswith(typed[0])
    if kind in ("glued", "split", "no_particle"):
        bare, obare = _bare(tfamily), _bare(ofamily)
        return _fold(ogiven) == _fold(tgiven) and (
            obare == bare or any(obare == p + bare for p in ("dela", "de", "du", "le", "la", "d"))
            if kind == "no_particle" else same_family)
    return False


def _family_keys(family: str) -> set[str]:
    return {_fold(family).replace(" ", ""), _bare(family)}


def ceiling(queries: list[tuple[str, str, str, tuple[str, str, str]]],
            names: list[tuple[str, str, str]]) -> tuple[float, float]:
    """A reference strict recall@10 and recall@1: what ranking by name frequency alone gives.

    For each query, the records that fit it as well as the target (``fits``) are grouped by
    name and the names ranked by how many records carry them — the likeliest name first, as
    the target is any record drawn at random; the target's name is found first (in the ten)
    with the chance its rank gives, ties shared evenly. It tells how much of a strict miss is
    the query's ambiguity. It is no bound: ``fits`` is coarse (Le Goff fits "Legoff" as well
    as Legoff does), and a search that also weighs how close each spelling is can beat it.
    Only records of a related family name are examined (every kind keeps the family name, or
    its particle: see ``fits``).
    """
    by_family: dict[str, list[int]] = {}
    for i, (_, _, family) in enumerate(names):
        for key in _family_keys(family):
            by_family.setdefault(key, []).append(i)
    at10 = at1 = 0.0
    for kind, query, _, truth in queries:
        keys = _family_keys(truth[2])
        keys |= {p + _bare(truth[2]) for p in ("dela", "de", "du", "le", "la", "d")}
        candidates = {i for key in keys for i in by_family.get(key, ())}
        counts: dict[str, int] = {}
        for i in candidates:
            if fits(kind, query, truth, names[i]):
                name = _fold(names[i][0])
                counts[name] = counts.get(name, 0) + 1
        mine = counts.get(_fold(truth[0]), 0)
        if not mine:  # the target always fits itself; a name the fold changes fits nothing
            continue
        above = sum(1 for c in counts.values() if c > mine)
        tied = sum(1 for c in counts.values() if c == mine)
        at1 += 1 / tied if above == 0 else 0.0
        at10 += 1.0 if above + tied <= 10 else max(0.0, (10 - above) / tied)
    return at10 / len(queries), at1 / len(queries)
