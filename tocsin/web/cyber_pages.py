"""``/cyber`` (analysts and organisations), ``/cyber/report`` (the report form, anyone) and
``/cyber/advisories`` (public advisories): the cyber desk's pages.

The pages are public HTML shells. ``/cyber`` uses the shared staff sign-in
(``templates/_staff_login.html`` and ``frontend/src/lib/staff.ts``, 2FA included) and calls
role-protected APIs with the bearer token; the report form works without an account (a contact
is then required) or with an organisation's login.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.cyber.indicators import KINDS
from tocsin.web import staff_login as _staff_login  # noqa: F401  (registers the sign-in texts)
from tocsin.web.cyber_text import (
    IMPACTS,
    REGIONS,
    SECTORS,
    SEVERITIES,
    SIZES,
    TYPES,
)
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

REPORT_KEYS = ("cyber.sent", "cyber.error", "cyber.logged_as", "cyber.login_failed",
               "cyber.wrong_role_org", "cyber.need_when", "cyber.future_when",
               "cyber.need_contact", "cyber.file_too_big", "cyber.bad_file", "cyber.bad_field",
               "cyber.not_sent")
DESK_KEYS = (
    "cyber.error", "cyber.login_failed", "cyber.wrong_role_desk", "cyber.open", "cyber.confirm",
    "cyber.false_positive", "cyber.submit_review", "cyber.approve", "cyber.send_back",
    "cyber.revise", "cyber.state.draft", "cyber.state.published", "cyber.in_review",
    "cyber.saved", "cyber.no_incidents", "cyber.no_indicators", "cyber.no_advisories",
    "cyber.seen", "cyber.anonymous", "cyber.reason_prompt", "cyber.subscribed",
    "cyber.no_reports", "cyber.draft_pending", "cyber.evidence",
    "cyber.reason_needed", "cyber.linked_indicators", "cyber.no_linked", "cyber.triage",
    "cyber.close", "cyber.reopen", "cyber.second_analyst", "cyber.four_eyes",
    "cyber.bad_indicator", "cyber.bad_partners", "cyber.signed_in", "cyber.role.analyst",
    "cyber.role.organisation",
    *(f"cyber.kind.{k}" for k in KINDS),
    *(f"cyber.status.{s}" for s in ("new", "confirmed", "false_positive", "triaged", "closed")),
    *(f"cyber.type.{t}" for t in TYPES),
    *(f"cyber.sector.{s}" for s in SECTORS),
    *(f"cyber.region.{r}" for r in REGIONS),
)


def _choices() -> dict[str, object]:
    return {"types": TYPES, "sectors": SECTORS, "sizes": SIZES, "regions": REGIONS,
            "impacts": IMPACTS, "severities": SEVERITIES}


@router.get("/cyber/report", response_class=HTMLResponse, dependencies=[Depends(public())])
def report_page(request: Request) -> Response:
    """The guided incident report form."""
    return render_page(request, "cyber_report.html", entry="cyber_report",
                       context={**_choices(), "script_keys": REPORT_KEYS})


@router.get("/cyber", response_class=HTMLResponse, dependencies=[Depends(public())])
def desk_page(request: Request) -> Response:
    """The analysts' desk (and an organisation's reports and subscriptions)."""
    return render_page(request, "cyber.html", entry="cyber",
                       context={**_choices(), "script_keys": DESK_KEYS})


@router.get("/cyber/advisories", response_class=HTMLResponse, dependencies=[Depends(public())])
def advisories_page(request: Request) -> Response:
    """The public advisories (TLP:CLEAR) and their Atom feed."""
    return render_page(request, "cyber_advisories.html", entry="cyber_advisories",
                       context={"script_keys": ("cyber.none_public", "cyber.version",
                                                "cyber.published_on", "cyber.exposed",
                                                "cyber.actions", "cyber.error",
                                                *(f"cyber.severity.{s}" for s in SEVERITIES))})

