"""HTTP routes of the missing-persons registry (PFIF 1.4). Thin: each calls the service, commits.

Public: post a record or a note, search, read a record's public fields. Staff: contact details
(audited, with a reason), PFIF import and export, duplicate review.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import IO, Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from tocsin.core.auth import Principal, Role, allow, public
from tocsin.core.errors import Invalid
from tocsin.core.ratelimit import RateLimit
from tocsin.core.runtime import AppRuntime, DbSession
from tocsin.persons import bulk, feeds, interchange, pfif, photos, record, service
from tocsin.persons.schemas import (
    ContactOut,
    CreatedOut,
    DuplicateOut,
    ImportError_,
    ImportOut,
    NoteIn,
    NoteOut,
    PersonIn,
    PersonOut,
    RecordView,
    SearchOut,
    SearchResult,
    UnlinkIn,
)

router = APIRouter(prefix="/api/v1/persons", tags=["persons"])

Citizen = Annotated[Principal, Depends(public())]
Reviewer = Annotated[Principal, Depends(allow(Role.moderator, Role.authority, Role.admin))]
Exchanger = Annotated[Principal, Depends(allow(Role.authority, Role.admin))]
# Feeds: bulk reads of personal data for another repository's sync (Person Finder: an API key
# with read permission), never the public.
FeedReader = Annotated[Principal, Depends(allow(Role.authority, Role.admin, Role.partner))]
ContactReader = Annotated[
    Principal, Depends(allow(Role.dispatcher, Role.authority, Role.admin))
]
PFIF_MEDIA = "application/xml"
EXPORT_SPOOL_BYTES = 16 * 1024 * 1024


def home_domain(runtime: AppRuntime) -> str:
    """Return this repository's PFIF domain: the host (and port) of ``TOCSIN_BASE_URL``."""
    return urlsplit(runtime.settings.base_url).netloc.lower() or "tocsin.local"


Domain = Annotated[str, Depends(home_domain)]


async def xml_body(request: Request) -> bytes:
    """Read the raw request body (the middleware already capped its size)."""
    return await request.body()


@router.post("", status_code=201, response_model=CreatedOut,
             dependencies=[Depends(RateLimit("persons.post", 20))])
def post_person(body: PersonIn, who: Citizen, db: DbSession, domain: Domain) -> CreatedOut:
    """Record a person you are looking for ("Je cherche quelqu'un")."""
    person = service.create_person(db, data=body, domain=domain, actor=who)
    db.commit()
    return CreatedOut(person_record_id=person.person_record_id, expiry_date=person.expiry_date)


@router.post("/notes", status_code=201, response_model=CreatedOut,
             dependencies=[Depends(RateLimit("persons.post", 20))])
def post_note(body: NoteIn, who: Citizen, db: DbSession, domain: Domain) -> CreatedOut:
    """Add what you know about a person ("J'ai des informations"), with a PFIF status."""
    note = service.add_note(db, data=body, domain=domain, actor=who)
    db.commit()
    return CreatedOut(person_record_id=body.person_record_id, note_record_id=note.note_record_id)


@router.post("/photos", status_code=201,
             dependencies=[Depends(public()), Depends(RateLimit("persons.photo", 10))])
async def upload_photo(
    runtime: AppRuntime, photo: Annotated[UploadFile, File()]
) -> dict[str, str]:
    """Upload a photo: re-encoded, metadata (EXIF, GPS) stripped; answers its ``photo_url``.

    The header's declared size is checked here (cheap, nothing decoded); the decode runs in the
    process pool, the write in a thread in its own short transaction.
    """
    data = await photo.read(photos.MAX_PHOTO_BYTES + 1)
    photos.check_header(data)
    clean, width, height = await runtime.offload.run(photos.LANE, photos.reencode, data)
    photo_id = await run_in_threadpool(photos.save, runtime.sessions, clean, width, height)
    base = runtime.settings.base_url.rstrip("/")
    return {"photo_url": f"{base}{photos.PATH}{photo_id}"}


@router.get("/photos/{photo_id}", response_class=Response,
            dependencies=[Depends(public()), Depends(RateLimit("persons.search", 120, devices=10))])
def get_photo(photo_id: str, db: DbSession) -> Response:
    """Return a stored photo (JPEG, without metadata)."""
    stored = photos.get(db, photo_id)
    return Response(stored.data, media_type="image/jpeg",
                    headers={"Cache-Control": "public, max-age=3600"})


@router.get("/search", response_model=SearchOut,
            dependencies=[Depends(public()), Depends(RateLimit("persons.search", 120, devices=10))])
