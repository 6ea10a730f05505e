"""Shelter page texts added for issue 20: languages picked from a list, counts with the right
plural, and the line that says the page updates itself.

The languages are those most often needed in Île-de-France emergency shelters (French, the
languages of recent arrivals, the common European ones); each is sent as the ISO 639-1 code the
shelter API already takes, and named in the page language.
"""

from __future__ import annotations

from tocsin.web import i18n

# ISO 639-1 code -> (French name, English name)
LANGUAGES: dict[str, tuple[str, str]] = {
    "fr": ("français", "French"),
    "en": ("anglais", "English"),
    "ar": ("arabe", "Arabic"),
    "es": ("espagnol", "Spanish"),
    "pt": ("portugais", "Portuguese"),
    "it": ("italien", "Italian"),
    "de": ("allemand", "German"),
    "uk": ("ukrainien", "Ukrainian"),
    "ru": ("russe", "Russian"),
    "zh": ("chinois", "Chinese"),
    "tr": ("turc", "Turkish"),
    "ro": ("roumain", "Romanian"),
    "fa": ("persan", "Persian"),
    "ps": ("pachto", "Pashto"),
}

_FR = {
    **{f"shelter.lang.{code}": names[0] for code, names in LANGUAGES.items()},
    "shelter.languages_pick": "Cochez les langues parlées (8 au plus).",
    "shelter.languages_too_many": "Choisissez 8 langues au plus.",
    "shelter.places_one": "{n} place libre",
    "shelter.places_other": "{n} places libres",
    "shelter.people_one": "{n} personne",
    "shelter.people_other": "{n} personnes",
    "shelter.offers_one": "{n} offre, {places}",
    "shelter.offers_other": "{n} offres, {places}",
    "shelter.live": "Mis à jour à {time} ; la page se met à jour d'elle-même.",
    "shelter.coords": "Coordonnées (remplies par la recherche, « Ma position » ou la carte)",
    "shelter.position_missing": (
        "Indiquez d'abord où : cherchez une adresse, touchez « Ma position » ou choisissez sur "
        "la carte."
    ),
}
_EN = {
    **{f"shelter.lang.{code}": names[1] for code, names in LANGUAGES.items()},
    "shelter.languages_pick": "Tick the languages spoken (8 at most).",
    "shelter.languages_too_many": "Choose 8 languages at most.",
    "shelter.places_one": "{n} place free",
    "shelter.places_other": "{n} places free",
    "shelter.people_one": "{n} person",
    "shelter.people_other": "{n} people",
    "shelter.offers_one": "{n} offer, {places}",
    "shelter.offers_other": "{n} offers, {places}",
    "shelter.live": "Updated at {time}; the page updates itself.",
    "shelter.coords": "Coordinates (filled by the search, \u201cMy position\u201d or the map)",
    "shelter.position_missing": (
        "First say where: search an address, press \u201cMy position\u201d or pick on the map."
    ),
}
i18n.register_messages({"fr": _FR, "en": _EN})

SHELTER_EXTRA_KEYS = tuple(_FR)
