"""Benchmark of ``tocsin keys rotate``: ``python -m bench.keys_rotate [--rows N] [--pg URL]``.

N SOS rows with a sealed text are written under key A, then re-sealed under key B twice, on
fresh copies of the same database: by ours (``tocsin.core.keys.rotate``: raw bytes, keyset
batches, values already under B skipped in SQL, compare-and-set UPDATE, one commit a batch) and
by the naive way an operator would script it (load every row through the ORM with a sealer that
knows both keys, mark the field changed, commit each row), and by the same ORM loop committing
every 500 rows (a fairer baseline: it shares our batching, not our raw-bytes path). Every result
is checked: each value opens under B alone to the same text. SQLite always; PostgreSQL with
``--pg``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import Engine, LargeBinary, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from tocsin.core import keys, seal
from tocsin.core.db import make_engine
from tocsin.core.migrate import upgrade
from tocsin.models import metadata
from tocsin.sos.models import Sos

KEY_A, KEY_B = seal.generate_key(), seal.generate_key()


def _fill(engine: Engine, rows: int) -> None:
    seal.configure(seal.Sealer(KEY_A))
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        for i in range(rows):
            session.add(Sos(
                id=uuid.uuid4().hex, client_hash=uuid.uuid4().hex, token_hash="x" * 64,
                lat=48.86, lon=2.37, accuracy_m=10.0, situation="hidden", people=2,
                text=f"Nous sommes cachés, message {i} " + "x" * 120, status="open",
                received_at=now,
            ))
            if i % 5000 == 4999:
                session.commit()
        session.commit()


def _texts(engine: Engine) -> dict[str, bytes]:
    with engine.connect() as conn:
        return {r[0]: bytes(r[1]) for r in conn.execute(
            select(Sos.id, type_coerce(Sos.__table__.c.text, LargeBinary)))}


def _naive(engine: Engine) -> None:
    seal.configure(seal.Sealer(KEY_B, [KEY_A]))
    with Session(engine) as session:
        ids = list(session.scalars(select(Sos.id)))
    for sos_id in ids:
        with Session(engine) as session:
            row = session.get(Sos, sos_id)
            assert row is not None
            flag_modified(row, "text")  # re-written through the type: sealed under B
            session.commit()


def _orm_batched(engine: Engine) -> None:
    seal.configure(seal.Sealer(KEY_B, [KEY_A]))
    with Session(engine, expire_on_commit=False) as session:
        for i, row in enumerate(session.scalars(select(Sos)).all(), start=1):
            flag_modified(row, "text")
            if i % 500 == 0:
                session.commit()
        session.commit()


def _ours(engine: Engine) -> None:
    keys.rotate(engine, metadata, seal.Sealer(KEY_B, [KEY_A]), batch_size=500)


def _check(engine: Engine, plain: dict[str, bytes]) -> None:
    only_b = seal.Sealer(KEY_B)
    after = _texts(engine)
    assert after.keys() == plain.keys()
    assert all(only_b.open(v, "sos.text") == plain[k] for k, v in after.items())


def _run(label: str, make: callable, rows: int) -> None:  # type: ignore[valid-type]
    results = {}
    for name, fn in (("ours", _ours), ("orm_batched", _orm_batched), ("naive", _naive)):
        engine = make(name)
        upgrade(engine.url.render_as_string(hide_password=False))
        _fill(engine, rows)
        sealed = _texts(engine)
        opener = seal.Sealer(KEY_A)
        plain = {k: opener.open(v, "sos.text") for k, v in sealed.items()}
        start = time.perf_counter()
        fn(engine)
        results[name] = time.perf_counter() - start
        _check(engine, plain)
        engine.dispose()
    ours = results["ours"]
    print(f"{label}: {rows:,} sealed values")
    for name, took in results.items():
        print(f"  {name:12} {took:8.2f} s  {rows / took:10,.0f} values/s  "
              f"({took / ours:.1f}x ours)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--pg", default="", help="admin DSN, e.g. postgresql://postgres@127.0.0.1/postgres")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        _run("SQLite (WAL, synchronous=FULL)",
             lambda name: make_engine(f"sqlite:///{Path(tmp) / name}.db", pool_size=2), args.rows)
    if args.pg:
        made: list[str] = []

        def make_pg(name: str) -> Engine:
            db = f"tocsin_bench_keys_{name}_{uuid.uuid4().hex[:6]}"
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db}"')
            made.append(db)
            return make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}", pool_size=2)

        try:
            _run("PostgreSQL", make_pg, args.rows)
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                for db in made:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
