"""The audit tables. Database triggers (see the migrations) refuse UPDATE and DELETE on entries,
and on SQLite an INSERT that would replace one; the hash chain shows any change made anyway."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime


class AuditEntry(Base):
    """One audited action; no personal content, only references to the objects touched."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300))
    # Place in the hash chain (1, 2, 3…, no gap) and sha256(previous hash, this entry). Nullable
    # only so that a row written behind the application's back can exist: verify reports it.
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True, index=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditChainHead(Base):
    """The one row (id 1) naming the chain's last link: its lock serialises writers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
