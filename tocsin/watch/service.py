"""Content watch: intake of items, assessment, the review queue and decisions.

Every way in (public report, platform ingest, feed entry) ends in :func:`record_item`, which
groups by normalised URL: one item, many reports, one count. Assessment (classifier score, hash
matches) happens once, when the item is first seen. Services never commit (``tocsin.core.db``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.core import audit
from tocsin.core.auth import Principal
from tocsin.core.db import utcnow
from tocsin.core.errors import Conflict, Invalid, NotFound
from tocsin.core.outbox import add_event
from tocsin.watch import events, hashes
from tocsin.watch.classifier import Model
from tocsin.watch.config import WatchSettings
from tocsin.watch.events import ItemStatus
from tocsin.watch.media import PDQ_MIN_QUALITY, CleanImage
from tocsin.watch.models import WatchDecision, WatchItem, WatchPlatform, WatchReport
from tocsin.watch.paths import SHIPPED_MODEL

CATEGORY_WEIGHT = {"terrorism_apology": 25.0, "call_to_violence": 25.0, "hate": 12.0}
OPEN_STATUSES = (ItemStatus.pending, ItemStatus.second_opinion, ItemStatus.escalated)


@functools.lru_cache(maxsize=4)
def _load_model(path: str, mtime: float) -> Model:
    return Model.load(Path(path))


def model_path(var_dir: Path) -> Path:
    """Return the trained model under ``var_dir`` if any, else the shipped one."""
    trained = var_dir / "watch" / "model.joblib"
    return trained if trained.exists() else SHIPPED_MODEL


def model_for(var_dir: Path) -> Model:
    """Return the trained model under ``var_dir`` if any, else the shipped one (cached)."""
    path = model_path(var_dir)
    return _load_model(str(path), path.stat().st_mtime)


def normalise_url(url: str) -> str:
    """Fold what does not change the content: scheme case, host case, fragment, trailing '/'."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), (parts.hostname or "").lower()
                       + (f":{parts.port}" if parts.port else ""), path, parts.query, ""))


def item_key(url: str) -> str:
    """Return the grouping key of the content at ``url``."""
    return hashlib.sha256(normalise_url(url).encode()).hexdigest()


def platform_names(session: Session) -> list[str]:
    """Return the known platforms' names."""
    return list(session.scalars(select(WatchPlatform.name).order_by(WatchPlatform.name)))


def require_platform(session: Session, *, name: str) -> WatchPlatform:
    """Return the platform called ``name`` or refuse with the list of known ones."""
    platform = session.scalar(select(WatchPlatform).where(WatchPlatform.name == name))
    if platform is None:
        known = ", ".join(platform_names(session)) or "none registered"
        raise Invalid(f"unknown platform {name!r} (known: {known})")
    return platform


@dataclass(frozen=True)
class Intake:
    """What one arrival of content says."""

    url: str
    platform: str
    source: str  # report, ingest, feed
    category: str  # what the reporter said ("other" from ingest and feeds)
    excerpt: str
    author_handle: str | None = None
    reach: int = 0
    image: CleanImage | None = None
    counts_as_report: bool = True


class ImageSignals(TypedDict, total=False):
    sha256: str
    md5: str
    pdq: str | None


def image_signals(image: CleanImage | None) -> ImageSignals:
    """Return the signals of an uploaded image to match (PDQ only when its quality allows)."""
    if image is None:
        return {}
    return {"sha256": image.sha256, "md5": image.md5,
            "pdq": image.pdq if image.pdq_quality >= PDQ_MIN_QUALITY else None}


def record_item(session: Session, *, intake: Intake, model: Model,
                now: dt.datetime | None = None,
                settings: WatchSettings | None = None) -> tuple[WatchItem, bool]:
    """Add or update the item ``intake`` is about; return it and whether it already existed."""
    now = now or utcnow()
    key = item_key(intake.url)
    item = session.scalar(select(WatchItem).where(WatchItem.item_key == key))
    grouped = item is not None
    if item is None:
        result = model.classify([intake.excerpt])[0]
        text_sha = hashes.text_hash(intake.excerpt)
        matches = hashes.match(
            session, text_sha256=text_sha, tlsh_hash=hashes.text_tlsh(intake.excerpt),
            **image_signals(intake.image), settings=settings)
        item = WatchItem(
            item_key=key, url=intake.url.strip(), platform=intake.platform, source=intake.source,
            reported_category=intake.category, excerpt=intake.excerpt, text_sha256=text_sha,
            author_handle=intake.author_handle, category=result["category"],
            score=result["score"],
            explanation={"features": result["features"], "spans": result["spans"],
                         "reasons": result.get("reasons", []),
                         "flagged": result["flagged"], "matches": matches, "stage": 1,
                         # Stage 2 reads what stage 1 flags, after the intake has answered.
                         "stage2": "pending" if result["flagged"] and model.stage2 is not None
                         else None},
            hash_matches=len(matches), report_count=0, reach=intake.reach,
            image=intake.image.data if intake.image else None,
            image_sha256=intake.image.sha256 if intake.image else None,
            image_pdq=intake.image.pdq if intake.image else None,
            image_pdq_quality=intake.image.pdq_quality if intake.image else None,
            status=ItemStatus.pending, first_seen_at=now, last_seen_at=now)
        session.add(item)
        session.flush()
        add_event(session, events.ITEM_CREATED, events.ItemCreated(
            id=item.id, platform=item.platform, category=item.category,
            score=item.score).model_dump())
    else:
        item.last_seen_at = now
        item.reach = max(item.reach, intake.reach)
        if item.image is None and intake.image is not None:
            item.image, item.image_sha256 = intake.image.data, intake.image.sha256
            item.image_pdq = intake.image.pdq
            item.image_pdq_quality = intake.image.pdq_quality
    if intake.counts_as_report:
        item.report_count += 1
        session.add(WatchReport(item_id=item.id, category=intake.category,
                                has_image=intake.image is not None, reported_at=now))
    session.flush()
    return item, grouped


