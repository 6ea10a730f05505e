"""Deliver one answer to a page late, to test that a page drops an answer older than its state.

The race tests (``tests/web/test_*_race.py``) route a request through ``HeldAnswer``: the first
request the route matches is held back from the page, later ones pass; ``release`` hands it over.
"""

from __future__ import annotations

from playwright.sync_api import APIResponse, Route


class HeldAnswer:
    """The first request a route matches, held back from the page until ``release``.

    ``fetch=True`` lets the server answer that request at once (the state of that moment) and
    delivers the answer later: for timed reads, where a held request would reach the server only
    after the user's action and bring back the new state, hiding the bug.
    """

    def __init__(self, *, fetch: bool = False) -> None:
        self.fetch = fetch
        self.held: list[tuple[Route, APIResponse | None]] = []

    def __call__(self, route: Route) -> None:
        if self.held:
            route.continue_()
        else:
            self.held.append((route, route.fetch() if self.fetch else None))

    def __len__(self) -> int:
        return len(self.held)

    def release(self) -> None:
        """Hand the held request (or its early answer) to the page."""
        route, answer = self.held[0]
        if answer is None:
            route.continue_()
        else:
            route.fulfill(response=answer)
