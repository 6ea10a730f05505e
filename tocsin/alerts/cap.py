"""CAP 1.2 messages as plain data, and their XML form (OASIS CAP 1.2, §3).

:class:`CapAlert` mirrors the ``<alert>`` element (§3.2.1) with its ``<info>`` blocks (§3.2.2),
``<resource>`` (§3.2.3) and ``<area>`` (§3.2.4). :func:`to_xml` writes elements in the order the
schema's ``<sequence>`` demands, and :func:`from_element` reads a tree that has *already* passed
:mod:`tocsin.alerts.validate` (schema and extra rules), so it trusts the structure.
Dates keep the offset they were written with: a message re-exported is the message received.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
_N = "{" + CAP12_NS + "}"


@dataclass
class ValuePair:
    """A ``valueName``/``value`` pair (eventCode, parameter, geocode)."""

    name: str
    value: str


@dataclass
class CapResource:
    """``<resource>``, CAP 1.2 §3.2.3."""

    desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass
class CapArea:
    """``<area>``, CAP 1.2 §3.2.4: polygons and circles kept in their CAP text form."""

    desc: str
    polygons: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)
    geocodes: list[ValuePair] = field(default_factory=list)
    altitude: str | None = None
    ceiling: str | None = None


@dataclass
class CapInfo:
    """``<info>``, CAP 1.2 §3.2.2; one per language."""

    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    language: str | None = None
    response_types: list[str] = field(default_factory=list)
    audience: str | None = None
    event_codes: list[ValuePair] = field(default_factory=list)
    effective: dt.datetime | None = None
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: list[ValuePair] = field(default_factory=list)
    resources: list[CapResource] = field(default_factory=list)
    areas: list[CapArea] = field(default_factory=list)


@dataclass
class CapAlert:
    """``<alert>``, CAP 1.2 §3.2.1."""

    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    scope: str
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: list[str] = field(default_factory=list)
    note: str | None = None
    references: str | None = None
    incidents: str | None = None
    infos: list[CapInfo] = field(default_factory=list)

    @property
    def expires(self) -> dt.datetime | None:
        """Return the latest ``expires`` of the infos (None if any info never expires)."""
        values = [info.expires for info in self.infos]
        if not values or any(v is None for v in values):
            return None
        return max(v for v in values if v is not None)


def format_time(value: dt.datetime) -> str:
    """Write a CAP dateTime: seconds, explicit offset, never "Z" (CAP 1.2 §3.3.2)."""
    if value.tzinfo is None:
        raise ValueError("CAP times must carry a time zone")
    text = value.replace(microsecond=0).isoformat()
    return text


def parse_time(text: str) -> dt.datetime:
    """Read a CAP dateTime (already checked against the schema's pattern)."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value


def reference_of(alert: CapAlert) -> str:
    """Return the ``sender,identifier,sent`` triple that names ``alert`` (CAP 1.2 §3.2.1)."""
    return f"{alert.sender},{alert.identifier},{format_time(alert.sent)}"


# --- writing ---------------------------------------------------------------------------------


def _add(parent: etree._Element, name: str, value: str | None) -> None:
    if value is not None:
        etree.SubElement(parent, _N + name).text = value


def _add_pairs(parent: etree._Element, name: str, pairs: list[ValuePair]) -> None:
    for pair in pairs:
        element = etree.SubElement(parent, _N + name)
        _add(element, "valueName", pair.name)
        _add(element, "value", pair.value)


def _add_time(parent: etree._Element, name: str, value: dt.datetime | None) -> None:
    _add(parent, name, format_time(value) if value is not None else None)


def to_element(alert: CapAlert) -> etree._Element:
    """Build the ``<alert>`` element, children in schema order."""
    root = etree.Element(_N + "alert", nsmap={None: CAP12_NS})
    for name, value in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", format_time(alert.sent)),
        ("status", alert.status),
        ("msgType", alert.msg_type),
        ("source", alert.source),
        ("scope", alert.scope),
        ("restriction", alert.restriction),
        ("addresses", alert.addresses),
    ):
        _add(root, name, value)
    for code in alert.codes:
        _add(root, "code", code)
    _add(root, "note", alert.note)
    _add(root, "references", alert.references)
    _add(root, "incidents", alert.incidents)
    for info in alert.infos:
        _info_element(root, info)
    return root


def _info_element(root: etree._Element, info: CapInfo) -> None:
    el = etree.SubElement(root, _N + "info")
    _add(el, "language", info.language)
    for category in info.categories:
        _add(el, "category", category)
    _add(el, "event", info.event)
    for response in info.response_types:
        _add(el, "responseType", response)
    _add(el, "urgency", info.urgency)
    _add(el, "severity", info.severity)
    _add(el, "certainty", info.certainty)
    _add(el, "audience", info.audience)
    _add_pairs(el, "eventCode", info.event_codes)
    _add_time(el, "effective", info.effective)
    _add_time(el, "onset", info.onset)
    _add_time(el, "expires", info.expires)
    for name, value in (
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("web", info.web),
        ("contact", info.contact),
    ):
        _add(el, name, value)
    _add_pairs(el, "parameter", info.parameters)
    for res in info.resources:
        r = etree.SubElement(el, _N + "resource")
        _add(r, "resourceDesc", res.desc)
        _add(r, "mimeType", res.mime_type)
        _add(r, "size", str(res.size) if res.size is not None else None)
        _add(r, "uri", res.uri)
        _add(r, "derefUri", res.deref_uri)
        _add(r, "digest", res.digest)
    for area in info.areas:
        a = etree.SubElement(el, _N + "area")
        _add(a, "areaDesc", area.desc)
        for polygon in area.polygons:
            _add(a, "polygon", polygon)
        for circle in area.circles:
            _add(a, "circle", circle)
        _add_pairs(a, "geocode", area.geocodes)
        _add(a, "altitude", area.altitude)
        _add(a, "ceiling", area.ceiling)


