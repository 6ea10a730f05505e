"""Text features of the content-watch classifier: words, characters and *framing*.

Why framing: a bag of words sees the same tokens in « il faut tous les tuer » and in « ce tweet
qui dit "il faut tous les tuer" est inacceptable, je l'ai signalé ». MLMA-FR has almost no
counter-speech (see ``shared/data/README.md``), so a model trained on it alone flags what
quotes, reports or denounces hatred. :class:`FramingFeatures` counts the markers of those
frames (condemnation, reporting verbs and institutions, quotation marks, negated
predications) so the linear model can learn how much each one shifts a decision.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACES = re.compile(r"\s+")


def mask_handles(text: str) -> str:
    """Mentions and links as MLMA writes them (``@user``, ``@url``): they carry no signal of
    their own. Shared by both stages (stage 2 reads stage 1's columns of the masked text)."""
    text = re.sub(r"https?://\S+", "@url", text)
    return re.sub(r"@\w+", "@user", text)


def normalise(text: str) -> str:
    """Lower-case, strip accents and squeeze spaces (shared by hashing and the vectorisers)."""
    lowered = text.casefold()
    if not lowered.isascii():
        lowered = _COMBINING.sub("", unicodedata.normalize("NFKD", lowered))
        lowered = lowered.replace("\u2019", "'").replace("\u2018", "'")
    return _SPACES.sub(" ", lowered).strip()


# Each frame is a list of regular expressions over the normalised text.
FRAMES: dict[str, tuple[str, ...]] = {
    "condemn": (
        r"\bje (le |les )?(condamne|denonce)", r"\bcondamn(er|ons|ez)\b", r"\bdenon[cç]",
        r"\bhonte\b", r"\bignoble", r"\babject", r"\binacceptable", r"\brevoltant",
        r"\bdegout", r"\bmonstres?\b", r"\bcriminel", r"\bpuni", r"\bn'a (rien|pas sa place)",
    ),
    "report_act": (
        r"\bsignal(e|er|ez|es|ons)\b", r"\bpharos\b", r"\bbloque", r"\bsuspendu",
        r"\bsupprim", r"\bretir", r"\bplainte\b", r"\bau 17\b",
    ),
    "news": (
        r"\bselon\b", r"\benquet", r"\bparquet\b", r"\bproces\b", r"\btribunal\b",
        r"\bjuge\b", r"\bjugee?s?\b", r"\binterpell", r"\bpoursuivi", r"\brevendiqu",
        r"\bbilan\b", r"\bcondamnee?s? (pour|a)\b", r"\bprison\b", r"\becope\b", r"\bsuspect\b",
        r"\bprevenu\b", r"\brapport\b", r"\bministre\b", r"\bdelit\b", r"\bapologie\b",
        r"\bprovocation\b", r"\bpropagande\b", r"\bdjihadiste\b",
    ),
    "quote": (r"[«»\"]", r"\b(a|avait) (ecrit|tweete|publie|crie|dit)\b", r"\bpropos\b",
              r"\bmessage\b", r"\bqui (dit|ecrit|disent|ecrivent)\b", r"\bqui (appel|glorifi)"),
    "negation": (
        r"\bne sont pas\b", r"\bn'est (pas|jamais)\b", r"\bpas des\b", r"\bnon, ", r"\baucun",
        r"\bne (justifie|represente)", r"\barretez\b", r"\bpas d'amalgame", r"\bfaux\b",
    ),
    "solidarity": (
        r"\bpensees?\b", r"\bsoutien\b", r"\bunis\b", r"\bhommage\b", r"\bvictimes\b",
        r"\bfreres humains\b", r"\bcitoyens\b",
    ),
}
_COMPILED = {name: re.compile("|".join(f"(?:{p})" for p in patterns))
             for name, patterns in FRAMES.items()}
FRAME_NAMES: tuple[str, ...] = tuple(FRAMES)


def frame_counts(text: str) -> dict[str, int]:
    """Count the markers of each frame in ``text`` (occurrences, not distinct markers)."""
    norm = normalise(text)
    return {name: len(rx.findall(norm)) for name, rx in _COMPILED.items()}


class FramingFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Scikit-learn transformer: one column per frame, ``log1p`` of its marker count."""

    def fit(self, x: Iterable[str], y: Any = None) -> FramingFeatures:
        return self

    def transform(self, x: Iterable[str]) -> sparse.csr_matrix:
        rows = [list(frame_counts(t).values()) for t in x]
        counts = np.asarray(rows, dtype=np.float64).reshape(-1, len(FRAME_NAMES))
        return sparse.csr_matrix(np.log1p(counts))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(list(FRAME_NAMES), dtype=object)


# --- Spelling variants -------------------------------------------------------------------
# Leetspeak: only inside a token that is mostly letters, so « 2015 », « 17h30 », « au 17 »
# stay what they are while « h3r0s » becomes « heros ».
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "€": "e"})
_TOKEN = re.compile(r"[\w@$!€]+")
_SPACED = re.compile(r"\b(?:[a-z][ .\-_*]){2,}[a-z]\b")
_REPEAT = re.compile(r"([a-z])\1{2,}")


def _deleet(match: re.Match[str]) -> str:
    token = match.group(0)
    letters = sum(c.isalpha() for c in token)
    others = len(token) - letters
    if others == 0 or letters < 2 or letters < others:
        return token
    return token.rstrip("!").translate(_LEET) + "!" * (len(token) - len(token.rstrip("!")))


# Cached: one text is folded four times on its way through stage 1 (the word and character
# vectorisers, the lexicon counts, the reasons); a batch of 256 fits well within the cache.
@functools.lru_cache(maxsize=2048)
def fold(text: str) -> str:
    """:func:`normalise`, then undo the usual disguises of a word: leetspeak (« s@l3 »),
    spaced or dotted letters (« t u e r », « t.u.e.r »), stretched letters (« saaale »)."""
    norm = _TOKEN.sub(_deleet, normalise(text))
    norm = _SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), norm)
    return _REPEAT.sub(r"\1", norm)


# --- Lexicon -----------------------------------------------------------------------------
# Why a lexicon beside the learned n-grams: it names, in a moderator's words, why a text was
# flagged (« mot : « vermine » (déshumanisation) »), and it carries words the training tweets
# hold too rarely. Each entry is a regular expression over folded text; the reason is French.
LEXICON_REASONS: dict[str, str] = {
    "slur": "injure discriminatoire", "insult": "insulte", "dehumanise": "déshumanisation",
    "violence": "violence", "glorify": "glorification", "negation": "négation",
}
_SLURS = (
    r"bougnoul\w*", r"bicots?", r"crouill\w*", r"negros?", r"negresses?", r"niakou\w*",
    r"chinetoqu\w*", r"chintoks?", r"chinetocs?", r"youpin\w*", r"youtres?", r"youds?",
    r"feujs? de merde", r"ratons?", r"moricauds?", r"makoum\w*", r"bamboulas?", r"pedes?",
    r"pd", r"pedales?", r"tapettes?", r"tarlouz\w*", r"tafioles?", r"tantouz\w*", r"gouines?",
    r"fiottes?", r"boukaks?", r"gnoules?", r"bounioul\w*", r"schleu\w*", r"chleuh\w*",
    r"sous[- ]hommes?", r"macaques?", r"singes?",
)
_DEHUMANISE = (
    r"rats?", r"vermines?", r"cafards?", r"parasites?", r"nuisibles?", r"microbes?",
    r"animaux", r"betes", r"sauvages", r"cancers?", r"maladies?", r"virus", r"dechets?",
    r"ordures?", r"racailles?", r"invasion", r"grand remplacement", r"pullul\w*",
    r"porcs?", r"sangsues?", r"hyenes?", r"poux", r"punaises?", r"limaces?", r"charognards?",
    r"betail", r"gangrene", r"epidemie", r"chiens galeux", r"meute",
)
_VIOLENCE = (
    r"tu(er|ez|ons|e|erai|erons)", r"egorg\w*", r"crev(er|ez|e|erai)", r"but(er|e|erai)",
    r"brul(er|ons|ez|erai)", r"extermin\w*", r"massacr(er|ez|ons)", r"tabass\w*",
    r"defonc\w*", r"plant(er|erai)", r"abatt(re|ez|ons)", r"elimin(er|ez|ons)", r"pendre",
    r"fusill\w*", r"attaqu(ez|ons)", r"frapp(ez|ons)", r"cass(ez|ons) (la|les|le)",
    r"a coups? de", r"y passer", r"le payer", r"vos armes", r"combat arme",
)
_GLORIFY = (
    r"heros", r"gloire", r"martyrs?", r"honneur a", r"bravo", r"bien fait\w*", r"fiers?",
    r"venge\w*", r"respect", r"paradis", r"lions?", r"allah (lui|leur) accorde",
    r"merite", r"montre la voie", r"imiter", r"vive (daech|daesh|l'etat islamique|l'ei)",
)
_NEGATION = (
    r"ne \w+ pas", r"n'\w+ pas", r"ne \w+ jamais", r"n'\w+ jamais", r"ne \w+ (ni|aucun\w*)",
    r"jamais", r"aucun\w*", r"non,", r"pas (des|de|une?|du)", r"ni \w+ ni",
)


def _word_list(path: Path) -> tuple[str, ...]:
    """Plain words of french-badwords-list (its leetspeak lines are left to :func:`fold`)."""
    if not path.is_file():
        return ()
    words = {normalise(w) for w in path.read_text(encoding="utf-8").splitlines()}
    return tuple(sorted(re.escape(w) for w in words if w and w.replace("-", "").replace(
        " ", "").isalpha() and len(w) > 2))


def _alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


_BADWORDS = Path(__file__).resolve().parent / "data" / "badwords" / "list.txt"
LEXICON: dict[str, re.Pattern[str]] = {
    "slur": _alternation(_SLURS),
    "insult": _alternation(_word_list(_BADWORDS) or ("con",)),
    "dehumanise": _alternation(_DEHUMANISE),
    "violence": _alternation(_VIOLENCE),
    "glorify": _alternation(_GLORIFY),
    "negation": _alternation(_NEGATION),
}
LEXICON_NAMES: tuple[str, ...] = tuple(LEXICON)


def lexicon_hits(folded: str) -> dict[str, list[tuple[int, int]]]:
    """Return each lexicon entry's matches (offsets into ``folded``); slurs are not insults."""
    return {name: list(spans) for name, spans in _lexicon_hits(folded).items()}


@functools.lru_cache(maxsize=2048)
def _lexicon_hits(folded: str) -> dict[str, tuple[tuple[int, int], ...]]:
    # Cached like fold: the counts and the reasons both read them (copies handed out above).
    hits = {name: [m.span() for m in rx.finditer(folded)] for name, rx in LEXICON.items()}
    slur_spans = set(hits["slur"])
    hits["insult"] = [s for s in hits["insult"] if s not in slur_spans]
    return {name: tuple(spans) for name, spans in hits.items()}


class LexiconFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """One column per lexicon entry (``log1p`` of its count) over folded text."""

    def fit(self, x: Iterable[str], y: Any = None) -> LexiconFeatures:
        return self

    def transform(self, x: Iterable[str]) -> sparse.csr_matrix:
        rows = [[len(v) for v in lexicon_hits(fold(t)).values()] for t in x]
        counts = np.asarray(rows, dtype=np.float64).reshape(-1, len(LEXICON_NAMES))
        return sparse.csr_matrix(np.log1p(counts))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"lex_{n}" for n in LEXICON_NAMES], dtype=object)


