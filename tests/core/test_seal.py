"""Sealed fields: encrypted at rest, bound to their column, readable only with the key."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, select, text
from sqlalchemy.orm import Session

from tocsin.core import seal
from tocsin.core.seal import SealedJSON, SealedText, Sealer, SealError, SealKeyError

SECRET = "Caché dans la loge technique, 2e étage, 3 personnes"


def test_seal_round_trip_and_context_binding() -> None:
    sealer = Sealer(seal.generate_key())
    blob = sealer.seal(SECRET.encode(), "sos.text")
    assert SECRET.encode() not in blob
    assert sealer.open(blob, "sos.text").decode() == SECRET
    with pytest.raises(SealError):
        sealer.open(blob, "shelter.address")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(SealError):
        sealer.open(tampered, "sos.text")


def test_rotation_reads_old_values_and_writes_with_the_new_key() -> None:
    old, new = seal.generate_key(), seal.generate_key()
    before = Sealer(old).seal(b"trail", "sos.trail")
    rotated = Sealer(new, [old])
    assert rotated.open(before, "sos.trail") == b"trail"
    with pytest.raises(SealError):
        Sealer(new).open(before, "sos.trail")
    with pytest.raises(SealError):
        Sealer(old).open(rotated.seal(b"x", "c"), "c")


def test_bad_keys_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SealKeyError):
        Sealer("not-a-key")
    with pytest.raises(SealKeyError):
        seal.load_sealer(key="", old_keys="", var_dir=tmp_path, allow_generate=False)
    generated = seal.load_sealer(key="", old_keys="", var_dir=tmp_path, allow_generate=True)
    again = seal.load_sealer(key="", old_keys="", var_dir=tmp_path, allow_generate=True)
    assert again.open(generated.seal(b"a", "c"), "c") == b"a"
    assert (tmp_path / "seal.key").stat().st_mode & 0o077 == 0


def test_sealed_columns_hold_no_plaintext_at_rest(db: Session, mode: str) -> None:
    metadata = MetaData()
    table = Table(
        "sealed_probe",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("note", SealedText("probe.note")),
        Column("trail", SealedJSON("probe.trail")),
    )
    metadata.create_all(db.connection())
    trail = [{"lat": 48.863, "lon": 2.370, "at": "2015-11-13T21:40:00Z"}]
    db.execute(insert(table).values(id=1, note=SECRET, trail=trail))
    db.flush()
    raw_note, raw_trail = db.execute(text("SELECT note, trail FROM sealed_probe")).one()
    assert b"loge" not in bytes(raw_note) and b"48.863" not in bytes(raw_trail)
    assert db.execute(select(table.c.note, table.c.trail)).one() == (SECRET, trail)
    if mode == "embedded":
        db.commit()
        path = db.get_bind().url.database
        assert path is not None
        db.execute(text("PRAGMA wal_checkpoint(FULL)"))
        for suffix in ("", "-wal"):
            with open(path + suffix, "rb") as handle:
                assert b"loge technique" not in handle.read()
        metadata.drop_all(db.connection())
        db.commit()


def test_each_engine_seals_with_its_own_attached_key() -> None:
    """Two workers in one process hold different keys (issue 24): the sealer is the engine's.

    Fails with a process-wide sealer: the second ``attach`` would replace the first's key and
    engine one would seal under key two.
    """
    from tocsin.core.db import make_engine

    table = Table("sealed_probe", MetaData(), Column("id", Integer, primary_key=True),
                  Column("secret", SealedText("sealed_probe.secret")))
    one_key, two_key = seal.generate_key(), seal.generate_key()
    one, two = make_engine("sqlite://", pool_size=1), make_engine("sqlite://", pool_size=1)
    seal.attach(one, Sealer(one_key))
    seal.attach(two, Sealer(two_key))
    for engine in (one, two):
        table.create(engine)
        with engine.begin() as conn:
            conn.execute(insert(table).values(id=1, secret=SECRET))
    raw = Table("sealed_probe", MetaData(), Column("id", Integer), Column("secret", LargeBinary))
    for engine, key in ((one, one_key), (two, two_key)):
        with engine.connect() as conn:
            assert conn.scalar(select(table.c.secret)) == SECRET
            blob = conn.scalar(select(raw.c.secret))
        assert seal.key_id_of_blob(blob) == seal.key_id(key)
    # Engine one's value does not open with engine two's key.
    with one.connect() as conn:
        blob = conn.scalar(select(raw.c.secret))
    with pytest.raises(SealError):
        Sealer(two_key).open(blob, "sealed_probe.secret")
    one.dispose()
    two.dispose()


def test_two_runtimes_in_one_process_keep_their_own_sealers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``build_runtime`` attaches its key to its engine and bus; it installs nothing process-wide.

    Fails if building the second worker changes the sealer the first one's engine uses.
    """
    from tocsin.app import build_runtime
    from tocsin.core.settings import Settings

    runtimes = []
    for name in ("one", "two"):
        var = tmp_path / name
        runtimes.append(build_runtime(Settings(
            var_dir=var, database_url=f"sqlite:///{tmp_path / name}.db", bus_url="memory://",
            seal_key=seal.generate_key())))
    one, two = runtimes
    assert one.sealer.current_key_id != two.sealer.current_key_id
    assert seal.sealer_of(one.engine.dialect) is one.sealer
    assert seal.sealer_of(two.engine.dialect) is two.sealer
    for runtime in runtimes:
        runtime.engine.dispose()


def test_fast_inserts_seal_with_their_own_engines_key() -> None:
    """``tocsin.core.db.insert_rows`` (the SOS intake's INSERT) seals with its engine's key.

    Fails when its statements and bind processors are cached per dialect *name*: the second
    engine then used the first engine's processors, sealed with the first worker's key, and
    its own reads failed ("sealed with a key this deployment does not hold") — seen when two
    live servers ran in one test process.
    """
    from tocsin.core.db import insert_rows, make_engine

    table = Table("sealed_fast", MetaData(), Column("id", Integer, primary_key=True),
                  Column("secret", SealedText("sealed_fast.secret")))
    keys = [seal.generate_key(), seal.generate_key()]
    engines = [make_engine("sqlite://", pool_size=1) for _ in keys]
    for engine, key in zip(engines, keys, strict=True):
        seal.attach(engine, Sealer(key))
        table.create(engine)
        with Session(engine) as session:
            insert_rows(session, table, [{"id": 1, "secret": SECRET}])
            session.commit()
    raw = Table("sealed_fast", MetaData(), Column("id", Integer), Column("secret", LargeBinary))
    for engine, key in zip(engines, keys, strict=True):
        with engine.connect() as conn:
            assert seal.key_id_of_blob(conn.scalar(select(raw.c.secret))) == seal.key_id(key)
            assert conn.scalar(select(table.c.secret)) == SECRET
        engine.dispose()