def to_xml(alert: CapAlert) -> bytes:
    """Serialise ``alert`` as a CAP 1.2 document (UTF-8, with declaration)."""
    return bytes(
        etree.tostring(to_element(alert), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )


# --- reading ---------------------------------------------------------------------------------


def _text(parent: etree._Element, name: str) -> str | None:
    child = parent.find(_N + name)
    if child is None:
        return None
    return child.text or ""


def _texts(parent: etree._Element, name: str) -> list[str]:
    return [child.text or "" for child in parent.findall(_N + name)]


def _pairs(parent: etree._Element, name: str) -> list[ValuePair]:
    return [
        ValuePair(_text(child, "valueName") or "", _text(child, "value") or "")
        for child in parent.findall(_N + name)
    ]


def _time(parent: etree._Element, name: str) -> dt.datetime | None:
    value = _text(parent, name)
    return parse_time(value) if value else None


def from_element(root: etree._Element) -> CapAlert:
    """Read a validated CAP 1.2 ``<alert>`` element."""
    return CapAlert(
        identifier=_text(root, "identifier") or "",
        sender=_text(root, "sender") or "",
        sent=parse_time(_text(root, "sent") or ""),
        status=_text(root, "status") or "",
        msg_type=_text(root, "msgType") or "",
        scope=_text(root, "scope") or "",
        source=_text(root, "source"),
        restriction=_text(root, "restriction"),
        addresses=_text(root, "addresses"),
        codes=_texts(root, "code"),
        note=_text(root, "note"),
        references=_text(root, "references"),
        incidents=_text(root, "incidents"),
        infos=[_info(el) for el in root.findall(_N + "info")],
    )


def _info(el: etree._Element) -> CapInfo:
    size_text = None
    resources = []
    for r in el.findall(_N + "resource"):
        size_text = _text(r, "size")
        resources.append(
            CapResource(
                desc=_text(r, "resourceDesc") or "",
                mime_type=_text(r, "mimeType") or "",
                size=int(size_text) if size_text else None,
                uri=_text(r, "uri"),
                deref_uri=_text(r, "derefUri"),
                digest=_text(r, "digest"),
            )
        )
    return CapInfo(
        language=_text(el, "language"),
        categories=_texts(el, "category"),
        event=_text(el, "event") or "",
        response_types=_texts(el, "responseType"),
        urgency=_text(el, "urgency") or "",
        severity=_text(el, "severity") or "",
        certainty=_text(el, "certainty") or "",
        audience=_text(el, "audience"),
        event_codes=_pairs(el, "eventCode"),
        effective=_time(el, "effective"),
        onset=_time(el, "onset"),
        expires=_time(el, "expires"),
        sender_name=_text(el, "senderName"),
        headline=_text(el, "headline"),
        description=_text(el, "description"),
        instruction=_text(el, "instruction"),
        web=_text(el, "web"),
        contact=_text(el, "contact"),
        parameters=_pairs(el, "parameter"),
        resources=resources,
        areas=[
            CapArea(
                desc=_text(a, "areaDesc") or "",
                polygons=_texts(a, "polygon"),
                circles=_texts(a, "circle"),
                geocodes=_pairs(a, "geocode"),
                altitude=_text(a, "altitude"),
                ceiling=_text(a, "ceiling"),
            )
            for a in el.findall(_N + "area")
        ],
    )


# --- storage as JSON -------------------------------------------------------------------------


def to_json(alert: CapAlert) -> dict[str, Any]:
    """Return ``alert`` as JSON-ready data (times as CAP text)."""

    def convert(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return format_time(value)
        if isinstance(value, list):
            return [convert(v) for v in value]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return value

    result: dict[str, Any] = convert(alert)
    return result


def from_json(data: dict[str, Any]) -> CapAlert:
    """Rebuild an alert stored with :func:`to_json`."""

    def times(d: dict[str, Any], *names: str) -> dict[str, Any]:
        return {**d, **{n: parse_time(d[n]) if d.get(n) else None for n in names}}

    infos = []
    for info in data.get("infos", []):
        info = times(info, "effective", "onset", "expires")
        info["event_codes"] = [ValuePair(**p) for p in info.get("event_codes", [])]
        info["parameters"] = [ValuePair(**p) for p in info.get("parameters", [])]
        info["resources"] = [CapResource(**r) for r in info.get("resources", [])]
        info["areas"] = [
            CapArea(**{**a, "geocodes": [ValuePair(**p) for p in a.get("geocodes", [])]})
            for a in info.get("areas", [])
        ]
        infos.append(CapInfo(**info))
    return CapAlert(**{**times(data, "sent"), "infos": infos})
