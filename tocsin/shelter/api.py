"""HTTP routes of shelter: hosts and seekers act with secret tokens (no account), dispatchers
file group requests, moderators review reports. Every route commits before it answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tocsin.core.auth import OptionalDevice, Principal, Role, allow, public
from tocsin.core.runtime import DbSession
from tocsin.shelter import moderation, requests, service
from tocsin.shelter.dependencies import Config, Limit, ManageToken, RequestToken
from tocsin.shelter.geo import RESOLUTION
from tocsin.shelter.schemas import (
    AddressView,
    AreaList,
    AskBody,
    DecisionBody,
    HostRequestList,
    OfferCreate,
    OfferCreated,
    OfferHostView,
    OfferUpdate,
    ProposalList,
    ReportAck,
    ReportBody,
    ReportList,
    RequestCreate,
    RequestCreated,
    RequestView,
    SeekerReportBody,
)
from tocsin.shelter.views import (
    address_view,
    asked_proposal,
    host_request_view,
    host_view,
    proposal_of_match,
    report_view,
    request_view,
)

router = APIRouter(prefix="/api/v1/shelter", tags=["shelter"])

Dispatcher = Annotated[Principal, Depends(allow(Role.dispatcher))]
Moderator = Annotated[Principal, Depends(allow(Role.moderator))]
READ = [Depends(public()), Depends(Limit("read"))]


@router.post("/offers", status_code=201, response_model=OfferCreated,
             dependencies=[Depends(Limit("offer"))])
def create_offer(body: OfferCreate, db: DbSession, who: OptionalDevice) -> OfferCreated:
    """Offer places; the answer holds the management token, shown this once."""
    offer, token = service.create_offer(db, data=body, actor=who)
    db.commit()
    view = host_view(offer, waiting=0)
    return OfferCreated(**view.model_dump(), manage_token=token,
                        manage_path=f"/shelter#manage={offer.id}.{token}")


@router.get("/offers/{offer_id}", response_model=OfferHostView, dependencies=READ)
def get_offer(offer_id: str, db: DbSession, who: OptionalDevice,
              token: ManageToken = None) -> OfferHostView:
    """The host's own offer, address included (management token required)."""
    offer = service.read_own_offer(db, offer_id=offer_id, token=token, actor=who)
    waiting = service.waiting_count(db, offer_id=offer.id)
    db.commit()
    return host_view(offer, waiting=waiting)


@router.patch("/offers/{offer_id}", response_model=OfferHostView, dependencies=READ)
def edit_offer(offer_id: str, body: OfferUpdate, db: DbSession, who: OptionalDevice,
               token: ManageToken = None) -> OfferHostView:
    """Edit an offer (capacity, end time, conditions, note, address)."""
    offer = service.update_offer(db, offer_id=offer_id, token=token, data=body, actor=who)
    waiting = service.waiting_count(db, offer_id=offer.id)
    db.commit()
    return host_view(offer, waiting=waiting)


def _status_route(status: str, verb: str) -> None:
    def change(offer_id: str, db: DbSession, who: OptionalDevice,
               token: ManageToken = None) -> OfferHostView:
        offer = service.set_status(db, offer_id=offer_id, token=token, status=status, actor=who)
        waiting = service.waiting_count(db, offer_id=offer.id)
        db.commit()
        return host_view(offer, waiting=waiting)

    change.__doc__ = f"{verb.capitalize()} the offer (management token required)."
    router.add_api_route(f"/offers/{{offer_id}}/{verb}", change, methods=["POST"],
                         response_model=OfferHostView, dependencies=READ, name=f"offer_{verb}")


_status_route("paused", "pause")
_status_route("open", "resume")
_status_route("closed", "close")


@router.get("/offers/{offer_id}/requests", response_model=HostRequestList, dependencies=READ)
def offer_requests(offer_id: str, db: DbSession, token: ManageToken = None) -> HostRequestList:
    """The requests waiting on (or accepted by) this offer: people and needs, no location."""
    offer = service.host_offer(db, offer_id=offer_id, token=token)
    found = service.host_requests(db, offer=offer)
    return HostRequestList(offer_id=offer.id,
                           requests=[host_request_view(r, offer) for r in found])


@router.post("/offers/{offer_id}/requests/{request_id}/accept", response_model=HostRequestList,
             dependencies=READ)
def accept(offer_id: str, request_id: str, db: DbSession, who: OptionalDevice,
           token: ManageToken = None) -> HostRequestList:
    """Accept a seeker: the places are taken and the seeker may now see the address."""
    service.accept(db, offer_id=offer_id, token=token, request_id=request_id, actor=who)
    db.commit()
    return offer_requests(offer_id, db, token)


@router.post("/offers/{offer_id}/requests/{request_id}/decline", response_model=HostRequestList,
             dependencies=READ)
def decline(offer_id: str, request_id: str, db: DbSession, who: OptionalDevice,
            token: ManageToken = None) -> HostRequestList:
    """Decline a seeker; they may ask another host."""
    service.decline(db, offer_id=offer_id, token=token, request_id=request_id, actor=who)
    db.commit()
    return offer_requests(offer_id, db, token)


@router.post("/offers/{offer_id}/requests/{request_id}/report", status_code=201,
             response_model=ReportAck, dependencies=[Depends(Limit("report"))])
def host_report(offer_id: str, request_id: str, body: ReportBody, db: DbSession,
                who: OptionalDevice, token: ManageToken = None) -> ReportAck:
    """Report a request that asked this offer (a waiting one is declined)."""
    report = moderation.report_request(db, offer_id=offer_id, token=token,
                                       request_id=request_id, body=body, actor=who)
    db.commit()
    return ReportAck(id=report.id, status=report.status)


