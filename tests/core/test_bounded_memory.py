"""The in-memory structures a worker keeps per request stay bounded at a steady rate.

A soak at a steady SOS rate must show flat memory: the dedup memory of each bus subscription
and the rate limiter's buckets must stop growing once they cover their window, instead of
growing to a large count cap.
"""

from __future__ import annotations

from tocsin.core.bus import SeenIds
from tocsin.core.ratelimit import TokenBucket
from tocsin.sos.config import SosSettings
from tocsin.sos.limits import SosLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_seen_ids_remember_an_id_for_its_window_then_forget_it() -> None:
    clock = Clock()
    seen = SeenIds(capacity=1_000_000, ttl_s=60, clock=clock)
    assert seen.first_time("a")
    clock.now += 59
    assert not seen.first_time("a")  # a redelivery inside the window is dropped
    clock.now += 2  # 61 s: the generation holding "a" is retired but still consulted
    assert seen.first_time("b")
    assert not seen.first_time("a")
    clock.now += 60  # 121 s after "a": its generation is gone
    assert seen.first_time("c")
    assert seen.first_time("a")


def test_seen_ids_at_a_steady_rate_stop_growing_after_two_windows() -> None:
    clock = Clock()
    seen = SeenIds(capacity=1_000_000, ttl_s=10, clock=clock)
    sizes = []
    for second in range(100):
        for n in range(50):  # 50 new ids a second
            assert seen.first_time(f"{second}-{n}")
        clock.now += 1
        sizes.append(len(seen))
    assert max(sizes[25:]) <= 20 * 50 + 50  # at most two windows of ids
    assert max(sizes[25:]) == max(sizes[60:])  # flat, not growing with the count served


def test_seen_ids_count_bound_holds_under_a_flood() -> None:
    seen = SeenIds(capacity=1_000, ttl_s=3600, clock=Clock())
    for n in range(10_000):
        seen.first_time(str(n))
    assert len(seen) <= 1_000
    assert not seen.first_time("9999")  # the latest ids are still remembered
    assert "0" not in seen


def test_seen_ids_forget_lets_a_failed_event_be_handled_again() -> None:
    seen = SeenIds(ttl_s=60, clock=Clock())
    assert seen.first_time("x")
    seen.forget("x")
    assert seen.first_time("x")


def test_token_bucket_drops_keys_that_have_refilled() -> None:
    clock = Clock()
    bucket = TokenBucket(60, burst=5, clock=clock)  # one token a second, full after 5 s
    for n in range(1_000):  # a new client every 10 ms
        assert bucket.hit(f"client-{n}") == 0
        clock.now += 0.01
    # Only the clients of the last ~5 s are kept, not all 1,000 (nor max_keys).
    assert 490 <= len(bucket) <= 510


def test_token_bucket_forgetting_a_key_changes_no_answer() -> None:
    clock = Clock()
    bucket = TokenBucket(60, burst=2, clock=clock)
    assert bucket.hit("k") == 0
    assert bucket.hit("k") == 0
    assert bucket.hit("k") > 0  # empty: refused
    clock.now += 1.5
    bucket.hit("other")  # not yet refilled: "k" is kept, with its partial bucket
    assert bucket.hit("k") == 0
    assert bucket.hit("k") > 0
    clock.now += 10
    bucket.hit("other")  # "k" refilled and dropped
    assert len(bucket) == 1
    assert bucket.hit("k") == 0 and bucket.hit("k") == 0  # a full bucket again, as before
    assert bucket.hit("k") > 0


def test_sos_limiter_memory_follows_recent_devices() -> None:
    clock = Clock()
    limiter = SosLimiter(SosSettings(device_memory_s=60, address_new_per_minute=10**9,
                                     address_new_burst=10**9), clock=clock)
    for n in range(6_000):  # 10 new devices a second for 10 minutes
        limiter.check_intake(address="1.2.3.4", device_token=f"dev-{n}", client_id="c")
        clock.now += 0.1
    assert len(limiter._seen) <= 2 * 60 * 10 + 10
    assert len(limiter.device) <= 31 * 10  # device buckets refill in 30 s (burst 10, 20/min)
