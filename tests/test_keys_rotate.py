"""``tocsin keys rotate``: every sealed field re-sealed under the new key, none left readable
with the old key alone; resumable, idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, LargeBinary, func, insert, select, type_coerce, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import SEAL_KEY
from tests.factories import login
from tests.persons.helpers import sample
from tests.shelter.helpers import make_offer, make_request
from tests.sos.factories import post_sos
from tocsin.cli import app
from tocsin.core import keys, seal
from tocsin.core.db import make_engine, session_scope, utcnow
from tocsin.core.outbox import OutboxEvent, add_event
from tocsin.core.settings import Settings, get_settings
from tocsin.models import metadata
from tocsin.sos.models import Sos

runner = CliRunner()
NEW_KEY = seal.generate_key()

Snapshot = dict[tuple[str, tuple[object, ...]], bytes]


@pytest.fixture
def rotation_env(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("TOCSIN_SEAL_KEY", SEAL_KEY)
    monkeypatch.delenv("TOCSIN_SEAL_OLD_KEYS", raising=False)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _populate(client: TestClient) -> None:
    """Sealed values in several domains and the core: SOS, shelter, persons, 2FA secret, and
    outbox events (published ones, kept an hour, and one still pending)."""
    for _ in range(3):
        post_sos(client)
    make_offer(client)
    make_request(client)
    authority = login(client, "authority")
    imported = client.post("/api/v1/persons/import", content=sample("test.pfif-1.2.xml"),
                           headers={**authority, "Content-Type": "application/xml"})
    assert imported.status_code == 200, imported.text
    from tests.core.test_mfa import activation_code

    assert client.post("/api/v1/auth/mfa/totp", headers=authority,
                       json={"activation_code": activation_code(client, authority)}
                       ).status_code == 200
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        # Pending, held by a worker's lease that has not run out: no relay takes it meanwhile.
        add_event(session, "probe.pending", {"secret": "pending during the rotation"})
        session.flush()
        session.execute(update(OutboxEvent).where(OutboxEvent.subject == "probe.pending")
                        .values(claimed_by="gone", claimed_until=utcnow() + dt.timedelta(hours=1)))
    _settle(runtime.engine)


def _settle(engine: Engine, parked: int = 1) -> None:
    """Wait until consumers stop adding events (dispatch reacts to the SOS with its own)."""
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            rows = conn.scalar(select(func.count()).select_from(OutboxEvent))
            pending = conn.scalar(select(func.count()).select_from(OutboxEvent)
                                  .where(OutboxEvent.published_at.is_(None)))
        if rows != last:
            last, stable_since = rows, time.monotonic()
        elif pending == parked and time.monotonic() - stable_since > 1.0:
            return
        time.sleep(0.1)
    raise AssertionError("the outbox did not settle")


def _raw_values(engine: Engine) -> Snapshot:
    """Every non-null sealed value in the database, as stored, keyed by column and row."""
    values: Snapshot = {}
    with engine.connect() as conn:
        for column in keys.sealed_columns(metadata):
            pk = list(column.table.primary_key.columns)
            query = select(*pk, type_coerce(column.column, LargeBinary)).where(
                column.column.is_not(None))
            for row in conn.execute(query):
                values[(column.name, tuple(row[:-1]))] = bytes(row[-1])
    return values


def _opened(values: Snapshot, sealer: seal.Sealer) -> dict[tuple[str, tuple[object, ...]], bytes]:
    contexts = {c.name: c.context for c in keys.sealed_columns(metadata)}
    return {k: sealer.open(v, contexts[k[0]]) for k, v in values.items()}


def test_sealed_columns_are_discovered_from_the_metadata() -> None:
    names = {c.name for c in keys.sealed_columns(metadata)}
    assert {"sos.text", "shelter_offer.address", "person.author_email", "mfa_totp.secret",
            "safety_mark.position", "alert_subscription.keys", "outbox_event.payload"} <= names


def test_rotation_reseals_everything_and_the_old_key_opens_nothing(
    client: TestClient, rotation_env: Settings
) -> None:
    _populate(client)
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    before = _raw_values(engine)
    tables = {name.split(".")[0] for name, _ in before}
    assert {"sos", "shelter_offer", "shelter_request", "person", "mfa_totp",
            "outbox_event"} <= tables
    plain = _opened(before, seal.Sealer(SEAL_KEY))

    refused = runner.invoke(app, ["keys", "rotate", "--new-key", NEW_KEY], input="n\n")
    assert refused.exit_code == 1 and "TOCSIN_SEAL_OLD_KEYS" in refused.output
    assert _raw_values(engine) == before  # nothing changed

    done = runner.invoke(app, ["keys", "rotate", "--new-key", NEW_KEY, "--yes",
                               "--batch-size", "2"])
    assert done.exit_code == 0, done.output
    assert f"re-sealed {len(before)} values; 0 left" in done.output

    after = _raw_values(engine)
    assert after.keys() == before.keys()
    assert _opened(after, seal.Sealer(NEW_KEY)) == plain
    old_only = seal.Sealer(SEAL_KEY)
    contexts = {c.name: c.context for c in keys.sealed_columns(metadata)}
    for (name, _), blob in after.items():
        with pytest.raises(seal.SealError):
            old_only.open(blob, contexts[name])

    # The workers, restarted with the new key, read everything back through the models: a
    # worker's keyring is the one attached to its engines (a restart attaches the new one).
    seal.configure(seal.Sealer(NEW_KEY))
    seal.attach(engine, seal.Sealer(NEW_KEY))
    authority = login(client, "authority")
    assert client.get("/api/v1/auth/mfa", headers=authority).status_code == 200
    with Session(engine) as session:
        pending = session.scalars(select(OutboxEvent).where(
            OutboxEvent.subject == "probe.pending")).one()
        assert pending.payload["data"] == {"secret": "pending during the rotation"}


def test_rotation_resumes_and_a_second_run_changes_nothing(
    client: TestClient, rotation_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(client)
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    total = len(_raw_values(engine))
    # An interrupted run: only the first sealed column was done.
    sealer = seal.Sealer(NEW_KEY, [SEAL_KEY])
    first = next(c for c in keys.sealed_columns(metadata) if c.name == "sos.text")
    partial = keys.rotate_column(engine, first, sealer)
    assert partial.resealed == 3 and partial.left == 0

    # The operator switched the workers: new key current, old key for reading.
    monkeypatch.setenv("TOCSIN_SEAL_KEY", NEW_KEY)
    monkeypatch.setenv("TOCSIN_SEAL_OLD_KEYS", SEAL_KEY)
    get_settings.cache_clear()
    check = runner.invoke(app, ["keys", "rotate", "--check"])
    assert check.exit_code == 0 and f"total: {total - 3} to re-seal" in check.output
    resumed = runner.invoke(app, ["keys", "rotate"])
    assert resumed.exit_code == 0, resumed.output
    assert f"re-sealed {total - 3} values; 0 left" in resumed.output
    assert "empty TOCSIN_SEAL_OLD_KEYS" in " ".join(resumed.output.split())
    again = runner.invoke(app, ["keys", "rotate"])
    assert again.exit_code == 0 and "re-sealed 0 values; 0 left" in again.output


def test_values_under_an_unknown_key_are_reported_not_lost(
    client: TestClient, rotation_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_sos(client)
    _settle(client.app.state.runtime.engine, parked=0)  # type: ignore[attr-defined]
    # Rotate from a key the command is not given: it cannot open the values, says so, exits 1.
    monkeypatch.setenv("TOCSIN_SEAL_KEY", seal.generate_key())
    get_settings.cache_clear()
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    before = _raw_values(engine)
    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code == 1 and "unreadable" in result.output
    assert _raw_values(engine) == before


def test_bad_keys_and_options_exit_2(rotation_env: Settings) -> None:
    assert runner.invoke(app, ["keys", "rotate", "--new-key", "short"]).exit_code == 2
    both = runner.invoke(app, ["keys", "rotate", "--new-key", NEW_KEY, "--generate"])
    assert both.exit_code == 2


def test_rotation_commits_batch_by_batch_and_an_interrupted_one_resumes(
    settings: Settings,
) -> None:
    """Issue 18 ("SOS first"): each batch is its own short transaction; killed after three
    batches, three batches stay re-sealed and the next run re-seals the rest, every row."""
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Sos), [
                {"id": uuid.uuid4().hex, "client_hash": uuid.uuid4().hex, "token_hash": "t",
                 "lat": 48.86, "lon": 2.37, "accuracy_m": 10.0, "situation": "attack",
                 "text": f"help {i}", "status": "open", "received_at": utcnow()}
                for i in range(53)])
        column = next(c for c in keys.sealed_columns(metadata) if c.name == "sos.text")
        plain = _opened(_raw_values(engine), seal.Sealer(SEAL_KEY))
        sealer = seal.Sealer(NEW_KEY, [SEAL_KEY])
        commits: list[int] = []

        def killed_after_three(n: int) -> None:
            commits.append(keys.count_left(engine, column, sealer.current_key_id))
            if len(commits) == 3:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            keys.rotate_column(engine, column, sealer, batch_size=10, advance=killed_after_three)
        assert commits == [43, 33, 23]  # each batch committed before the next began
        resumed = keys.rotate_column(engine, column, sealer, batch_size=10)
        assert (resumed.resealed, resumed.left, resumed.already) == (23, 0, 0)
        assert _opened(_raw_values(engine), sealer) == plain
        with pytest.raises(seal.SealError):
            seal.Sealer(SEAL_KEY).open(next(iter(_raw_values(engine).values())), "sos.text")
    finally:
        engine.dispose()
