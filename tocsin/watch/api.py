"""HTTP API of the content watch: intake, review queue, hash lists (orders in ``api_orders``).

Routes with heavy work are ``async``: image decoding and re-encoding (``media.IMAGE_LANE``) and
hash-list parsing (``hashes.HASH_LANE``) run in the process pool (``tocsin.core.offload``: 503
with Retry-After when a lane is full), database work in the thread pool. The classifier stays in
the request's thread: one text of at most 2,000 characters costs 2-6 ms, less than the round trip
to the pool would. Its stage 2 (sentence encoder, ``stage2.LANE``) runs in the pool after the
answer is sent, on what stage 1 flagged only.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.core import audit
from tocsin.core.auth import Principal, Role, allow, public
from tocsin.core.db import bulk_batch, utcnow
from tocsin.core.errors import Invalid
from tocsin.core.filetypes import sniff_magic
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import AppRuntime, DbSession, Runtime
from tocsin.watch import feeds, hashes, service
from tocsin.watch import media as media_mod
from tocsin.watch.api_orders import router as orders_router
from tocsin.watch.lifecycle import WatchState
from tocsin.watch.models import WatchItem
from tocsin.watch.schemas import (
    MAX_EXCERPT,
    DecisionIn,
    DecisionOut,
    FeedIn,
    FeedOut,
    HashImportOut,
    IngestIn,
    ItemAck,
    ItemOut,
    MatchIn,
    MatchOut,
    PollOut,
    QueueOut,
    ReportCategory,
    check_url,
)

router = APIRouter(prefix="/api/v1/watch", tags=["watch"])
router.include_router(orders_router)

Staff = Annotated[Principal, Depends(allow(Role.moderator, Role.analyst))]
Moderator = Annotated[Principal, Depends(allow(Role.moderator))]
PlatformAccount = Annotated[Principal, Depends(allow(Role.platform))]


def item_out(item: WatchItem, priority: float) -> ItemOut:
    """Build the API view of an item (the image itself is fetched separately, audited)."""
    fields = {name: getattr(item, name) for name in ItemOut.model_fields
              if name not in ("has_image", "priority")}
    return ItemOut(**fields, has_image=item.image is not None, priority=priority)


def _record(db: Session, runtime: Runtime, intake: service.Intake) -> tuple[ItemAck, bool]:
    """Record and commit an arrival; a concurrent first report of the same URL is grouped.

    Also says whether the item waits for the classifier's stage 2 (run after the answer)."""
    model = service.model_for(runtime.settings.var_dir)
    settings = runtime.state(WatchState).settings
    try:
        item, grouped = service.record_item(db, model=model, intake=intake, settings=settings)
        db.commit()
    except IntegrityError:
        # Another worker created the item between our read and our insert (unique item_key):
        # start again, now finding it.
        db.rollback()
        item, grouped = service.record_item(db, model=model, intake=intake, settings=settings)
        db.commit()
    ack = ItemAck(item_id=item.id, report_count=item.report_count, grouped=grouped)
    return ack, service.second_stage_pending(item)


async def _second_stage(runtime: Runtime, item_id: int, text: str) -> None:
    """Stage 2 after the intake answered: behind the SOS turns, in the process pool (the
    encoder loads once per pool process). A full lane or a failure keeps stage 1's result."""
    from tocsin.core.offload import Busy
    from tocsin.watch import classifier, stage2

    path = str(service.model_path(runtime.settings.var_dir))
    try:
        await runtime.background().turn()
        (second,) = await runtime.offload.run(stage2.LANE, classifier.assess, path, [text])
    except Busy:
        return
    await run_in_threadpool(_apply_second_stage, runtime, item_id, second)


def _apply_second_stage(runtime: Runtime, item_id: int, second: dict[str, object]) -> None:
    with runtime.sessions() as session:
        if service.apply_second_stage(session, item_id=item_id, second=second):
            session.commit()


async def _record_then_refine(db: Session, runtime: Runtime, intake: service.Intake,
                              tasks: BackgroundTasks) -> ItemAck:
    ack, pending = await run_in_threadpool(_record, db, runtime, intake)
    if pending:
        tasks.add_task(_second_stage, runtime, ack.item_id, intake.excerpt)
    return ack


