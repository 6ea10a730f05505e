"""Every route declares who may call it, and everyone else is refused.

The test enumerates the app's routes (so a new route is covered the day it lands), finds the
``Allow``/``Public`` dependency each declares, and calls the route without a token and with a
token of every role not admitted: each must get 401 or 403. A route declaring neither fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.factories import login
from tocsin.core.auth.permissions import Allow, Public
from tocsin.core.auth.roles import Role

# Framework routes that are public by nature (the OpenAPI document, built static assets).
FRAMEWORK_PATHS = {"/openapi.json", "/static"}


def _declared(dependant: Dependant) -> Allow | Public | None:
    for sub in dependant.dependencies:
        if isinstance(sub.call, Allow | Public):
            return sub.call
        found = _declared(sub)
        if found is not None:
            return found
    return None


def api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], Allow | Public | None]]:
    """Yield (path, methods, declared permission) for every route of the app."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or getattr(route, "path", "")
        if isinstance(route, Mount) or path in FRAMEWORK_PATHS:
            assert path in FRAMEWORK_PATHS, f"unexpected mount or framework route {path}"
            continue
        assert isinstance(route, APIRoute), f"{path} is not a FastAPI route"
        yield path, set(route.methods or ()), _declared(route.dependant)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_declares_its_roles(client: TestClient) -> None:
    undeclared = [
        f"{sorted(methods)} {path}"
        for path, methods, declared in api_routes(client.app)  # type: ignore[arg-type]
        if declared is None
    ]
    assert undeclared == [], f"routes without allow(...) or public(): {undeclared}"


def test_roles_not_admitted_are_refused(client: TestClient) -> None:
    tokens = {role: login(client, role) for role in Role}
    checked = 0
    # Logout revokes the token it is called with: check it last.
    routes = sorted(api_routes(client.app), key=lambda r: r[0].endswith("/logout"))  # type: ignore[arg-type]
    for path, methods, declared in routes:
        if not isinstance(declared, Allow):
            continue
        url = _concrete(path)
        for method in methods - {"HEAD", "OPTIONS"}:
            kwargs: dict[str, object] = {}
            if method in {"POST", "PUT", "PATCH"}:
                kwargs["json"] = {}
            anonymous = client.request(method, url, **kwargs)  # type: ignore[arg-type]
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            for role, headers in tokens.items():
                response = client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
                if role in declared.roles:
                    assert response.status_code not in (401, 403), (method, path, role)
                else:
                    assert response.status_code == 403, (method, path, role, response.text)
                checked += 1
    assert checked >= len(Role) * 5


def test_allow_without_roles_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        Allow()
