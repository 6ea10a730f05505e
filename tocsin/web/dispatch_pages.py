"""``/dispatch`` (the dispatcher's console) and ``/unit`` (the patrol's page).

Both are public HTML shells: everything they show comes from role-protected dispatch and sos
routes, called with the bearer token of whoever logs in on the page, so the shells reveal
nothing. The console follows the SSE stream (with a one-time ticket, see
``tocsin.dispatch.stream``); the unit page polls its own state every two seconds, which a
patchy mobile network survives better than a long-lived stream.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.web import dispatch_texts as _texts  # noqa: F401  (registers the page texts)
from tocsin.web import staff_login as _staff_login  # noqa: F401  (registers the sign-in texts)
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

SITUATIONS = ("attack", "armed_person", "hostage", "hidden", "injured", "fire", "other")
STATUSES = ("available", "offered", "assigned", "on_scene", "off_duty",
            "accepted", "declined", "expired", "cancelled", "closed", "open", "merged")

MERGE_SPLIT_KEYS = (
    "merge_none", "merge_submit", "merge_confirm_one", "merge_confirm_many", "merge_do",
    "merge_done", "split_count_none", "split_count_one", "split_count_many", "split_done",
    "split_pick", "split_pick_group",
)
ERROR_KEYS = (
    "network", "server", "forbidden", "not_found", "conflict", "invalid", "conflict_merge",
    "invalid_merge", "conflict_split", "invalid_split",
)

# Keys handed to the browser scripts through data-i18n-* attributes.
DISPATCH_KEYS = (
    "dispatch.wrong_role", "dispatch.live", "dispatch.reconnecting", "dispatch.stream_closed",
    "dispatch.empty_queue", "dispatch.sos_count", "dispatch.priority", "dispatch.opened",
    "dispatch.no_unit", "dispatch.assign", "dispatch.read", "dispatch.reply_sent",
    "dispatch.reason", "dispatch.trail", "dispatch.no_text", "dispatch.eta", "dispatch.distance",
    "dispatch.you", "dispatch.citizen", "dispatch.action_failed", "dispatch.unassigned",
    "dispatch.counts", "dispatch.unread", "dispatch.shown", "dispatch.persons",
    "dispatch.unlocated", "dispatch.received", "dispatch.ask_where",
    "dispatch.group.has_written", "dispatch.group.silent",
    "dispatch.reason_reassign", "dispatch.reason_close", "dispatch.confirm_reassign",
    "dispatch.confirm_close", "dispatch.closed_no_action", "dispatch.merged_no_action",
    *(f"dispatch.{k}" for k in MERGE_SPLIT_KEYS),
    *(f"dispatch.error.{k}" for k in ERROR_KEYS),
    *(f"dispatch.people.{k}" for k in ("unknown", "one", "some", "many")),
    *(f"dispatch.why.{k}" for k in ("people", "age", "unanswered", "silence")),
    *(f"dispatch.situation.{s}" for s in SITUATIONS),
    *(f"dispatch.status.{s}" for s in STATUSES),
)
UNIT_KEYS = (
    "unit.wrong_role", "unit.no_offer", "unit.offer_title",
    "unit.mission_title", "unit.deadline", "unit.position_sent", "unit.no_geolocation",
    "dispatch.sos_count", "dispatch.eta", "dispatch.distance", "dispatch.action_failed",
    "unit.not_linked", "unit.on_duty", "unit.off_duty", "unit.countdown", "unit.too_late",
    "unit.people_unknown", "unit.no_words", "unit.you", "unit.sos_place",
    *(f"dispatch.situation.{s}" for s in SITUATIONS),
    *(f"dispatch.status.{s}" for s in STATUSES),
)



@router.get("/dispatch", response_class=HTMLResponse, dependencies=[Depends(public())])
def dispatch_page(request: Request) -> Response:
    """Show the dispatcher's console (data comes from dispatcher-only routes)."""
    return render_page(
        request, "dispatch.html", entry="dispatch",
        context={"script_keys": DISPATCH_KEYS, "situations": SITUATIONS,
                 "tiles_url": request.app.state.runtime.settings.map_tiles_url},
    )


@router.get("/unit", response_class=HTMLResponse, dependencies=[Depends(public())])
def unit_page(request: Request) -> Response:
    """Show the field unit's page (data comes from unit-only routes)."""
    return render_page(
        request, "unit.html", entry="unit",
        context={"script_keys": UNIT_KEYS,
                 "tiles_url": request.app.state.runtime.settings.map_tiles_url},
    )
