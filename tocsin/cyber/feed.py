"""Atom feed (RFC 4287) of the public (TLP:CLEAR) advisories, latest version of each."""

from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from tocsin.cyber.models import CyberAdvisory, CyberAdvisoryVersion

ATOM_NS = "http://www.w3.org/2005/Atom"


# What XML 1.0 cannot carry (§2.2): C0 controls but tab and line breaks, surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (lxml refuses them: a 500).

    Input refuses control characters (``schemas``), but a row stored before that, or written
    by another path, must never break the feed for everyone (issue 19).
    """
    return _NOT_XML.sub("", text)


def _sub(parent: etree._Element, name: str, text: str | None = None,
         **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}",
                          {key: xml_text(value) for key, value in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def atom(rows: list[tuple[CyberAdvisory, CyberAdvisoryVersion]], *, base_url: str,
         now: dt.datetime) -> bytes:
    """Build the feed; an entry's ``updated`` moves with each published revision."""
    base = base_url.rstrip("/")
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _sub(feed, "id", f"{base}/cyber/advisories.atom")
    _sub(feed, "title", "Tocsin - avis de sécurité / security advisories")
    updated = max([v.published_at for _, v in rows if v.published_at] or [now])
    _sub(feed, "updated", _time(updated))
    _sub(feed, "link", href=f"{base}/cyber/advisories.atom", rel="self",
         type="application/atom+xml")
    _sub(feed, "link", href=f"{base}/cyber/advisories", rel="alternate", type="text/html")
    author = _sub(feed, "author")
    _sub(author, "name", "Tocsin - cellule cyber")
    for advisory, version in rows:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:uuid:{advisory.id[:8]}-{advisory.id[8:12]}-{advisory.id[12:16]}-"
                          f"{advisory.id[16:20]}-{advisory.id[20:]}")
        _sub(entry, "title", version.title)
        _sub(entry, "updated", _time(version.published_at or now))
        _sub(entry, "published", _time(advisory.first_published_at or now))
        _sub(entry, "link", href=f"{base}/cyber/advisories#advisory-{advisory.id}",
             rel="alternate", type="text/html")
        _sub(entry, "summary", version.summary[:1000])
        content = _sub(entry, "content",
                       f"{version.summary}\n\n{version.exposed}\n\n{version.actions}",
                       type="text")
        content.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
        _sub(entry, "category", term=f"severity-{version.severity}")
        for sector in version.sectors:
            _sub(entry, "category", term=sector)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))