# --- Negation scope (stage 2) -------------------------------------------------------------
# Why: a sentence encoder places « les X ne sont pas des rats » next to « les X sont des rats »
# (negation moves a sentence vector little), and a linear head cannot tell a harmful word that a
# negation governs from one it does not. These counts say it per clause: harmful words after a
# negation cue in their clause (« ne sont ni des rats ni… »), harmful words asserted, a denied
# claim (« ce n'est pas vrai que… », « je ne pense pas que… »), and the word « stéréotype » and
# its kin. Derogatory predicates (« voleurs », « inférieurs ») count as harmful words here only.
_CLAUSE = re.compile(r"[,.;:!?«»\"()]|\bmais\b|\bcar\b")
_NEG_CUE = re.compile(r"\bn'|\bne\b|\bjamais\b|\baucune?s?\b|\bni\b|\bnon\b|\bpas\b")
# « ne … que » restricts (« ils ne savent que voler »), it does not negate.
_RESTRICT = re.compile(r"\bne \w+ (?:rien (?:d'autre )?)?(?:faire )?(?:d'autre )?que?\b")
_DEROGATORY = re.compile(r"\b(?:" + "|".join((
    r"voleurs?", r"menteurs?", r"inferieur\w*", r"faineants?", r"paresseu\w*", r"profiteu\w*",
    r"delinquants?", r"criminels?", r"terroristes?", r"sales?", r"crasseu\w*", r"menaces?",
    r"dangers?", r"dangereu\w*", r"bete\w*", r"stupides?", r"violents?", r"inutiles?",
    r"malades?", r"hypocrites?", r"profitent", r"volent", r"envahi\w*",
)) + r")\b")
_DENIAL = re.compile("|".join((
    r"\b(?:ne|n')\s?\w+ (?:pas|jamais|plus|absolument pas|nullement)(?: \w+)? que\b",
    r"\bjamais je ne\b", r"\b(?:il est|c'est|c'etait) (?:faux|pas vrai)\b",
    r"\bce n'est pas vrai\b", r"\bje refuse de (?:croire|dire|penser)\b", r"\baucune raison\b",
    r"\bpersonne ne (?:devrait|doit|peut)\b", r"\bce n'est pas parce qu",
)))
_STEREOTYPE = re.compile(r"\b(?:prejuges?|cliches?|stereotypes?|amalgames?|generalis\w*)\b")
SCOPE_NAMES: tuple[str, ...] = ("negated_harm", "asserted_harm", "denied_claim", "stereotype")


