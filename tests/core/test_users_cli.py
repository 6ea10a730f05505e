"""``tocsin users``: reset a password, issue a 2FA activation code (issue 19, findings 11, 13)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.factories import PASSWORD, make_user
from tocsin.cli import app
from tocsin.core.audit.models import AuditEntry
from tocsin.core.auth import service
from tocsin.core.auth.models import AccessToken
from tocsin.core.db import make_engine, make_sessionmaker, session_scope, utcnow
from tocsin.core.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _session(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings.resolved_database_url, pool_size=1)
    return engine, make_sessionmaker(engine)


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1].strip()


def test_reset_password_prints_a_code_that_sets_a_new_one(cli_env: Settings) -> None:
    engine, factory = _session(cli_env)
    try:
        with session_scope(factory) as db:
            user = make_user(db, username="op.cli")
            service.issue_token(db, user=user, ttl=service.dt.timedelta(hours=1))
        result = runner.invoke(app, ["users", "reset-password", "op.cli"])
        assert result.exit_code == 0, result.output
        reset_code = _last_line(result.stdout)
        from tocsin.core.auth import passwords

        with session_scope(factory) as db:
            live = db.scalars(select(AccessToken).where(AccessToken.revoked_at.is_(None))).all()
            assert live == []
            with pytest.raises(service.AuthFailed):
                service.authenticate(db, username="op.cli", password=PASSWORD)
            passwords.redeem_reset(db, username="op.cli", code=reset_code,
                                   new_password="Brand-New-Secret-31")
        with session_scope(factory) as db:
            service.authenticate(db, username="op.cli", password="Brand-New-Secret-31")
            actions = [a.action for a in db.scalars(select(AuditEntry))]
            assert "password_reset_issued" in actions
            assert any(a.actor == "system:cli" for a in db.scalars(select(AuditEntry)))
    finally:
        engine.dispose()


def test_mfa_code_prints_an_activation_code(cli_env: Settings) -> None:
    engine, factory = _session(cli_env)
    try:
        with session_scope(factory) as db:
            make_user(db, username="op.cli2")
        result = runner.invoke(app, ["users", "mfa-code", "op.cli2"])
        assert result.exit_code == 0, result.output
        activation = _last_line(result.stdout)
        from tocsin.core.auth import codes

        with session_scope(factory) as db:
            user = db.scalar(select(service.UserAccount).where(
                service.UserAccount.username == "op.cli2"))
            assert user is not None
            codes.check(db, user_id=user.id, purpose=codes.MFA_ACTIVATION, code=activation,
                        now=utcnow())
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", ["reset-password", "mfa-code"])
def test_unknown_accounts_are_named_and_exit_2(cli_env: Settings, command: str) -> None:
    result = runner.invoke(app, ["users", command, "nobody"])
    assert result.exit_code == 2
    assert "nobody" in result.output
