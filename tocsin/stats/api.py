"""HTTP API of the observatory: the analysts' dashboard data and the public report.

Dashboard routes admit analysts (and admins); the report route is public and serves aggregates
only, each cell under k shown as suppressed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from tocsin.core.auth import Principal, Role, allow
from tocsin.stats.registry import registry
from tocsin.stats.schemas import KindOut

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

Analyst = Annotated[Principal, Depends(allow(Role.analyst, Role.admin))]


@router.get("/figures", response_model=list[KindOut])
def list_figures(who: Analyst) -> list[KindOut]:
    """List every figure the domains contribute, with its categories."""
    return [KindOut(name=k.name, fr=k.fr, en=k.en, categories=list(k.categories), unit=k.unit,
                    mapped=k.mapped, watch=k.watch, public=k.public, details=k.details)
            for k in registry().kinds.values()]
