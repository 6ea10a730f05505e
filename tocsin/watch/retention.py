"""Retention of watched content (run by ``tocsin purge``).

- Removed content is preserved **six months** after its removal (TCO Regulation 2021/784,
  Art. 6(2): for administrative or judicial review and complaints), then purged.
- Content judged lawful (kept) is purged **30 days** after the decision: nothing justifies
  holding it, nor its author's handle, longer.
- Content never decided is purged **90 days** after it was first seen.

Purging blanks what the row says (text, image, author handle, explanation, URL path) and keeps
the bare row (category, status, dates) so orders and the transparency report's counts survive.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tocsin.watch.events import ItemStatus
from tocsin.watch.models import WatchItem

REMOVED_PRESERVATION = dt.timedelta(days=183)
KEPT_RETENTION = dt.timedelta(days=30)
UNDECIDED_RETENTION = dt.timedelta(days=90)
PURGED = "(purged)"
BATCH = 500  # items per call: ``tocsin purge`` commits between calls


def purge(session: Session, *, now: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Blank the content of one batch of items past retention; return how many were purged."""
    limit = batch or BATCH  # read here: a test may lower the module's BATCH
    due = select(WatchItem).where(
        WatchItem.excerpt != PURGED,
        or_(
            and_(WatchItem.status == ItemStatus.removed,
                 WatchItem.decided_at < now - REMOVED_PRESERVATION),
            and_(WatchItem.status == ItemStatus.kept, WatchItem.decided_at < now - KEPT_RETENTION),
            and_(WatchItem.decided_at.is_(None),
                 WatchItem.first_seen_at < now - UNDECIDED_RETENTION),
        ),
    ).limit(limit)
    count = 0
    for item in session.scalars(due):
        item.excerpt = PURGED
        item.url = PURGED
        item.author_handle = None
        item.image = None
        item.image_pdq = item.image_pdq_quality = None
        item.explanation = {"purged_at": now.isoformat(timespec="seconds")}
        count += 1
    session.flush()
    return {"watch_item": count}
