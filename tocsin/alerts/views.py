"""Turn stored alerts into API answers and into the Atom feed of active alerts.

The Atom feed (RFC 4287) lists the active alerts, one entry per message, each linking its CAP
1.2 document with ``rel="alternate" type="application/cap+xml"`` — the way the US IPAWS and
Google's public alerts feeds index CAP. A cancelled, superseded or expired alert leaves it.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts import cap, geo
from tocsin.alerts.models import Alert, AlertDelivery
from tocsin.alerts.schemas import AlertOut, AreaOut, CircleOut, DeliveryCounts, InfoOut

ATOM_NS = "http://www.w3.org/2005/Atom"


def cap_path(alert_id: str) -> str:
    """Return the path of an alert's CAP document."""
    return f"/api/v1/alerts/{alert_id}.cap"


def _areas(message: cap.CapAlert) -> list[AreaOut]:
    if not message.infos:
        return []
    out = []
    for area in message.infos[0].areas:
        polygons = [geo.parse_polygon(p) for p in area.polygons]
        circles = []
        for text in area.circles:
            c = geo.parse_circle(text)
            circles.append(CircleOut(lat=c.lat, lon=c.lon, radius_km=c.radius_km))
        out.append(AreaOut(desc=area.desc, polygons=polygons, circles=circles))
    return out


def to_out(row: Alert) -> AlertOut:
    """Describe ``row`` for the API."""
    message = cap.from_json(row.content)
    return AlertOut(
        id=row.id, identifier=row.identifier, sender=row.sender, status=row.status,
        msg_type=row.msg_type, state=row.state, origin=row.origin, author=row.author,
        approver=row.approver, references=message.references, parent_id=row.parent_id,
        created_at=row.created_at, published_at=row.published_at, expires_at=row.expires_at,
        note=message.note,
        infos=[
            InfoOut(
                language=i.language, event=i.event, headline=i.headline,
                description=i.description, instruction=i.instruction, web=i.web,
                categories=i.categories, urgency=i.urgency, severity=i.severity,
                certainty=i.certainty, onset=i.onset, expires=i.expires,
            )
            for i in message.infos
        ],
        areas=_areas(message),
        cap_url=cap_path(row.id) if row.cap_xml else None,
    )


def delivery_counts(session: Session, alert_id: str) -> DeliveryCounts:
    """Count deliveries of one alert: pending (incl. retrying), sent, failed (dead letters)."""
    rows = session.execute(
        select(AlertDelivery.status, func.count())
        .where(AlertDelivery.alert_id == alert_id)
        .group_by(AlertDelivery.status)
    ).all()
    counts = {status: int(n) for status, n in rows}
    return DeliveryCounts(
        pending=counts.get("pending", 0), sent=counts.get("sent", 0), failed=counts.get("dead", 0)
    )


def _sub(parent: etree._Element, name: str, text: str | None = None,
         **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, "{%s}%s" % (ATOM_NS, name), attrs)  # noqa: UP031
    if text is not None:
        el.text = text
    return el


def atom_feed(rows: list[Alert], *, base_url: str, now: dt.datetime) -> bytes:
    """Build the Atom feed of ``rows`` (the active alerts)."""
    base = base_url.rstrip("/")
    feed = etree.Element("{%s}feed" % ATOM_NS, nsmap={None: ATOM_NS})  # noqa: UP031
    _sub(feed, "id", f"{base}/alerts.atom")
    _sub(feed, "title", "Tocsin — alertes officielles / official alerts")
    updated = max([r.published_at for r in rows if r.published_at] or [now])
    _sub(feed, "updated", updated.isoformat())
    _sub(feed, "link", href=f"{base}/alerts.atom", rel="self", type="application/atom+xml")
    _sub(feed, "link", href=f"{base}/alerts", rel="alternate", type="text/html")
    author = _sub(feed, "author")
    _sub(author, "name", rows[0].sender if rows else "Tocsin")
    for row in rows:
        message = cap.from_json(row.content)
        info = message.infos[0] if message.infos else None
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:tocsin:alert:{row.id}")
        _sub(entry, "title", (info.headline or info.event) if info else row.identifier)
        _sub(entry, "updated", (row.published_at or now).isoformat())
        _sub(entry, "published", cap.format_time(message.sent))
        _sub(entry, "link", href=f"{base}{cap_path(row.id)}", rel="alternate",
             type="application/cap+xml")
        _sub(entry, "link", href=f"{base}/alerts#alert-{row.id}", rel="related", type="text/html")
        if info is not None:
            _sub(entry, "summary", (info.description or "")[:1000])
            for category in info.categories:
                _sub(entry, "category", term=category)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))
