"""Waiting on a condition instead of sleeping a fixed time: one helper for threads, one for asyncio.

A fixed sleep is either too short on a loaded machine (the test fails for nothing) or too long
everywhere (the suite crawls), and it proves nothing about what it waited for. These poll the
condition and fail with the caller's description when it does not come true in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 10.0, *, what: str = "condition",
             every: float = 0.05) -> T:
    """Call ``check`` until it returns a truthy value and return that value."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(every)
    return value


async def async_wait_for(check: Callable[[], object], timeout: float = 10.0, *,
                         what: str = "condition", every: float = 0.02) -> float:
    """Await until ``check()`` is truthy, without blocking the loop; return the seconds waited."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():
        if loop.time() - start > timeout:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(every)
    return loop.time() - start


async def async_holds(check: Callable[[], object], seconds: float, *,
                      what: str = "condition", every: float = 0.02) -> None:
    """Assert ``check()`` stays truthy for ``seconds`` (e.g. no extra delivery arrives).

    Absence cannot be waited for; this is the one honest form of it: it watches the whole
    window and fails at the first moment the condition breaks, saying so.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        assert check(), f"{what} broke during the {seconds} s window"
        await asyncio.sleep(every)
    assert check(), f"{what} broke at the end of the {seconds} s window"
