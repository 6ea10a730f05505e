"""``GET /healthz``: is this worker able to take an SOS right now?"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from tocsin.core.auth.permissions import public
from tocsin.core.outbox import pending_count
from tocsin.core.runtime import AppRuntime, Runtime

router = APIRouter(tags=["health"])


def _database_state(runtime: Runtime) -> tuple[str, int | None]:
    try:
        with runtime.sessions() as session:
            session.execute(text("SELECT 1"))
            return "ok", pending_count(session)
    except Exception:
        return "down", None


@router.get("/healthz", dependencies=[Depends(public())])
async def healthz(runtime: AppRuntime) -> JSONResponse:
    """Report the database and bus states; 503 when the database cannot commit."""
    database, pending = await run_in_threadpool(_database_state, runtime)
    bus = "ok" if await runtime.bus.healthy() else "down"
    status = "ok" if database == "ok" and bus == "ok" else "degraded"
    body = {
        "status": status,
        "database": database,
        "bus": bus,
        "mode": runtime.settings.mode,
        "outbox_pending": pending,
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
