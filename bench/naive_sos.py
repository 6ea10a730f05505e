"""The naive SOS endpoint ``bench.sos_ack`` compares Tocsin with, and its store-nothing ceiling.

What a developer would write first: FastAPI, a small pydantic model for the same JSON as
``POST /api/v1/sos``, and the standard library's ``sqlite3`` (WAL, ``synchronous=FULL``: an
acknowledged SOS survives a power cut), one INSERT and one commit per request. The endpoint is a
plain ``def``, so FastAPI runs it in its thread pool; each thread keeps its own connection.

- ``uvicorn bench.naive_sos:app``: validates, stores, answers 201 (``NAIVE_SOS_DB``: the file);
- ``uvicorn bench.naive_sos:ceiling``: the same endpoint, which validates and answers 201
  without storing anything: what FastAPI and uvicorn can do at all on this machine.

Both answer ``GET /healthz`` so the benchmark knows they are up.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import uuid
from enum import StrEnum

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

SCHEMA = """
CREATE TABLE IF NOT EXISTS sos (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    accuracy_m REAL NOT NULL,
    situation TEXT NOT NULL,
    people INTEGER,
    text TEXT,
    received_at TEXT NOT NULL
)
"""


class Situation(StrEnum):
    attack = "attack"
    armed_person = "armed_person"
    hostage = "hostage"
    hidden = "hidden"
    injured = "injured"
    fire = "fire"
    other = "other"


class SosIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(ge=0, le=100_000)
    situation: Situation
    people: int | None = Field(default=None, ge=1, le=10_000)
    text: str | None = Field(default=None, max_length=2048)
    client_id: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class SosAck(BaseModel):
    id: str
    received_at: dt.datetime


def database_path() -> str:
    return os.environ.get("NAIVE_SOS_DB", "naive_sos.db")


_local = threading.local()


def connection() -> sqlite3.Connection:
    """This thread's connection (FastAPI's pool threads each open one, once)."""
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(database_path())
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(SCHEMA)  # the first request of each thread (IF NOT EXISTS)
        conn.commit()
        _local.conn = conn
    return conn


def make(store: bool) -> FastAPI:
    api = FastAPI(title="naive SOS" if store else "store-nothing SOS")

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.post("/api/v1/sos", status_code=201)
    def post_sos(body: SosIn) -> SosAck:
        ack = SosAck(id=uuid.uuid4().hex, received_at=dt.datetime.now(dt.UTC))
        if store:
            conn = connection()
            conn.execute(
                "INSERT INTO sos (id, client_id, lat, lon, accuracy_m, situation, people, text,"
                " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ack.id, body.client_id, body.lat, body.lon, body.accuracy_m,
                 body.situation.value, body.people, body.text, ack.received_at.isoformat()),
            )
            conn.commit()
        return ack

    return api


app = make(store=True)
ceiling = make(store=False)