def negation_scope(text: str) -> dict[str, int]:
    """Per clause of ``text``, count harmful words a negation governs and those asserted, plus
    denied claims and words naming a stereotype (see above)."""
    folded = fold(text)
    hits = lexicon_hits(folded)
    harm = sorted({span for kind in PUSHING for span in hits[kind]}
                  | {m.span() for m in _DEROGATORY.finditer(folded)})
    bounds = [m.start() for m in _CLAUSE.finditer(folded)] + [len(folded)]
    counts = dict.fromkeys(SCOPE_NAMES, 0)
    start = 0
    for end in bounds:
        clause = folded[start:end]
        cue = _NEG_CUE.search(_RESTRICT.sub(" ", clause))
        for h_start, _h_end in harm:
            if start <= h_start < end:
                negated = cue is not None and start + cue.start() < h_start
                counts["negated_harm" if negated else "asserted_harm"] += 1
        start = end + 1
    counts["denied_claim"] = len(_DENIAL.findall(folded))
    counts["stereotype"] = len(_STEREOTYPE.findall(folded))
    return counts


def scope_matrix(texts: Iterable[str]) -> np.ndarray:
    """:func:`negation_scope` of each text, ``log1p``, one row per text (stage 2's columns)."""
    rows = [list(negation_scope(t).values()) for t in texts]
    return np.log1p(np.asarray(rows, dtype=np.float64).reshape(-1, len(SCOPE_NAMES)))