def second_stage_pending(item: WatchItem) -> bool:
    """Whether the item waits for stage 2 (stage 1 flagged it and a stage-2 head exists)."""
    return (item.explanation or {}).get("stage2") == "pending"


def apply_second_stage(session: Session, *, item_id: int, second: dict[str, Any]) -> bool:
    """Replace stage 1's assessment of a pending item by stage 2's; False if not pending.

    Stage 1's answer stays in the explanation (``stage1``) and its reasons are kept: they are
    the words a moderator checks, whichever stage decided.
    """
    item = session.get(WatchItem, item_id)
    if item is None or not second_stage_pending(item):
        return False
    explanation = dict(item.explanation or {})
    explanation["stage1"] = {"category": item.category, "score": item.score,
                             "flagged": explanation.get("flagged")}
    explanation.update(flagged=bool(second["flagged"]), stage=2, stage2="done",
                       probabilities=second.get("probabilities"))
    item.category, item.score = second["category"], float(second["score"])
    item.explanation = explanation
    session.flush()
    return True


def priority(item: WatchItem, now: dt.datetime) -> float:
    """Rank an item: classifier score, category, hash matches, reports, reach, waiting time.

    Points, not probabilities: the score counts most (up to 50); a known hash is near-certain
    (+30); reports and reach grow logarithmically so a brigade of reports cannot bury an
    unreported apology; each hour waiting adds 1 (up to 12) so nothing starves.
    """
    points = 50.0 * item.score + CATEGORY_WEIGHT.get(item.category, 0.0)
    points += 30.0 if item.hash_matches else 0.0
    points += min(20.0, 6.0 * math.log2(1 + item.report_count))
    points += min(15.0, 3.0 * math.log10(1 + item.reach))
    hours = max(0.0, (now - item.first_seen_at).total_seconds() / 3600)
    return round(points + min(12.0, hours), 2)


def queue(session: Session, *, now: dt.datetime | None = None, limit: int = 50,
          status: str | None = None) -> list[tuple[WatchItem, float]]:
    """Return open items (or those of ``status``), highest priority first."""
    now = now or utcnow()
    query = select(WatchItem)
    query = query.where(WatchItem.status == status) if status else query.where(
        WatchItem.status.in_(OPEN_STATUSES))
    items = list(session.scalars(query.order_by(WatchItem.first_seen_at).limit(2000)))
    ranked = sorted(((i, priority(i, now)) for i in items), key=lambda ip: (-ip[1], ip[0].id))
    return ranked[:limit]


def get_item(session: Session, *, item_id: int) -> WatchItem:
    """Return the item or raise NotFound."""
    item = session.get(WatchItem, item_id)
    if item is None:
        raise NotFound(f"no item {item_id}")
    return item


def _disagrees(item: WatchItem, decision: str) -> bool:
    flagged = bool((item.explanation or {}).get("flagged")) or item.hash_matches > 0
    return (decision == "keep" and flagged) or (decision == "remove" and not flagged)


def decide(session: Session, *, item_id: int, who: Principal, decision: str, reason: str,
           now: dt.datetime | None = None) -> tuple[WatchItem, bool]:
    """Record a decision; return the item and whether a second opinion is now needed.

    A first decision that contradicts the assessment (keep what the classifier or a known hash
    flagged, remove what neither did) is not final: the item waits for a second moderator, and
    the second decision stands. Both are audited with their reasons.
    """
    now = now or utcnow()
    item = get_item(session, item_id=item_id)
    if item.status not in OPEN_STATUSES:
        raise Conflict(f"item {item_id} is already decided ({item.status})")
    earlier = list(session.scalars(select(WatchDecision).where(
        WatchDecision.item_id == item_id).order_by(WatchDecision.id)))
    if item.status == ItemStatus.second_opinion and any(
            d.moderator == who.username for d in earlier):
        raise Conflict("a second opinion must come from another moderator")
    disagrees = _disagrees(item, decision)
    session.add(WatchDecision(item_id=item_id, moderator=who.username, decision=decision,
                              reason=reason, disagrees=disagrees, decided_at=now))
    needs_second = disagrees and item.status != ItemStatus.second_opinion
    if needs_second:
        item.status = ItemStatus.second_opinion
    else:
        item.status = {"remove": ItemStatus.removed, "keep": ItemStatus.kept,
                       "escalate": ItemStatus.escalated}[decision]
        item.decided_at = now
    audit.record(session, actor=who, action=f"watch.{decision}", object_type="watch_item",
                 object_id=item_id, reason=reason)
    add_event(session, events.ITEM_DECIDED, events.ItemDecided(
        id=item_id, decision=decision, status=item.status).model_dump(mode="json"))
    session.flush()
    return item, needs_second


def decisions_of(session: Session, *, item_id: int) -> list[WatchDecision]:
    """Return the decisions taken on an item, oldest first."""
    return list(session.scalars(select(WatchDecision).where(
        WatchDecision.item_id == item_id).order_by(WatchDecision.id)))


def counts(session: Session) -> dict[str, Any]:
    """Return item counts by status (for the transparency report)."""
    rows = session.execute(select(WatchItem.status, func.count()).group_by(WatchItem.status))
    return {status: n for status, n in rows}
