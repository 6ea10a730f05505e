"""Live connections are bounded per client address and per worker (issue 19: one client had
opened 300 unauthenticated ``/alerts/stream`` connections)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import httpx
from fastapi import FastAPI

from tests.served import serve_in_thread as serve
from tocsin.core import live
from tocsin.core.live import LiveSettings

S = "/api/v1/alerts/stream"
SSE = {"Accept": "text/event-stream"}


@contextlib.contextmanager
def streams(base: str) -> Iterator[Callable[[], httpx.Response]]:
    """Open streams (headers only, bodies left unread) and close them all at the end."""
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(httpx.Client(timeout=httpx.Timeout(10)))

        def open_one() -> httpx.Response:
            return stack.enter_context(client.stream("GET", f"{base}{S}", headers=SSE))

        yield open_one


def _admitted_soon(app: FastAPI, count: int) -> None:
    """The server gives a slot back once it sees the client gone."""
    deadline = time.monotonic() + 10
    while live.hub(app.state.runtime).admitted != count:
        assert time.monotonic() < deadline, "slot not given back"
        time.sleep(0.05)


def test_one_address_is_held_to_its_live_connections(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()
    per_address = LiveSettings().per_address
    with serve(app) as base:
        with streams(base) as open_stream:
            opened = [open_stream().status_code for _ in range(per_address)]
            assert opened == [200] * per_address
            refused = open_stream()
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
            assert live.hub(app.state.runtime).admitted == per_address
        _admitted_soon(app, 0)  # closed: every slot given back
        with streams(base) as open_stream:
            assert open_stream().status_code == 200


def test_a_full_worker_answers_503(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()
    live.hub(app.state.runtime).limits = LiveSettings(total=3, per_address=10)
    with serve(app) as base, streams(base) as open_stream:
        assert [open_stream().status_code for _ in range(3)] == [200] * 3
        refused = open_stream()
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
