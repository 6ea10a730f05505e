"""What the content watch publishes is what its ``events.py`` declares: every outbox row of a
watch subject validates with the model of its subject, and carries no content text."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.watch.conftest import moderator
from tests.watch.test_instruments import APOLOGY, HATE, PLATFORM, T0, _issue, _item
from tocsin.core.outbox import OutboxEvent
from tocsin.watch import events, orders, service
from tocsin.watch.classifier import Model
from tocsin.watch.instruments import Instrument
from tocsin.watch.models import WatchPlatform

MODELS: dict[str, type[BaseModel]] = {
    events.ITEM_CREATED: events.ItemCreated,
    events.ITEM_DECIDED: events.ItemDecided,
    events.ORDER_ISSUED: events.OrderIssued,
    events.ORDER_REMOVED: events.OrderRemoved,
    events.ORDER_CONTESTED: events.OrderContested,
}


def test_each_published_event_validates_with_its_model(db: Session, model: Model,
                                                       platform: WatchPlatform) -> None:
    apology = _item(db, model, "https://x.example/a", APOLOGY)
    hate = _item(db, model, "https://x.example/h", HATE)
    service.decide(db, item_id=hate, who=moderator("mod1"), decision="remove", reason="r",
                   now=T0)
    order = _issue(db, apology)
    notice = _issue(db, hate, instrument=Instrument.notice)
    orders.receive(db, who=PLATFORM, now=T0)
    orders.confirm(db, order_id=order.id, who=PLATFORM, now=T0 + dt.timedelta(minutes=20))
    orders.contest(db, order_id=notice.id, who=PLATFORM, reason="satire",
                   now=T0 + dt.timedelta(hours=1))
    rows = db.scalars(select(OutboxEvent).where(OutboxEvent.subject.like("watch.%"))).all()
    assert sorted({row.subject for row in rows}) == sorted(MODELS)
    for row in rows:
        data = row.payload["data"]  # the outbox row holds the whole event; its data is the contract
        parsed = MODELS[row.subject].model_validate(data)
        assert parsed.model_dump() == data  # nothing beyond the contract
        assert APOLOGY not in str(data) and HATE not in str(data)
    removed = next(r for r in rows if r.subject == events.ORDER_REMOVED)
    assert events.OrderRemoved.model_validate(removed.payload["data"]) == events.OrderRemoved(
        id=order.id, late=False)
