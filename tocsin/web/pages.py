"""The home page and the one list of role pages it shows.

:data:`ROLE_PAGES` is the single place that says which pages exist: a domain whose page lands
flips its entry to ``available=True`` (``tests/web/test_pages.py`` fails while a route exists
for an entry still marked "coming soon", or an entry is marked available without a route).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.web.render import render_page


class Audience(StrEnum):
    """Who a page is for: anyone, or holders of a staff account."""

    citizen = "citizen"
    staff = "staff"


@dataclass(frozen=True, slots=True)
class RolePage:
    """A page shown on the home page; title and description come from the i18n catalogue."""

    path: str
    audience: Audience
    role_key: str
    available: bool = False

    @property
    def slug(self) -> str:
        return self.path.strip("/")

    @property
    def title_key(self) -> str:
        return f"page.{self.slug}"

    @property
    def description_key(self) -> str:
        return f"page.{self.slug}.desc"


_C, _S = Audience.citizen, Audience.staff

ROLE_PAGES: tuple[RolePage, ...] = (
    RolePage("/sos", _C, "role.citizen", available=True),
    RolePage("/safety", _C, "role.citizen", available=True),
    RolePage("/persons", _C, "role.citizen", available=True),
    RolePage("/shelter", _C, "role.citizen", available=True),
    RolePage("/alerts", _C, "role.citizen", available=True),
    RolePage("/report", _C, "role.citizen", available=True),
    RolePage("/cyber/advisories", _C, "role.citizen", available=True),
    RolePage("/dispatch", _S, "role.dispatcher", available=True),
    RolePage("/unit", _S, "role.unit", available=True),
    RolePage("/authority", _S, "role.authority", available=True),
    RolePage("/watch", _S, "role.moderator_analyst", available=True),
    RolePage("/stats", _S, "role.analyst", available=True),
    RolePage("/cyber", _S, "role.cyber", available=True),
    RolePage("/admin", _S, "role.admin", available=True),
)

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(public())])
def home(request: Request) -> Response:
    """Show what Tocsin offers to each role, and the live service status."""
    return render_page(
        request,
        "home.html",
        entry="home",
        context={
            "citizen_pages": [p for p in ROLE_PAGES if p.audience is Audience.citizen],
            "staff_pages": [p for p in ROLE_PAGES if p.audience is Audience.staff],
        },
    )
