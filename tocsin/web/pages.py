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
from sqlalchemy.orm import Session
from starlette.responses import Response

from tocsin.alerts import cap
from tocsin.alerts import service as alerts_service
from tocsin.core.auth import public
from tocsin.core.runtime import DbSession
from tocsin.web import i18n
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


@dataclass(frozen=True)
class HomeAlert:
    """What the home page says of one official alert in force: its words, in the page's language."""

    headline: str
    instruction: str


def _alerts_in_force(db: Session, lang: str) -> list[HomeAlert]:
    """The official alerts in force (newest first, at most three), each in ``lang`` if it has it.

    Why on the home page: a person who opens Tocsin during an attack must see the prefecture's
    instruction first, without a tap; the alerts page has the map and the rest.
    """
    found = []
    for row in alerts_service.active(db, limit=3):
        infos = cap.from_json(row.content).infos
        if not infos:
            continue
        info = next((i for i in infos if (i.language or "fr").lower().startswith(lang)), infos[0])
        found.append(HomeAlert(headline=info.headline or info.event or "",
                               instruction=info.instruction or info.description or ""))
    return found


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(public())])
def home(request: Request, db: DbSession) -> Response:
    """Show the alert in force and the SOS button first, what Tocsin offers each role, and the
    live service status."""
    return render_page(
        request,
        "home.html",
        entry="home",
        context={
            "alerts_in_force": _alerts_in_force(db, i18n.negotiate(request)),
            "citizen_pages": [p for p in ROLE_PAGES if p.audience is Audience.citizen],
            "staff_pages": [p for p in ROLE_PAGES if p.audience is Audience.staff],
        },
    )
