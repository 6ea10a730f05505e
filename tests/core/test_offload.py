"""The heavy-work pool: results and domain errors come back, a full lane answers 503 at once,
a stuck or dead job is refused and the pool replaced, and the event loop keeps turning."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tocsin.core.errors import Invalid
from tocsin.core.offload import Busy, Lane, Offload


def square(n: int) -> int:
    return n * n


def refuse(what: str) -> None:
    raise Invalid(f"bad {what}", details={"field": what})


def spin(seconds: float) -> int:
    end = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < end:
        count += 1
    return count


def niceness() -> int:
    return os.nice(0)


def die() -> None:
    os._exit(3)


@pytest.fixture
def offload() -> object:
    pool = Offload()
    yield pool
    pool.close()


def test_result_comes_back_from_a_lower_priority_process(offload: Offload) -> None:
    async def go() -> tuple[int, int]:
        lane = Lane("t")
        return await offload.run(lane, square, 7), await offload.run(lane, niceness)

    result, nice = asyncio.run(go())
    assert result == 49
    assert nice >= os.nice(0) + 10 or nice == 19


def test_domain_error_keeps_its_status_message_and_details(offload: Offload) -> None:
    with pytest.raises(Invalid) as caught:
        asyncio.run(offload.run(Lane("t"), refuse, "xml"))
    assert caught.value.status == 422
    assert caught.value.message == "bad xml"
    assert caught.value.details == {"field": "xml"}


def test_a_full_lane_refuses_at_once_and_others_still_run(offload: Offload) -> None:
    lane = Lane("slow", concurrency=1, waiting=1, retry_after_s=7)

    async def go() -> tuple[list[object], float, int]:
        jobs = [asyncio.create_task(offload.run(lane, spin, 0.4)) for _ in range(2)]
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        with pytest.raises(Busy) as caught:
            await offload.run(lane, spin, 0.4)
        refused_in = time.perf_counter() - start
        assert caught.value.headers == {"Retry-After": "7"}
        other = await offload.run(Lane("other"), square, 3)
        return list(await asyncio.gather(*jobs)), refused_in, other

    done, refused_in, other = asyncio.run(go())
    assert len(done) == 2
    assert refused_in < 0.05
    assert other == 9


def test_event_loop_keeps_turning_while_heavy_work_runs(offload: Offload) -> None:
    async def go() -> float:
        job = asyncio.create_task(offload.run(Lane("cpu"), spin, 1.0))
        worst, last = 0.0, time.perf_counter()
        while not job.done():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            worst, last = max(worst, now - last), now
        await job
        return worst

    assert asyncio.run(go()) < 0.5  # a thread would hold the GIL; the loop never stops long


def test_stuck_job_is_refused_and_the_pool_replaced(offload: Offload) -> None:
    async def go() -> int:
        with pytest.raises(Busy):
            await offload.run(Lane("stuck", timeout_s=0.5), spin, 30)
        return await offload.run(Lane("t"), square, 5)

    start = time.perf_counter()
    assert asyncio.run(go()) == 25
    assert time.perf_counter() - start < 10


def test_dead_worker_is_refused_and_the_pool_replaced(offload: Offload) -> None:
    async def go() -> int:
        with pytest.raises(Busy):
            await offload.run(Lane("dies"), die)
        return await offload.run(Lane("t"), square, 6)

    assert asyncio.run(go()) == 36