async def _clean_image(runtime: Runtime, raw: bytes) -> media_mod.CleanImage:
    """Decode, check and re-encode an image in the process pool (size refused before)."""
    media_mod.check_size(raw)
    return await runtime.offload.run(media_mod.IMAGE_LANE, media_mod.clean_image, raw)


async def _decode_image(runtime: Runtime, data: str | None) -> media_mod.CleanImage | None:
    if not data:
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("image_base64 is not valid base64") from None
    return await _clean_image(runtime, raw)


@router.post("/reports", status_code=201, response_model=ItemAck,
             dependencies=[Depends(public()), Depends(RateLimit("watch.report", 10))])
async def post_report(
    db: DbSession,
    runtime: AppRuntime,
    url: Annotated[str, Form(max_length=2000)],
    platform: Annotated[str, Form(min_length=1, max_length=40)],
    category: Annotated[ReportCategory, Form()],
    excerpt: Annotated[str, Form(min_length=1, max_length=MAX_EXCERPT)],
    tasks: BackgroundTasks,
    screenshot: Annotated[UploadFile | None, File()] = None,
) -> ItemAck:
    """Report content (no account): identical reports of one URL are grouped and counted."""
    try:
        url = check_url(url)
    except ValueError as exc:
        raise Invalid(f"url: {exc}") from None
    await run_in_threadpool(service.require_platform, db, name=platform)
    image = None
    if screenshot is not None and screenshot.filename:
        raw = await screenshot.read(media_mod.MAX_IMAGE_BYTES + 1)
        image = await _clean_image(runtime, raw)
    return await _record_then_refine(db, runtime, service.Intake(
        url=url, platform=platform, source="report", category=category.value,
        excerpt=excerpt.strip(), image=image), tasks)


@router.post("/ingest", status_code=201, response_model=ItemAck)
async def ingest(body: IngestIn, who: PlatformAccount, db: DbSession,
                 runtime: AppRuntime, tasks: BackgroundTasks) -> ItemAck:
    """Push an item from a platform account (text, optional image, URL, author handle)."""
    from tocsin.watch.orders import platform_of

    platform = await run_in_threadpool(platform_of, db, who)
    image = await _decode_image(runtime, body.image_base64)
    return await _record_then_refine(db, runtime, service.Intake(
        url=body.url, platform=platform.name, source="ingest", category="other",
        excerpt=body.text, reach=body.reach, author_handle=body.author_handle, image=image,
        counts_as_report=False), tasks)


@router.get("/queue", response_model=QueueOut)
def get_queue(
    who: Staff, db: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: Annotated[str | None, Query(pattern=r"^(pending|second_opinion|escalated|removed|"
                                              r"kept)$")] = None,
) -> QueueOut:
    """Return items to review, highest priority first."""
    return QueueOut(items=[item_out(i, p) for i, p in service.queue(db, limit=limit,
                                                                    status=status)])


@router.get("/items/{item_id}", response_model=ItemOut)
def get_item(item_id: int, who: Staff, db: DbSession) -> ItemOut:
    """Return one item with its assessment and explanation."""
    item = service.get_item(db, item_id=item_id)
    return item_out(item, service.priority(item, utcnow()))


@router.get("/items/{item_id}/image", response_class=Response)
def get_image(
    item_id: int, who: Staff, db: DbSession,
    reason: Annotated[str, Query(min_length=3, max_length=300)] = "review",
) -> Response:
    """Return the item's image; each view is audited (images may show victims)."""
    item = service.get_item(db, item_id=item_id)
    if item.image is None:
        raise Invalid(f"item {item_id} has no image")
    audit.record_read(db, actor=who, object_type="watch_item_image", object_id=item_id,
                      reason=reason)
    db.commit()
    # Stored images are re-encoded PNG or JPEG (watch.media); the bytes say which.
    media_type = sniff_magic(item.image) or "image/jpeg"
    return Response(item.image, media_type=media_type,
                    headers={"Cache-Control": "no-store"})


@router.post("/items/{item_id}/decisions", response_model=DecisionOut)
def post_decision(item_id: int, body: DecisionIn, who: Moderator, db: DbSession) -> DecisionOut:
    """Decide on an item; a decision against the assessment waits for a second moderator."""
    item, second = service.decide(db, item_id=item_id, who=who, decision=body.decision.value,
                                  reason=body.reason)
    db.commit()
    return DecisionOut(item_id=item.id, status=item.status, second_opinion_needed=second)