def search(
    db: DbSession,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Find people by name, forgiving accents, case, order, typos and French spellings."""
    found = service.search_persons(db, text=q, limit=limit)
    return SearchOut(results=[
        SearchResult(
            person_record_id=f.person.person_record_id, full_name=f.person.full_name,
            score=f.score, home_city=f.person.home_city, age=f.person.age, sex=f.person.sex,
            latest_status=f.latest_status, source_date=f.person.source_date,
        )
        for f in found
    ])


@router.get("/records/{record_id:path}", response_model=PersonOut,
            dependencies=[Depends(public()), Depends(RateLimit("persons.search", 120, devices=10))])
def get_record(record_id: str, db: DbSession) -> PersonOut:
    """Return a record's public fields and notes (never contact details)."""
    person = service.get_person(db, record_id=record_id)
    notes = [NoteOut.model_validate(n, from_attributes=True)
             for n in service.notes_of(db, person=person)]
    data = {name: getattr(person, name) for name in PersonOut.model_fields if name != "notes"}
    return PersonOut(**data, notes=notes)


@router.get("/view/{record_id:path}", response_model=RecordView,
            dependencies=[Depends(public()), Depends(RateLimit("persons.search", 120, devices=10))])
def view_record(record_id: str, db: DbSession) -> RecordView:
    """A record as its page shows it: with the records linked to it, their notes in order,
    the status history, the last known location (public fields only, like the search)."""
    return RecordView.model_validate(record.view(db, record_id))


@router.get("/contacts/{record_id:path}", response_model=ContactOut)
def get_contacts(
    record_id: str,
    who: ContactReader,
    db: DbSession,
    reason: Annotated[str, Query(min_length=5, max_length=300)],
) -> ContactOut:
    """Open a record's sealed contact details; the read and its reason are audited."""
    data = service.read_contacts(db, record_id=record_id, actor=who, reason=reason)
    db.commit()
    return ContactOut(**data)


@router.post("/import", response_model=ImportOut)
async def import_pfif(
    who: Exchanger,
    runtime: AppRuntime,
    domain: Domain,
    body: Annotated[bytes, Depends(xml_body)],
    source_domain: Annotated[
        str | None, Query(alias="domain", max_length=255, pattern=r"^[A-Za-z0-9.:-]+$")
    ] = None,
) -> ImportOut:
    """Import PFIF 1.2/1.3/1.4 XML: good records kept, each bad one reported with reasons.

    At most ``interchange.API_MAX_RECORDS`` records and ``API_MAX_BYTES`` bytes (413 naming the
    limit). Read in the process pool, written in batches of ``interchange.BATCH`` records, each
    its own transaction: a failed batch (503) leaves the earlier ones, re-sending is safe.
    """
    interchange.check_size(body, interchange.API_MAX_BYTES)
    parsed = await runtime.offload.run(
        interchange.LANE, interchange.parse_document, body, interchange.API_MAX_BYTES,
        interchange.API_MAX_RECORDS,
    )
    report = await run_in_threadpool(
        interchange.import_parsed, runtime.sessions, parsed, home_domain=domain,
        source_domain=source_domain, actor=who,
    )
    rejected = [ImportError_(index=e.index, record_type=e.record_type, record_id=e.record_id,
                             reasons=e.reasons) for e in report.rejected]
    if report.stored == 0 and report.unchanged == 0 and rejected:
        # Nothing was written (every batch refused all its records).
        raise Invalid("no record could be imported", details=[r.model_dump() for r in rejected])
    return ImportOut(
        version=report.version, persons_created=report.persons_created,
        persons_updated=report.persons_updated, notes_created=report.notes_created,
        unchanged=report.unchanged, rejected=rejected,
    )


def _spool_export(sessions: Any, actor: Principal) -> IO[bytes]:
    # Streamed into a spooled file (memory up to EXPORT_SPOOL_BYTES, then disk): the whole
    # registry is never held in memory, whatever its size (a million records is ~400 MB).
    out = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)  # noqa: SIM115
    try:
        bulk.export_stream(sessions, out, actor=actor)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


@router.get("/export", response_class=Response)
async def export_pfif(who: Exchanger, runtime: AppRuntime) -> Response:
    """Export every record and note as PFIF 1.4 (contact details included; audited)."""
    spooled = await run_in_threadpool(_spool_export, runtime.sessions, who)
    return StreamingResponse(
        iter(lambda: spooled.read(1 << 16), b""), media_type=PFIF_MEDIA,
        headers={"Content-Disposition": 'attachment; filename="tocsin-persons.pfif.xml"'},
        background=BackgroundTask(spooled.close))