def _new_request(body: RequestCreate, db: DbSession, who: Principal,
                 config: Config) -> RequestCreated:
    request, token = requests.create_request(db, data=body, actor=who, config=config)
    db.commit()
    view = request_view(request, None, now=request.created_at)
    return RequestCreated(**view.model_dump(), token=token,
                          follow_path=f"/shelter#request={request.id}.{token}")


@router.post("/requests", status_code=201, response_model=RequestCreated,
             dependencies=[Depends(Limit("request")), Depends(Limit("address",
                                                                      by_address=True))])
def create_request(body: RequestCreate, db: DbSession, who: OptionalDevice,
                   config: Config) -> RequestCreated:
    """Ask for shelter; the location is reduced to a coarse cell and not stored."""
    return _new_request(body, db, who, config)


@router.post("/group-requests", status_code=201, response_model=RequestCreated)
def create_group_request(body: RequestCreate, db: DbSession, who: Dispatcher,
                         config: Config) -> RequestCreated:
    """Ask for shelter for a group, as a dispatcher; the token then follows it like a seeker's."""
    return _new_request(body, db, who, config)


@router.get("/requests/{request_id}", response_model=RequestView, dependencies=READ)
def get_request(request_id: str, db: DbSession, token: RequestToken = None) -> RequestView:
    """The seeker's request and, once asked, the host's coarse area."""
    request = requests.seeker_request(db, request_id=request_id, token=token)
    return request_view(request, asked_proposal(db, request))


@router.get("/requests/{request_id}/proposals", response_model=ProposalList, dependencies=READ)
def proposals(request_id: str, db: DbSession, config: Config,
              token: RequestToken = None) -> ProposalList:
    """The nearest suitable offers: coarse cell, distance band, places left, conditions."""
    request = requests.seeker_request(db, request_id=request_id, token=token)
    matches = requests.find_matches(db, request=request, config=config)
    notes = requests.offer_notes(db, [m.offer_id for m in matches])
    return ProposalList(request_id=request.id,
                        proposals=[proposal_of_match(m, notes.get(m.offer_id)) for m in matches])


@router.post("/requests/{request_id}/ask", response_model=RequestView, dependencies=READ)
def ask(request_id: str, body: AskBody, db: DbSession, who: OptionalDevice, config: Config,
        token: RequestToken = None) -> RequestView:
    """Ask one host for places (within the matching radius); they accept or decline."""
    request = requests.ask(db, request_id=request_id, token=token, offer_id=body.offer_id,
                           actor=who, config=config)
    db.commit()
    return request_view(request, asked_proposal(db, request))


@router.post("/requests/{request_id}/cancel", response_model=RequestView, dependencies=READ)
def cancel(request_id: str, db: DbSession, who: OptionalDevice,
           token: RequestToken = None) -> RequestView:
    """Withdraw the request; places already taken go back to the host."""
    request = requests.cancel(db, request_id=request_id, token=token, actor=who)
    db.commit()
    return request_view(request, None)


@router.get("/requests/{request_id}/address", response_model=AddressView, dependencies=READ)
def address(request_id: str, db: DbSession, who: OptionalDevice,
            token: RequestToken = None) -> AddressView:
    """The host's address and directions, once the host accepted (403 before); audited."""
    request, offer = requests.reveal(db, request_id=request_id, token=token, actor=who)
    db.commit()
    return address_view(request, offer)


@router.post("/requests/{request_id}/report", status_code=201, response_model=ReportAck,
             dependencies=[Depends(Limit("report"))])
def seeker_report(request_id: str, body: SeekerReportBody, db: DbSession, who: OptionalDevice,
                  token: RequestToken = None) -> ReportAck:
    """Report an offer this request asked; it is hidden until a moderator reviews it."""
    report = moderation.report_offer(
        db, request_id=request_id, token=token, offer_id=body.offer_id,
        body=ReportBody(reason=body.reason, text=body.text), actor=who,
    )
    db.commit()
    return ReportAck(id=report.id, status=report.status)


@router.get("/areas", response_model=AreaList, dependencies=READ)
def areas(
    db: DbSession,
    south: Annotated[float, Query(ge=-90, le=90)],
    west: Annotated[float, Query(ge=-180, le=180)],
    north: Annotated[float, Query(ge=-90, le=90)],
    east: Annotated[float, Query(ge=-180, le=180)],
) -> AreaList:
    """Coarse areas (H3 cells) holding open offers in a box, for the map; no point, no id."""
    found = moderation.areas(db, south=south, west=west, north=north, east=east)
    return AreaList(resolution=RESOLUTION, areas=found)


@router.get("/moderation/reports", response_model=ReportList)
def report_queue(db: DbSession, who: Moderator) -> ReportList:
    """The open reports, oldest first (reading them is audited)."""
    found = moderation.queue(db, actor=who)
    views = [report_view(db, report) for report in found]
    db.commit()
    return ReportList(reports=views)


@router.post("/moderation/reports/{report_id}/decision", response_model=ReportAck)
def decide(report_id: int, body: DecisionBody, db: DbSession, who: Moderator) -> ReportAck:
    """Restore (show again) or remove (close for good) what a report is about."""
    report = moderation.decide(db, report_id=report_id, decision=body.decision,
                               reason=body.reason, actor=who)
    db.commit()
    return ReportAck(id=report.id, status=report.status)
