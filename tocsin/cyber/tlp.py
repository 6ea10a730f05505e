"""Traffic Light Protocol: which marking an object carries and who may receive it.

Tocsin exports the TLP 1.0 marking-definitions that STIX 2.1 predefines (§7.2.1.4), because
every STIX 2.1 tool and ``stix2-validator`` know them; TLP 2.0's CLEAR is exported as TLP:WHITE
(the same meaning). On import both are read: the TLP 1.0 ids, and TLP 2.0 marking definitions
recognised by their name (``TLP:CLEAR``, ``TLP:AMBER+STRICT``…), AMBER+STRICT held as AMBER.

The rules (FIRST TLP): RED never leaves Tocsin — it is never written to the TAXII store's
answers nor to an export; AMBER goes only to the partners named on the object; GREEN and CLEAR
go to every partner. Unmarked objects received from a partner are held as AMBER named for that
partner alone: we do not widen what a partner did not say could be widened.
"""

from __future__ import annotations

from typing import Any

import stix2
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

LEVELS = ("clear", "green", "amber", "red")
MARKINGS = {
    "clear": stix2.TLP_WHITE,
    "green": stix2.TLP_GREEN,
    "amber": stix2.TLP_AMBER,
    "red": stix2.TLP_RED,
}
BY_ID = {marking.id: level for level, marking in MARKINGS.items()}
BY_NAME = {"TLP:CLEAR": "clear", "TLP:WHITE": "clear", "TLP:GREEN": "green",
           "TLP:AMBER": "amber", "TLP:AMBER+STRICT": "amber", "TLP:RED": "red"}
SHARED_WITH_ALL = ("clear", "green")


def marking_id(level: str) -> str:
    """Return the STIX id of the marking-definition for ``level``."""
    return str(MARKINGS[level].id)


def marking_object(level: str) -> dict[str, Any]:
    """Return the marking-definition object of ``level`` as JSON."""
    import json

    return dict(json.loads(MARKINGS[level].serialize()))


def encode_partners(names: list[str]) -> str:
    """Store a list of partner usernames as ",a,b," (usernames never contain commas)."""
    cleaned = sorted({n.strip() for n in names if n.strip()})
    return "," + ",".join(cleaned) + "," if cleaned else ""


def decode_partners(text: str) -> list[str]:
    return [n for n in text.split(",") if n]


def visible_to(tlp: InstrumentedAttribute[str], share_with: InstrumentedAttribute[str],
               partner: str | None) -> ColumnElement[bool]:
    """SQL condition: the row may be sent to ``partner``.

    ``None`` is Tocsin's own staff (everything but RED); ``""`` is "any partner" (GREEN, CLEAR).
    """
    if partner is None:
        return tlp != "red"
    if not partner:
        return tlp.in_(SHARED_WITH_ALL)
    escaped = partner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(tlp.in_(SHARED_WITH_ALL),
               and_(tlp == "amber", share_with.like(f"%,{escaped},%", escape="\\")))


def level_of(obj: dict[str, Any], defined: dict[str, str]) -> str | None:
    """Return the TLP level an object's ``object_marking_refs`` give it (strictest), if any."""
    found = [BY_ID.get(ref) or defined.get(ref) for ref in obj.get("object_marking_refs", [])]
    levels = [level for level in found if level]
    return max(levels, key=LEVELS.index) if levels else None


def defined_markings(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Map the ids of TLP marking-definitions found in a bundle to their level."""
    out: dict[str, str] = {}
    for obj in objects:
        if obj.get("type") != "marking-definition":
            continue
        name = str(obj.get("name", "")).upper()
        definition = obj.get("definition") or {}
        if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
            name = "TLP:" + str(definition.get("tlp", "")).upper()
        if name in BY_NAME:
            out[str(obj.get("id"))] = BY_NAME[name]
    return out
