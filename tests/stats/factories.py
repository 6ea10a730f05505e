"""Raw domain rows for the observatory's tests, written straight to the tables (fast, exact).

``seed`` writes a small evening with known numbers in every domain; the tests count the same
rows again with their own SQL and compare with what stats reports.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertDelivery, AlertSubscription
from tocsin.persons.models import Note, Person
from tocsin.safety.models import SafetyCheck, SafetyMark
from tocsin.sos.models import Sos
from tocsin.watch.models import WatchItem, WatchOrder, WatchPlatform, WatchReport

T0 = dt.datetime(2026, 11, 13, 20, 0, tzinfo=dt.UTC)
BATACLAN = (48.8631, 2.3708)
STADE = (48.9245, 2.3602)


def add_sos(db: Session, at: dt.datetime, *, situation: str = "attack",
            where: tuple[float, float] = BATACLAN) -> Sos:
    sos = Sos(id=uuid.uuid4().hex, client_hash=uuid.uuid4().hex, token_hash="t", lat=where[0],
              lon=where[1], accuracy_m=10.0, situation=situation, people=None, text=None,
              status="open", received_at=at)
    db.add(sos)
    return sos


def add_platform(db: Session, name: str) -> WatchPlatform:
    platform = WatchPlatform(name=name, display_name=name.title(), account=f"{name}-account",
                             created_at=T0 - dt.timedelta(days=2))
    db.add(platform)
    db.flush()
    return platform


def add_item(db: Session, at: dt.datetime, *, platform: str, source: str = "report",
             category: str = "terrorism_apology", reports: int = 1, flagged: bool = True,
             status: str = "pending", decided_at: dt.datetime | None = None) -> WatchItem:
    item = WatchItem(item_key=uuid.uuid4().hex + uuid.uuid4().hex, url=f"https://x/{uuid.uuid4()}",
                     platform=platform, source=source, reported_category=category,
                     excerpt="…", text_sha256="0" * 64, category=category, score=0.9,
                     explanation={"flagged": flagged}, hash_matches=0, report_count=reports,
                     reach=0, status=status, first_seen_at=at, last_seen_at=at,
                     decided_at=decided_at)
    db.add(item)
    db.flush()
    for i in range(reports):
        db.add(WatchReport(item_id=item.id, category=category, has_image=False,
                           reported_at=at + dt.timedelta(seconds=i)))
    return item


def add_order(db: Session, item: WatchItem, platform: WatchPlatform, issued: dt.datetime, *,
              removed_after: dt.timedelta | None = None, contested: bool = False,
              emergency: bool = False, received: bool = True) -> WatchOrder:
    received_at = issued + dt.timedelta(minutes=1) if received else None
    order = WatchOrder(platform_id=platform.id, item_id=item.id, legal_basis="TCO art. 3",
                       reason="apologie", emergency=emergency, issued_by="mod", issued_at=issued,
                       received_at=received_at,
                       deadline_at=received_at + dt.timedelta(hours=1) if received_at else None,
                       status="received" if received else "issued")
    if removed_after is not None and received_at is not None:
        order.status, order.removed_at = "removed", received_at + removed_after
    if contested and received_at is not None:
        order.status, order.contested_at = "contested", received_at + dt.timedelta(minutes=5)
    db.add(order)
    return order


def seed(db: Session, *, seed_value: int = 7) -> None:
    """Write a known evening: SOS, marks, persons, alerts and deliveries, reports and orders."""
    rnd = random.Random(seed_value)
    situations = ["attack", "hidden", "injured", "armed_person"]
    for i in range(40):
        add_sos(db, T0 + dt.timedelta(minutes=rnd.randrange(0, 180), seconds=i),
                situation=situations[i % 4], where=BATACLAN if i % 3 else STADE)
    check = SafetyCheck(name="Paris", area={"type": "circle"}, starts_at=T0,
                        ends_at=T0 + dt.timedelta(days=1), created_at=T0, created_by="prefet")
    db.add(check)
    db.flush()
    for i in range(23):
        db.add(SafetyMark(check_id=check.id, code=f"C{i:05d}", status="safe" if i % 4 else
                          "need_help", cell="881fb4662bfffff", marked_at=T0 + dt.timedelta(
                              minutes=5 * i), expires_at=T0 + dt.timedelta(days=30)))
    for i in range(12):
        person = Person(person_record_id=f"tocsin.example/p.{i}", entry_date=T0 +
                        dt.timedelta(minutes=10 * i), purge_at=T0 + dt.timedelta(days=90),
                        source_date=T0, full_name=f"Personne {i}", search_tokens="")
        db.add(person)
        db.flush()
        if i < 7:
            db.add(Note(note_record_id=f"tocsin.example/n.{i}", person_id=person.id,
                        person_record_id=person.person_record_id,
                        entry_date=T0 + dt.timedelta(minutes=10 * i + 30), source_date=T0,
                        status="believed_alive" if i % 2 else "is_note_author", text="ok"))
    alert = Alert(id="a1", identifier="a1", sender="pp@interieur.gouv.fr", status="Actual",
                  msg_type="Alert", state="published", origin="composed", content={},
                  author="x", created_at=T0, published_at=T0 + dt.timedelta(minutes=20))
    db.add(alert)
    db.flush()
    for i in range(30):
        sub = AlertSubscription(id=f"s{i}", kind="push", endpoint=f"https://push/{i}",
                                keys={}, token_hash="t", created_at=T0,
                                expires_at=T0 + dt.timedelta(days=30))
        db.add(sub)
        db.flush()
        sent = i < 24
        db.add(AlertDelivery(alert_id="a1", subscription_id=sub.id, kind="push",
                             status="sent" if sent else "dead", attempts=1,
                             next_attempt_at=T0 + dt.timedelta(minutes=21),
                             created_at=T0 + dt.timedelta(minutes=20),
                             sent_at=T0 + dt.timedelta(minutes=20, seconds=3 + i) if sent
                             else None))
    big, small = add_platform(db, "bigsocial"), add_platform(db, "tinyvideo")
    for i in range(14):
        platform = big if i < 11 else small
        item = add_item(db, T0 + dt.timedelta(minutes=7 * i), platform=platform.name,
                        category="terrorism_apology" if i % 2 else "hate", reports=1 + i % 3,
                        flagged=i % 5 != 0, status="removed" if i % 4 else "kept",
                        decided_at=T0 + dt.timedelta(minutes=7 * i + 20))
        issued = T0 + dt.timedelta(minutes=7 * i + 21)
        if item.status == "removed":
            late = i in (5, 9)
            add_order(db, item, platform, issued, emergency=i == 1,
                      removed_after=dt.timedelta(minutes=75 if late else 20))
        elif i == 4:
            add_order(db, item, platform, issued, contested=True)
        elif i == 8:
            add_order(db, item, platform, issued)  # received, never removed: overdue
    db.flush()