async def _text_body(request: Request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("hash list must be UTF-8 text") from None


def _store_hashes(db: Session, who: Principal, rows: list[hashes.Row]) -> int:
    """Store checked rows ``hashes.BATCH`` per transaction (the write lock goes back between)."""
    added = 0
    for start in range(0, len(rows), hashes.BATCH):
        part = rows[start:start + hashes.BATCH]
        try:
            with bulk_batch(db):  # commits; the SOS writer's turn comes between batches
                added += hashes.import_batch(db, part)
        except IntegrityError:
            # A concurrent import added some of these rows first: once more, now skipping them.
            with bulk_batch(db):
                added += hashes.import_batch(db, part)
    audit.record(db, actor=who, action="watch.hashes_import", object_type="watch_hash",
                 object_id=str(added))
    db.commit()
    return added


@router.post("/hashes/import", response_model=HashImportOut)
async def import_hashes(who: Moderator, db: DbSession, runtime: AppRuntime,
                        body: Annotated[str, Depends(_text_body)]) -> HashImportOut:
    """Import a hash list: our CSV (``signal_type,signal,category,source``), ThreatExchange's
    CSV or one-per-line layout, or HMA's JSON (``tocsin.watch.exchange``).

    Checked all or nothing in the process pool (at most ``hashes.MAX_ROWS`` rows, counted
    first), then stored in batches; importing the same list again adds nothing."""
    hashes.check_size(body)
    rows = await runtime.offload.run(hashes.HASH_LANE, hashes.check_list, body,
                                     f"import:{who.username}")
    added = await run_in_threadpool(_store_hashes, db, who, rows)
    return HashImportOut(added=added, total_rows=len(rows))


@router.get("/hashes/export", response_class=PlainTextResponse)
def export_hashes(
    who: Staff, db: DbSession,
    format: Annotated[Literal["tocsin", "te-csv", "te-txt", "hma-json"],
                      Query(description="tocsin (our CSV), te-csv / te-txt (ThreatExchange's "
                                        "CSV and one-per-line layouts), hma-json (HMA bank "
                                        "signal bodies)")] = "tocsin",
) -> PlainTextResponse:
    """Export every known hash as a hash list in the layout asked for."""
    media_type = {"hma-json": "application/json", "te-txt": "text/plain"}.get(format, "text/csv")
    return PlainTextResponse(hashes.export_list(db, format), media_type=media_type)


@router.post("/hashes/match", response_model=MatchOut)
async def match_hashes(body: MatchIn, who: Staff, db: DbSession,
                       runtime: AppRuntime) -> MatchOut:
    """Match a text and/or an image against the known hashes."""
    if not body.text and not body.image_base64:
        raise Invalid("give text or image_base64")
    image = await _decode_image(runtime, body.image_base64)
    settings = runtime.state(WatchState).settings
    found = await run_in_threadpool(
        lambda: hashes.match(db, text_sha256=hashes.text_hash(body.text) if body.text else None,
                             tlsh_hash=hashes.text_tlsh(body.text) if body.text else None,
                             **service.image_signals(image), distance=body.distance,
                             settings=settings))
    return MatchOut(matches=found)


@router.post("/feeds", status_code=201, response_model=FeedOut)
def add_feed(body: FeedIn, who: Moderator, db: DbSession, runtime: AppRuntime) -> FeedOut:
    """Register an Atom/RSS feed to watch for keywords."""
    feed = feeds.add_feed(db, url=body.url, platform=body.platform, keywords=body.keywords,
                          settings=runtime.state(WatchState).settings)
    db.commit()
    return FeedOut.model_validate(feed, from_attributes=True)


@router.get("/feeds", response_model=list[FeedOut])
def list_feeds(who: Staff, db: DbSession) -> list[FeedOut]:
    """List the watched feeds."""
    return [FeedOut.model_validate(f, from_attributes=True) for f in feeds.all_feeds(db)]


@router.post("/feeds/{feed_id}/poll", response_model=PollOut)
def poll_feed(feed_id: int, who: Moderator, db: DbSession, runtime: AppRuntime) -> PollOut:
    """Poll a feed now; matching entries become items."""
    result = feeds.poll(db, feed_id=feed_id, model=service.model_for(runtime.settings.var_dir),
                        settings=runtime.state(WatchState).settings)
    db.commit()
    return PollOut(entries=result.entries, matched=result.matched, new_items=result.new_items)
