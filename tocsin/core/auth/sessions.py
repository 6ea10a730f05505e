"""Sessions: the live tokens of an account, listed and revoked by their owner or an admin."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.core.auth.models import AccessToken
from tocsin.core.auth.service import session_id
from tocsin.core.db import utcnow
from tocsin.core.errors import NotFound

log = logging.getLogger("tocsin.auth")

# Stream tickets and other tokens minted for a minute or two are plumbing, not sessions.
SHORTEST_SESSION = dt.timedelta(minutes=5)
# ``last_used_at`` is written at most this often per token: one write a minute, not one a call.
TOUCH_EVERY = dt.timedelta(minutes=1)


def live_sessions(
    session: Session, *, user_id: int, now: dt.datetime | None = None
) -> list[AccessToken]:
    """Return the account's unrevoked, unexpired login tokens, newest first."""
    now = now or utcnow()
    rows = session.scalars(
        select(AccessToken)
        .where(
            AccessToken.user_id == user_id,
            AccessToken.revoked_at.is_(None),
            AccessToken.expires_at > now,
        )
        .order_by(AccessToken.issued_at.desc())
    )
    return [r for r in rows if r.expires_at - r.issued_at > SHORTEST_SESSION]


def revoke_session(session: Session, *, user_id: int, sid: str) -> None:
    """Revoke one of the account's own live sessions by its public id; 404 if there is none."""
    result = session.execute(
        update(AccessToken)
        .where(
            AccessToken.user_id == user_id,
            func.substr(AccessToken.token_hash, 1, 16) == sid,
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"no live session {sid!r} for this account")


def touch(factory: sessionmaker[Session], access: AccessToken, now: dt.datetime) -> None:
    """Record that a token was used, at most once a minute, in a transaction of its own.

    Its own transaction, because the request's may be read-only or rolled back; a failure to
    record is logged and never fails the request it describes.
    """
    if access.last_used_at is not None and now - access.last_used_at < TOUCH_EVERY:
        return
    try:
        with factory() as own:
            own.execute(
                update(AccessToken)
                .where(AccessToken.token_hash == access.token_hash)
                .values(last_used_at=now)
            )
            own.commit()
    except SQLAlchemyError as exc:
        log.warning("could not record use of session %s: %s", session_id(access.token_hash), exc)
