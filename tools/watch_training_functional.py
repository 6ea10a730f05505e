"""Writes ``tocsin/watch/data/training_functional.csv``: templated French TRAINING sentences, by
functional kind, for the content-watch classifier (issue 21).

Why: the stage-2 head learned from MLMA-FR and FTR tweets, which hold almost no negation,
counter-speech or neutral mention of a group, so it could not learn that « les X ne sont pas
des parasites » or « le club accueille des X » are harmless. HateCheck (Röttger et al. 2021)
builds its *test* cases from templates crossed with target groups; we build *training* cases
the same way, and keep them apart from the evaluation set (``functional.csv``):

- every template here was written for this file, with other sentence frames and wording than
  ``functional.csv``'s;
- the target groups, the slurs, the people threatened and the attackers named are other lists
  than the evaluation set's (no group of ``functional.csv``'s twelve appears here as a target,
  no slur of its twelve, no attacker of its five), so the evaluation still measures whether a
  model generalises to groups, words and frames it never saw;
- ``tests/watch/test_training_functional.py`` checks that no sentence, once folded, is shared
  with ``functional.csv`` or ``eval.csv`` and that word 5-grams rarely are.

Deterministic (seeded); run ``python -m tools.watch_training_functional`` to rewrite the file.
Columns ``text,label,kind,functional_category,template`` (``template`` lets cross-validation
keep the sentences of one frame in one fold).
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tocsin" / "watch" / "data" / \
    "training_functional.csv"
SEED = 2112
PER_TEMPLATE = 10 # fillers drawn per template: enough variety, no frame dominates

# (plural, singular, adjective): none of functional.csv's twelve target groups.
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("Maghrébins", "Maghrébin", "maghrébin"), ("Africains", "Africain", "africain"),
    ("lesbiennes", "lesbienne", "lesbienne"), ("gays", "gay", "gay"),
    ("Chinois", "Chinois", "chinois"), ("Turcs", "Turc", "turc"),
    ("gitans", "gitan", "gitan"), ("immigrés", "immigré", "immigré"),
    ("Algériens", "Algérien", "algérien"), ("Sénégalais", "Sénégalais", "sénégalais"),
    ("catholiques", "catholique", "catholique"), ("bouddhistes", "bouddhiste", "bouddhiste"),
    ("Tchétchènes", "Tchétchène", "tchétchène"), ("Afghans", "Afghan", "afghan"),
    ("Syriens", "Syrien", "syrien"), ("Roumains", "Roumain", "roumain"),
    ("autistes", "autiste", "autiste"), ("sourds", "sourd", "sourd"),
    ("bisexuels", "bisexuel", "bisexuel"), ("Antillais", "Antillais", "antillais"),
    ("Kurdes", "Kurde", "kurde"), ("Marocains", "Marocain", "marocain"),
    ("Maliens", "Malien", "malien"), ("Comoriens", "Comorien", "comorien"),
    ("protestants", "protestant", "protestant"), ("Pakistanais", "Pakistanais", "pakistanais"),
)
# The groups most often targeted in France; functional.csv names them too (as its twelve
# targets), so they are left out unless ``--common-groups`` asks for them.
COMMON_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("musulmans", "musulman", "musulman"), ("juifs", "juif", "juif"), ("Noirs", "Noir", "noir"),
    ("Arabes", "Arabe", "arabe"), ("femmes", "femme", "féminine"),
    ("homosexuels", "homosexuel", "homosexuel"), ("migrants", "migrant", "migrant"),
    ("Roms", "Rom", "rom"), ("handicapés", "handicapé", "handicapé"),
    ("réfugiés", "réfugié", "réfugié"), ("trans", "trans", "trans"),
    ("Asiatiques", "Asiatique", "asiatique"),
)
# (singular, plural): none of functional.csv's twelve slurs.
SLURS: tuple[tuple[str, str], ...] = (
    ("crouille", "crouilles"), ("youtre", "youtres"), ("moricaud", "moricauds"),
    ("tafiole", "tafioles"), ("tapette", "tapettes"), ("pédale", "pédales"),
    ("fiotte", "fiottes"), ("boukak", "boukaks"), ("bounioul", "bounioules"),
    ("chintok", "chintoks"), ("négresse", "négresses"), ("tantouze", "tantouzes"),
    ("youd", "youds"), ("makoumé", "makoumés"), ("gnoule", "gnoules"), ("schleu", "schleus"),
)
# People threatened: other names and roles than functional.csv's.
PEOPLE = ("Samir", "Julie", "l'avocate", "monsieur le député", "Nadia", "Thomas",
          "l'arbitre", "Inès", "madame la conseillère", "le directeur", "Yanis", "la militante",
          "Pauline", "le pasteur", "Rachid", "la présidente de l'asso")
# Attackers and attacks from public reporting: not functional.csv's five attackers.
ATTACKERS = ("Saïd Kouachi", "Mohamed Lahouaiej-Bouhlel", "Ahmed Hanachi", "Adel Kermiche",
             "Abdoullakh Anzorov", "Yassin Salhi", "Abdelhamid Abaaoud", "Samy Amimour",
             "Brahim Aouissaoui", "Brenton Tarrant", "Anders Breivik", "Mohammed Mogouchkov")
ATTACKS = ("l'attaque de Magnanville", "l'attentat de la promenade des Anglais",
           "l'assassinat du père Hamel", "la décapitation de Conflans",
           "la tuerie de Christchurch", "l'attaque de la basilique de Nice",
           "l'attentat de Saint-Quentin-Fallavier", "le massacre d'Utøya",
           "l'attaque du lycée d'Arras", "l'attaque du marché de Noël de Strasbourg")
ANIMALS = ("porcs", "sangsues", "hyènes", "poux", "chiens galeux", "limaces", "punaises",
           "moustiques", "rapaces", "charognards")
ACTS = ("frapper", "lyncher", "égorger", "chasser à coups de bâton", "brûler vifs",
        "lapider", "pendre", "abattre")
PLACES = ("Lille", "Rennes", "Grenoble", "Mulhouse", "Perpignan", "Brest", "Limoges", "Tours",
          "Amiens", "Besançon", "Nîmes", "Caen")

Filler = dict[str, str]

# Each template: (functional_category, label, frame). Frames name fillers in braces:
# {g} plural group, {g1} singular group, {ga}/{gap} adjective (singular/plural), {s} slur,
# {sp} slur plural,
# {p} person, {a} attacker, {e} attack, {an} animal plural, {act} violent verb, {v} place.
TEMPLATES: tuple[tuple[str, str, str], ...] = (
    # --- slurs (hate) ---
    ("slur", "hate", "Qu'est-ce qu'il fout encore là, ce {s} ?"),
    ("slur", "hate", "J'en peux plus de croiser des {sp} à chaque coin de rue"),
    ("slur", "hate", "Toi le {s}, retourne d'où tu viens"),
    ("slur", "hate", "Y a trop de {sp} dans ce bus, ça devient irrespirable"),
    ("slur", "hate", "Mon patron a embauché un {s}, on est foutus"),
    ("slur", "hate", "Ferme ta gueule espèce de {s}"),
    ("slur", "hate", "Encore une soirée gâchée par une bande de {sp}"),
    ("slur", "hate", "Un {s} restera toujours un {s}, diplôme ou pas"),
    ("slur", "hate", "Personne n'a envie de voir des {sp} à la télé le soir"),
    ("slur", "hate", "Cette école est devenue un repaire de {sp}"),
    # --- derogation (hate) ---
    ("derogation", "hate", "Les {g} sont tous des fainéants qui vivent à nos crochets"),
    ("derogation", "hate", "Les {g} ne savent rien faire d'autre que voler et mentir"),
    ("derogation", "hate", "Dès que des {g} s'installent dans un quartier, la délinquance explose"),
    ("derogation", "hate", "Les {g} sont trop bêtes pour comprendre nos lois"),
    ("derogation", "hate", "Il n'existe pas un seul {g1} honnête sur cette terre"),
    ("derogation", "hate", "Les {g} puent, ils sont crasseux et bruyants"),
    ("derogation", "hate", "Je ne supporte pas les {g}, ils sont tous pareils, des profiteurs"),
    ("derogation", "hate", "Un {g1} au travail, c'est la garantie d'un boulot bâclé"),
    ("derogation", "hate", "Les {g} sont une honte pour l'humanité tout entière"),
    ("derogation", "hate", "Les {g} sont des êtres inférieurs, c'est scientifique"),
    # --- dehumanisation (hate) ---
    ("dehumanisation", "hate", "Les {g} sont des {an} qui se vautrent dans la crasse"),
    ("dehumanisation", "hate", "Les {g} se multiplient comme des {an}"),
    ("dehumanisation", "hate", "Ces {g}, c'est une gangrène qui pourrit nos villes"),
    ("dehumanisation", "hate", "Les {g} ne sont que des sous-hommes sans cervelle"),
    ("dehumanisation", "hate", "Les {g}, une meute de bêtes sauvages à mettre en cage"),
    ("dehumanisation", "hate", "Des {an}, voilà ce que sont les {g}"),
    ("dehumanisation", "hate", "Les {g} ? Du bétail, pas des personnes"),
    ("dehumanisation", "hate", "Les {g} sont des déchets humains qu'il faut évacuer"),
    ("dehumanisation", "hate", "Il faudrait désinfecter le pays de ces {an} de {g}"),
    ("dehumanisation", "hate", "Les {g} sont une épidémie qui contamine la nation"),
    # --- threats to a person (call_to_violence) ---
    ("threat", "call_to_violence", "{p}, je connais ton adresse et je viendrai te saigner"),
    ("threat", "call_to_violence", "Je vais te retrouver {p} et te faire la peau"),
    ("threat", "call_to_violence", "{p}, tu ne passeras pas la semaine, crois-moi"),
    ("threat", "call_to_violence", "Continue comme ça {p} et tu finiras dans un sac"),
    ("threat", "call_to_violence", "{p}, je vais t'éclater la gueule devant tes gosses"),
    ("threat", "call_to_violence", "Je t'attendrai à la sortie {p}, et tu vas pleurer"),
    ("threat", "call_to_violence", "{p}, ta voiture va cramer et toi avec"),
    ("threat", "call_to_violence", "Je te jure {p} que je vais te tuer de mes mains"),
    ("threat", "call_to_violence", "Dors pas trop tranquille {p}, on arrive chez toi"),
    ("threat", "call_to_violence", "Je vais te mettre une balle dans la tête, {p}"),
    ("threat", "call_to_violence", "{p}, on va te massacrer toi et toute ta famille"),
    # --- calls to violence against a group (call_to_violence) ---
    ("call_to_violence", "call_to_violence", "Tout le monde dehors ce soir pour cogner des {g}"),
    ("call_to_violence", "call_to_violence", "Il faut {act} les {g} sur la place publique"),
    ("call_to_violence", "call_to_violence", "Lynchez le premier {g1} que vous croisez"),
    ("call_to_violence", "call_to_violence", "Armez-vous et chassez les {g} de nos villes"),
    ("call_to_violence", "call_to_violence", "Mettons le feu aux commerces des {g}"),
    ("call_to_violence", "call_to_violence", "Une seule solution pour les {g} : une balle chacun"),
    ("call_to_violence", "call_to_violence", "Descendez dans la rue et éliminez les {g}"),
    ("call_to_violence", "call_to_violence", "Qu'on les égorge tous, ces {g}"),
    ("call_to_violence", "call_to_violence", "Je propose qu'on aille {act} des {g} demain à {v}"),
    ("call_to_violence", "call_to_violence", "Faites sauter leur lieu de culte, mort aux {g}"),
    ("call_to_violence", "call_to_violence", "Frères, prenez les couteaux et attaquez les {g}"),
    # --- apology of terrorism (terrorism_apology) ---
    ("apology", "terrorism_apology", "{a} est un modèle pour nous tous"),
    ("apology", "terrorism_apology", "Que Dieu récompense {a} pour {e}"),
    ("apology", "terrorism_apology", "{e}, le plus beau jour de ma vie"),
    ("apology", "terrorism_apology", "{a} a eu le courage que vous n'aurez jamais"),
    ("apology", "terrorism_apology", "Ce que {a} a fait, c'était justice, ils n'ont eu que leur "
                                     "dû"),
    ("apology", "terrorism_apology", "{a} mérite une statue dans chaque ville"),
    ("apology", "terrorism_apology", "Merci {a}, tu as puni ces chiens comme il fallait"),
    ("apology", "terrorism_apology", "Il en faudrait dix comme {a}"),
    ("apology", "terrorism_apology", "{a}, notre héros éternel, repose en paix champion"),
    ("apology", "terrorism_apology", "{e} ? Ils l'ont mérité, vive le djihad"),
    ("apology", "terrorism_apology", "J'ai fêté {e} avec mes potes, que du bonheur"),
    ("apology", "terrorism_apology", "{a} est un saint, suivez son exemple"),
    # --- negated hate (none) ---
    ("negated_hate", "none", "Les {g} ne sont pas plus violents que n'importe qui"),
    ("negated_hate", "none", "Je refuse de croire que les {g} soient un danger"),
    ("negated_hate", "none", "Il est faux de prétendre que les {g} vivent des allocations"),
    ("negated_hate", "none", "Les {g} n'ont rien de dangereux, ce sont nos voisins et amis"),
    ("negated_hate", "none", "Je n'ai jamais pensé que les {g} étaient inférieurs à moi"),
    ("negated_hate", "none", "Aucun {g1} ne mérite d'être traité comme un animal"),
    ("negated_hate", "none", "Ce n'est pas parce qu'on est {ga} qu'on est un criminel"),
    ("negated_hate", "none", "Non, être {ga} n'est ni une maladie ni une tare"),
    ("negated_hate", "none", "Les {g} ne volent le travail de personne"),
    ("negated_hate", "none", "Je ne déteste pas les {g}, je ne les ai jamais détestés"),
    ("negated_hate", "none", "Personne ne devrait avoir peur des {g}, ils ne menacent personne"),
    ("negated_hate", "none", "Les {g} ne sont ni sales ni paresseux, c'est un préjugé"),
    ("negated_hate", "none", "On ne dira jamais assez que les {g} ne sont pas des {an}"),
    # --- counter-speech quoting hate to reject it (none) ---
    ("counter_speech", "none", "Lire « les {g} sont des {an} » sous une photo d'enfants, ça me "
                               "dégoûte"),
    ("counter_speech", "none", "Celui qui écrit « sale {s} » n'a rien compris à la République"),
    ("counter_speech", "none", "On m'a crié « {s} » dans le métro, je ne me tairai pas"),
    ("counter_speech", "none", "« Les {g} dehors » : non, ce genre de phrase n'est pas une "
                               "opinion, c'est un délit"),
    ("counter_speech", "none", "Traiter les {g} de {an}, c'est du racisme pur et simple"),
    ("counter_speech", "none", "Assez de ces commentaires qui comparent les {g} à des {an}"),
    ("counter_speech", "none", "Les gens qui réclament de {act} les {g} doivent répondre devant "
                               "un juge"),
    ("counter_speech", "none", "Ça me révolte de voir autant de gens applaudir {a}"),
    ("counter_speech", "none", "Glorifier {a}, c'est cracher sur la tombe des victimes"),
    ("counter_speech", "none", "À ceux qui hurlent « mort aux {g} » : vous ne nous diviserez pas"),
    ("counter_speech", "none", "Quand un élu parle des {g} comme d'une invasion, il prépare la "
                               "violence"),
    ("counter_speech", "none", "Le mot « {s} » est une insulte raciste, pas une blague"),
    # --- condemnation of an attack, mourning (none; not a category of functional.csv, but
    # the commonest harmless text that names an attack and its author) ---
    ("denunciation", "none", "Rien ne justifie {e}, je le condamne sans la moindre réserve"),
    ("denunciation", "none", "Une pensée émue pour les familles endeuillées par {e}"),
    ("denunciation", "none", "{a} est un assassin, pas un martyr"),
    ("denunciation", "none", "Honte éternelle à {a} et à ceux qui l'ont aidé"),
    ("denunciation", "none", "Nous n'oublierons jamais les victimes de {e}"),
    ("denunciation", "none", "Minute de silence ce midi à {v} en mémoire des victimes de {e}"),
    ("denunciation", "none", "Les auteurs de {e} sont des lâches, pas des héros"),
    ("denunciation", "none", "{v} reste debout et unie après {e}"),
    # --- reporting (none) ---
    ("reporting", "none", "Un internaute jugé à {v} pour des injures envers les {g}"),
    ("reporting", "none", "La police enquête sur des tags visant les {g} à {v}"),
    ("reporting", "none", "L'association a saisi la justice après des messages appelant à {act} "
                          "des {g}"),
    ("reporting", "none", "Condamné pour apologie après avoir publié une photo de {a}"),
    ("reporting", "none", "La préfecture recense une hausse des agressions contre les {g} depuis "
                          "janvier"),
    ("reporting", "none", "J'ai transmis à la modération le commentaire qui traitait les {g} de "
                          "{an}"),
    ("reporting", "none", "Le compte qui comparait les {g} à des {an} a été fermé"),
    ("reporting", "none", "Audience lundi à {v} pour l'homme qui voulait {act} des {g}"),
    ("reporting", "none", "D'après l'étude, un {g1} sur trois dit avoir été insulté dans la rue"),
    ("reporting", "none", "Une plainte déposée contre un youtubeur pour propos haineux envers "
                          "les {g}"),
    ("reporting", "none", "Dix ans après {e}, les proches des victimes témoignent"),
    ("reporting", "none", "Le message qui menaçait {p} a été signalé et son auteur identifié"),
    # --- neutral mention of a group (none) ---
    ("neutral_group", "none", "Le club de {v} accueille des {g} et des gens de tous horizons"),
    ("neutral_group", "none", "Les {g} de la ville fêtent leur nouvel an samedi"),
    ("neutral_group", "none", "Conférence jeudi à {v} sur l'histoire des {g} en Europe"),
    ("neutral_group", "none", "Notre chorale compte des {g}, des retraités et des étudiants"),
    ("neutral_group", "none", "Un livre de recettes des {g} vient de sortir en librairie"),
    ("neutral_group", "none", "Le musée de {v} consacre une exposition aux peintres {gap}"),
    ("neutral_group", "none", "Mon meilleur ami est {ga} et on part en vacances ensemble"),
    ("neutral_group", "none", "Plusieurs élèves {gap} de ma classe ont eu leur bac avec mention"),
    ("neutral_group", "none", "Des {g} ont ouvert une boulangerie en bas de chez moi"),
    ("neutral_group", "none", "La radio locale donne la parole aux {g} du quartier"),
    ("neutral_group", "none", "Ma voisine, qui est {ga}, m'a aidé à repeindre la cuisine"),
    ("neutral_group", "none", "Les {g} sont nombreux à faire du bénévolat à {v}"),
)

# Spelling variants: harmful sentences above, disguised. The evaluation set's disguises are
# the usual ones (leetspeak, spaced or dotted letters, stretched letters, missing accents);
# these are applied by code to *our* sentences, so no disguised word is copied from it.
_LEET = {"a": "@", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}


def _leet(text: str, rng: random.Random) -> str:
    return "".join(_LEET[c] if c in _LEET and rng.random() < 0.6 else c for c in text)


def _spaced(text: str, rng: random.Random) -> str:
    words = text.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]) + rng.random())
    sep = rng.choice((" ", ".", "-"))
    words[longest] = sep.join(words[longest])
    return " ".join(words)


def _stretched(text: str, rng: random.Random) -> str:
    return "".join(c * rng.choice((3, 4)) if c in "aeiou" and rng.random() < 0.25 else c
                   for c in text)


def _unaccented(text: str, rng: random.Random) -> str:
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).lower()


DISGUISES: tuple[Callable[[str, random.Random], str], ...] = (
    _leet, _spaced, _stretched, _unaccented)


def _fill(frame: str, filler: Filler) -> str:
    out = frame
    for key, value in filler.items():
        out = out.replace("{" + key + "}", value)
    return out[0].upper() + out[1:]


def _fillers(rng: random.Random, groups: tuple[tuple[str, str, str], ...]) -> Filler:
    plural, singular, adjective = rng.choice(groups)
    slur, slurs = rng.choice(SLURS)
    return {"g": plural, "g1": singular, "ga": adjective,
            "gap": adjective if adjective.endswith("s") else adjective + "s",
            "s": slur, "sp": slurs,
            "p": rng.choice(PEOPLE), "a": rng.choice(ATTACKERS), "e": rng.choice(ATTACKS),
            "an": rng.choice(ANIMALS), "act": rng.choice(ACTS), "v": rng.choice(PLACES)}


def rows(seed: int = SEED, *, common_groups: bool = False) -> list[dict[str, str]]:
    """Every training row, deterministic for ``seed``; duplicates dropped."""
    rng = random.Random(seed)  # noqa: S311 (reproducible data, not a secret)
    groups = GROUPS + COMMON_GROUPS if common_groups else GROUPS
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    # The ``kind`` column as eval.csv and functional.csv write it.
    kinds = {"hate": "hateful", "call_to_violence": "violence",
             "terrorism_apology": "apology", "negated_hate": "negation",
             "counter_speech": "counter_speech", "reporting": "reporting",
             "denunciation": "denunciation",
             "neutral_group": "neutral"}
    for number, (category, label, frame) in enumerate(TEMPLATES):
        for _ in range(PER_TEMPLATE):
            text = _fill(frame, _fillers(rng, groups))
            if text.casefold() in seen:
                continue
            seen.add(text.casefold())
            kind = kinds[label] if label != "none" else kinds[category]
            out.append({"text": text, "label": label, "kind": kind,
                        "functional_category": category, "template": f"t{number:03d}"})
            if label != "none" and rng.random() < 0.35:
                disguise = rng.choice(DISGUISES)
                variant = disguise(text, rng)
                if variant.casefold() not in seen:
                    seen.add(variant.casefold())
                    out.append({"text": variant, "label": label, "kind": "obfuscated",
                                "functional_category": "spelling_variant",
                                "template": f"t{number:03d}"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--common-groups", action="store_true",
                        help="also use the twelve groups functional.csv names as targets")
    args = parser.parse_args()
    data = rows(common_groups=args.common_groups)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    print(f"{args.out}: {len(data)} rows")


if __name__ == "__main__":
    main()
