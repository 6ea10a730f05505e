"""What happened where and when on 13 November 2015, as the demo replays it.

Times are Paris local times of that night (public reporting, rounded to the minute); positions are
approximate (a few tens of metres) and only used to place simulated calls. The number of calls is
invented: the real SOS traffic of that night was not published. Nothing here names a victim.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The replayed evening starts at the first explosion and ends after the assault on the Bataclan.
START = dt.datetime(2015, 11, 13, 21, 16)
END = dt.datetime(2015, 11, 14, 0, 30)


@dataclass(frozen=True)
class Site:
    """A place attacked that night."""

    key: str
    name: str
    lat: float
    lon: float


SITES: dict[str, Site] = {s.key: s for s in (
    Site("sdf_d", "Stade de France, porte D (Saint-Denis)", 48.92560, 2.35700),
    Site("sdf_h", "Stade de France, porte H (Saint-Denis)", 48.92700, 2.36190),
    Site("sdf_cokerie", "Stade de France, rue de la Cokerie (Saint-Denis)", 48.92330, 2.36520),
    Site("carillon", "Le Carillon et Le Petit Cambodge, rue Bichat / rue Alibert (10e)",
         48.87196, 2.36709),
    Site("fontaine", "La Bonne Bière et Casa Nostra, rue de la Fontaine-au-Roi (11e)",
         48.86877, 2.36920),
    Site("charonne", "La Belle Équipe, rue de Charonne (11e)", 48.85383, 2.38402),
    Site("comptoir", "Comptoir Voltaire, boulevard Voltaire (11e)", 48.85052, 2.39232),
    Site("bataclan", "Le Bataclan, boulevard Voltaire (11e)", 48.86309, 2.37076),
)}


@dataclass(frozen=True)
class Burst:
    """A wave of silent SOS from one site: ``count`` calls (before scaling) at ``at``."""

    at: dt.datetime
    site: str
    count: int
    situations: tuple[str, ...]
    label: str


def _t(hour: int, minute: int) -> dt.datetime:
    day = 13 if hour >= 12 else 14
    return dt.datetime(2015, 11, day, hour, minute)


# Hundreds from the concert hall, tens from each terrace, in the order of that night.
BURSTS: tuple[Burst, ...] = (
    Burst(_t(21, 16), "sdf_d", 25, ("attack", "injured"), "explosion près de la porte D"),
    Burst(_t(21, 20), "sdf_h", 15, ("attack", "injured"), "explosion près de la porte H"),
    Burst(_t(21, 25), "carillon", 40, ("attack", "injured", "armed_person"),
          "tirs sur les terrasses"),
    Burst(_t(21, 32), "fontaine", 25, ("attack", "injured", "armed_person"),
          "tirs sur les terrasses"),
    Burst(_t(21, 36), "charonne", 30, ("attack", "injured", "armed_person"),
          "tirs sur la terrasse"),
    Burst(_t(21, 40), "comptoir", 15, ("attack", "injured"), "explosion en salle"),
    Burst(_t(21, 47), "bataclan", 100, ("attack", "armed_person", "injured"),
          "tirs dans la salle de concert"),
    Burst(_t(21, 53), "sdf_cokerie", 10, ("attack", "injured"), "troisième explosion"),
    Burst(_t(21, 56), "bataclan", 60, ("hidden", "injured", "armed_person"),
          "des spectateurs cachés appellent"),
    Burst(_t(22, 15), "bataclan", 50, ("hostage", "hidden", "injured"), "prise d'otages"),
    Burst(_t(22, 40), "bataclan", 40, ("hidden", "hostage", "injured"),
          "des personnes cachées dans les loges et les faux plafonds"),
    Burst(_t(23, 10), "bataclan", 30, ("hidden", "injured"), "toujours cachés, blessés"),
    Burst(_t(23, 45), "bataclan", 20, ("hidden", "injured"), "derniers appels avant l'assaut"),
)

# Short texts some callers type (the SOS page lets them add one).
SOS_TEXTS: tuple[str, ...] = (
    "On est cachés dans une loge au premier étage, 12 personnes, 2 blessés",
    "Tirs en continu, je suis sous une table, je ne peux pas parler",
    "Blessé à la jambe, je saigne beaucoup, près de la sortie de secours",
    "Il y a un homme armé devant la porte, nous sommes dans les toilettes",
    "Nous sommes sur le toit, 6 personnes",
)


def minutes(at: dt.datetime) -> float:
    """Return how many minutes of the evening have passed at ``at``."""
    return (at - START).total_seconds() / 60


def clock(at: dt.datetime) -> str:
    """Format a time of that night as 21:47."""
    return at.strftime("%H:%M")
