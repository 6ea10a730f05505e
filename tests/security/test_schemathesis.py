"""Hostile input from the app's own OpenAPI: every operation, both modes, no 5xx, valid answers.

schemathesis generates requests for every operation of ``/openapi.json`` (valid and invalid
bodies, parameters, headers), sends them to a started worker with a token of a role the route
admits (found as the role matrix finds it), and checks each answer: never a server error, and
a body that conforms to the schema declared for its status. ``TOCSIN_FUZZ_EXAMPLES`` sets the
examples per operation (default 8: the whole run stays within a few minutes on the project VM).

Not fuzzed: the two Server-Sent Events streams (an open stream never ends a request) and logout
(it would revoke the token the other operations use); both have their own tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.generation.case import Case

from tests.factories import login
from tests.test_role_matrix import api_routes
from tocsin.app import create_app
from tocsin.core import seal
from tocsin.core.auth.permissions import Allow
from tocsin.core.auth.roles import Role
from tocsin.core.settings import Settings

EXAMPLES = int(os.environ.get("TOCSIN_FUZZ_EXAMPLES", "8"))
SKIPPED = {("GET", "/api/v1/alerts/stream"), ("GET", "/api/v1/dispatch/stream"),
           ("POST", "/api/v1/auth/logout")}


class Fuzzed:
    """A started worker, a token per role, and which roles each operation admits."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.tokens = {role: login(client, role) for role in Role}
        self.admits: dict[tuple[str, str], frozenset[Role]] = {}
        for path, methods, declared in api_routes(client.app):  # type: ignore[arg-type]
            for method in methods:
                if isinstance(declared, Allow):
                    self.admits[(method, path)] = declared.roles

    def headers_for(self, case: Case) -> dict[str, str]:
        roles = self.admits.get((case.method.upper(), case.operation.path))
        if not roles:
            return {}
        role = sorted(roles, key=lambda r: r.value)[0]
        return self.tokens[role]


@pytest.fixture(scope="module")
def fuzzed(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Fuzzed]:
    """One worker for the whole module (per mode): a fresh copy of the migrated database."""
    from tests.conftest import SEAL_KEY, _delete_stream

    seal.configure(seal.Sealer(SEAL_KEY))
    var = tmp_path_factory.mktemp("fuzz")
    update: dict[str, object] = {"var_dir": var, "public_rate_per_minute": 1_000_000,
                                 "login_rate_per_minute": 1_000_000}
    if base_settings.is_sqlite:
        import shutil

        template = Path(base_settings.resolved_database_url.removeprefix("sqlite:///"))
        shutil.copy(template, var / "tocsin.db")
        update["database_url"] = f"sqlite:///{var / 'tocsin.db'}"
    else:
        update["bus_stream"] = f"{base_settings.bus_stream}_FUZZ"
        update["bus_prefix"] = f"{base_settings.bus_prefix}fuzz"
    own = base_settings.model_copy(update=update)
    with TestClient(create_app(own), raise_server_exceptions=False) as client:
        yield Fuzzed(client)
    if not own.is_sqlite:
        import asyncio

        from sqlalchemy import text

        from tocsin.core.db import Base, make_engine

        asyncio.run(_delete_stream(own))
        engine = make_engine(own.resolved_database_url, pool_size=1)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation of the OpenAPI document, read at collection."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tocsin-openapi-") as var:
        document = create_app(Settings(var_dir=Path(var), bus_url="memory://")).openapi()
    return sorted((method.upper(), path) for path, ops in document["paths"].items()
                  for method in ops)


@pytest.fixture(scope="module")
def api_schema(fuzzed: Fuzzed) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(fuzzed.client.get("/openapi.json").json())


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_api_answers_hostile_input_without_5xx_and_to_schema(
    method: str, path: str, fuzzed: Fuzzed, api_schema: schemathesis.BaseSchema
) -> None:
    if (method, path) in SKIPPED:
        pytest.skip("stream or token-revoking operation: tested on its own")
    operation = api_schema.find_operation_by_path(method, path)
    assert operation is not None, (method, path)
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Case) -> None:
        kwargs = case.as_transport_kwargs(base_url=str(fuzzed.client.base_url),
                                          headers=fuzzed.headers_for(case))
        kwargs.pop("cookies", None)  # the API reads no cookie; per-request cookies are deprecated
        if isinstance(kwargs.get("data"), bytes | str):  # raw bodies go as content= in httpx
            kwargs["content"] = kwargs.pop("data")
        response = fuzzed.client.request(**kwargs)
        try:  # schemathesis reports the request body; a multipart one is an unread stream
            response.request.read()
        except Exception:  # its file parts were consumed by the call: report it as elided
            response.request._content = b"<multipart body>"
        case.validate_response(response, checks=[checks.not_a_server_error,
                                                 checks.response_schema_conformance])

    run()
