"""Retention: removed content kept six months (TCO Art. 6), lawful content 30 days."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tests.watch.conftest import moderator
from tocsin.watch import retention, service
from tocsin.watch.classifier import Model
from tocsin.watch.models import WatchPlatform
from tocsin.watch.service import Intake

T0 = dt.datetime(2026, 11, 13, 21, 0, tzinfo=dt.UTC)


def _item(db: Session, model: Model, url: str, text: str) -> int:
    item, _ = service.record_item(db, model=model, now=T0, intake=Intake(
        url=url, platform="x", source="report", category="other", excerpt=text,
        author_handle="@someone"))
    return item.id


def test_removed_content_is_preserved_six_months_then_blanked(
        db: Session, model: Model, platform: WatchPlatform) -> None:
    removed = _item(db, model, "https://x.example/1", "Gloire aux martyrs du Bataclan, héros")
    kept = _item(db, model, "https://x.example/2", "Je suis en sécurité")
    service.decide(db, item_id=removed, who=moderator(), decision="remove", reason="apology",
                   now=T0)
    service.decide(db, item_id=kept, who=moderator(), decision="keep", reason="fine", now=T0)
    assert retention.purge(db, now=T0 + dt.timedelta(days=29)) == {"watch_item": 0}
    assert retention.purge(db, now=T0 + dt.timedelta(days=31)) == {"watch_item": 1}
    assert service.get_item(db, item_id=kept).excerpt == retention.PURGED
    assert service.get_item(db, item_id=removed).excerpt != retention.PURGED
    assert retention.purge(db, now=T0 + dt.timedelta(days=182)) == {"watch_item": 0}
    assert retention.purge(db, now=T0 + dt.timedelta(days=184)) == {"watch_item": 1}
    gone = service.get_item(db, item_id=removed)
    assert gone.author_handle is None and gone.image is None and gone.status == "removed"