def _min_entry_date(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return pfif.parse_datetime(value)
    except ValueError as exc:
        raise Invalid(f"min_entry_date: {exc}") from None


MinEntryDate = Annotated[str | None, Query(max_length=40, description=(
    "PFIF UTC date YYYY-MM-DDTHH:MM:SSZ: entries entered at or after it, oldest first"))]
Skip = Annotated[int, Query(ge=0, le=100_000)]
MaxResults = Annotated[int, Query(ge=1, le=100_000, description=(
    f"at most {feeds.HARD_MAX_RESULTS} are returned whatever is asked (Person Finder's cap)"))]
ATOM_MEDIA = "application/atom+xml"


@router.get("/feeds/person", response_class=Response)
def person_feed(
    request: Request, who: FeedReader, db: DbSession, domain: Domain,
    min_entry_date: MinEntryDate = None, skip: Skip = 0,
    max_results: MaxResults = feeds.DEFAULT_MAX_RESULTS, omit_notes: bool = False,
) -> Response:
    """PFIF 1.4 Atom feed of person records (with their notes), oldest entry first (audited)."""
    data = feeds.person_feed(db, min_entry_date=_min_entry_date(min_entry_date), skip=skip,
                             max_results=max_results, omit_notes=omit_notes,
                             url=str(request.url), domain=domain, actor=who)
    db.commit()
    return Response(data, media_type=ATOM_MEDIA)


@router.get("/feeds/note", response_class=Response)
def note_feed(
    request: Request, who: FeedReader, db: DbSession, domain: Domain,
    min_entry_date: MinEntryDate = None, skip: Skip = 0,
    max_results: MaxResults = feeds.DEFAULT_MAX_RESULTS,
    person_record_id: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """PFIF 1.4 Atom feed of notes, oldest entry first (audited)."""
    data = feeds.note_feed(db, min_entry_date=_min_entry_date(min_entry_date), skip=skip,
                           max_results=max_results, person_record_id=person_record_id,
                           url=str(request.url), domain=domain, actor=who)
    db.commit()
    return Response(data, media_type=ATOM_MEDIA)


@router.get("/duplicates", response_model=list[DuplicateOut])
def duplicates(
    who: Reviewer, db: DbSession,
    record_id: Annotated[str | None, Query(min_length=3, max_length=500)] = None,
) -> list[DuplicateOut]:
    """List likely duplicates waiting for a reviewer (of one record with ``record_id``)."""
    rows = (service.list_duplicates(db) if record_id is None
            else record.duplicates_of(db, record_id))
    return [DuplicateOut(**row) for row in rows]


@router.post("/unlink", response_model=DuplicateOut)
def unlink(body: UnlinkIn, who: Reviewer, db: DbSession, domain: Domain) -> DuplicateOut:
    """Undo a link: the two records are different people (a note on each says so)."""
    proposal = record.unlink(db, record_id=body.person_record_id,
                             other_record_id=body.other_record_id, domain=domain, actor=who)
    db.commit()
    return _out(db, proposal)


@router.post("/duplicates/{proposal_id}/link", response_model=DuplicateOut)
def link_duplicate(proposal_id: int, who: Reviewer, db: DbSession, domain: Domain) -> DuplicateOut:
    """Link the two records as the same person (PFIF linked_person_record_id notes)."""
    return _decide(db, proposal_id, True, domain, who)


@router.post("/duplicates/{proposal_id}/dismiss", response_model=DuplicateOut)
def dismiss_duplicate(
    proposal_id: int, who: Reviewer, db: DbSession, domain: Domain
) -> DuplicateOut:
    """Record that the two records are different people."""
    return _decide(db, proposal_id, False, domain, who)


def _decide(db: DbSession, proposal_id: int, link: bool, domain: str,
            who: Principal) -> DuplicateOut:
    proposal = service.decide_duplicate(db, proposal_id=proposal_id, link=link, domain=domain,
                                        actor=who)
    db.commit()
    return _out(db, proposal)


def _out(db: DbSession, proposal: service.DuplicateProposal) -> DuplicateOut:
    a = db.get(service.Person, proposal.person_id)
    b = db.get(service.Person, proposal.other_id)
    assert a is not None and b is not None
    return DuplicateOut(id=proposal.id, person_record_id=a.person_record_id,
                        other_record_id=b.person_record_id, person_name=a.full_name,
                        other_name=b.full_name, score=proposal.score, status=proposal.status)