# --- Reasons a moderator reads -----------------------------------------------------------
# Frames that hold a decision back; lexicon entries that push it (negation holds back too).
FRAME_REASONS: dict[str, str] = {
    "condemn": "condamnation", "report_act": "signalement", "news": "information",
    "quote": "citation", "solidarity": "solidarité",
}
PUSHING = ("slur", "dehumanise", "violence", "glorify", "insult")


class _OneToOne(dict[int, str]):
    """``str.translate`` table giving each character its one folded character, so offsets in
    the translated text are offsets in the original (used to quote the words as written)."""

    def __missing__(self, code: int) -> str:
        value = (normalise(chr(code)) or " ")[:1]
        if code < 128 or value.isascii():
            value = value.translate(_LEET) if not value.isalpha() and value in "013457@$€" \
                else value
        self[code] = value
        return value


_ONE_TO_ONE = _OneToOne()


def _as_written(text: str, folded_word: str) -> str:
    """The words of ``text`` that fold to ``folded_word`` when they can be found, else it."""
    pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, folded_word.split())) + r"\b")
    match = pattern.search(text.translate(_ONE_TO_ONE))
    return text[match.start():match.end()] if match else folded_word


def reasons(text: str, limit: int = 6) -> list[dict[str, str]]:
    """The words behind a decision, each with its reason: ``{"kind", "text", "label"}``.

    ``label`` is the French line a moderator reads (« mot : « vermine » (déshumanisation) »,
    « négation : « ne sont pas » », « citation : « … » »); ``kind`` lets a page translate it.
    """
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, words: str, label: str) -> None:
        if (kind, words) not in seen and len(out) < limit:
            seen.add((kind, words))
            out.append({"kind": kind, "text": words, "label": label})

    folded = fold(text)
    hits = lexicon_hits(folded)
    for kind in (*PUSHING, "negation"):
        for start, end in hits[kind]:
            words = _as_written(text, folded[start:end])
            label = (f"négation : « {words} »" if kind == "negation"
                     else f"mot : « {words} » ({LEXICON_REASONS[kind]})")
            add(kind, words, label)
    norm = normalise(text)
    for frame, name in FRAME_REASONS.items():
        match = _COMPILED[frame].search(norm)
        if match:
            end = match.end()
            while end < len(norm) and norm[end].isalnum():
                end += 1  # the whole word, not the stem the pattern stops at
            words = "« … »" if frame == "quote" and match.group(0) in "«»\"" else \
                _as_written(text, norm[match.start():end].strip())
            add(frame, words, f"{name} : « {words} »" if words != "« … »" else
                f"{name} : {words}")
    return out
