"""Tables of the observatory.

``stats_fact`` is one row per counted occurrence (what, when, category, coarse H3 cell): no
personal data, only the id of what was counted, so a fact arriving twice counts once.
``stats_rollup`` holds the same facts pre-counted per minute, hour and day bucket, per category
and detail (cell ``""``) or per category and cell (detail ``""``), maintained incrementally: the
dashboard reads these few rows instead of grouping millions of facts. ``stats_cell`` holds the
per-cell counts again, over all categories: the map without a category filter reads one row per
cell and bucket instead of one per cell, category and bucket.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.core.db import Base, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits past 2^31 facts.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class StatsFact(Base):
    """One counted occurrence contributed by a domain's ``figures`` module."""

    __tablename__ = "stats_fact"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    category: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(String(40), default="")
    cell: Mapped[str] = mapped_column(String(16), default="")
    value: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_stats_fact_kind_key"),
        Index("ix_stats_fact_kind_at", "kind", "at"),
    )


class StatsRollup(Base):
    """Facts counted per bucket (grain ``m``/``t``/``h``/``d``), kind, category, detail, cell."""

    __tablename__ = "stats_rollup"

    kind: Mapped[str] = mapped_column(String(48), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    cell: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    detail: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_stats_rollup_map", "kind", "grain", "bucket"),)


class StatsCell(Base):
    """Facts counted per bucket (grain ``m``/``t``/``h``/``d``), kind and cell, all categories.

    The primary key runs (kind, grain, bucket, cell): a map over a period reads one contiguous
    range per piece of the period.
    """

    __tablename__ = "stats_cell"

    kind: Mapped[str] = mapped_column(String(48), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    bucket: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    cell: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)


class StatsCursor(Base):
    """How far the periodic sweep of one domain's tables has gone."""

    __tablename__ = "stats_cursor"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StatsNotice(Base):
    """An anomaly notice for analysts: a bucket well above its recent baseline."""

    __tablename__ = "stats_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(48))
    category: Mapped[str] = mapped_column(String(40))
    cell: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    grain: Mapped[str] = mapped_column(String(1))
    observed: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column(Float)
    spread: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        UniqueConstraint("kind", "category", "cell", "grain", "bucket",
                         name="uq_stats_notice_bucket"),
    )
