"""Sign-in throttle: back-off on failed passwords and codes, by address and by account name.

Replaces the account lockout (issue 19, finding 12). A lockout let anyone shut a real person
out with five wrong passwords, and since only existing accounts ever locked, it told which
names exist. Here every failure is counted under three keys, each with its own back-off:

* the pair (name, address): the person guessing one account from one place waits 30 s after
  the 5th failure, doubling to 15 min; the owner elsewhere is not concerned;
* the address alone: one address trying many names (password spraying) waits after 20;
* the name alone, over all addresses: a guess spread over many addresses waits after 50, but
  only at addresses that never signed in to that account (the owner's usual address stays
  open, so even a botnet cannot lock them out there).

Keys are the *name as typed*, whether or not such an account exists, so an unknown name is
throttled exactly as a real one. A throttled attempt is answered 429 before the password is
even checked, so a right password behind a back-off tells nothing either.

Kept in the worker's memory, like ``tocsin.core.ratelimit``, rather than in the database: a
failure then costs no write (a flood of wrong passwords must not become a flood of writes
competing with SOS intake), names that are no account are never stored, and nothing needs
cleaning up. The price: with N workers a guesser gets N times the budget, and a restart
forgets the counts; both still leave guessing at a few tries a minute at most.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request

from tocsin.core.errors import DomainError
from tocsin.core.ratelimit import client_address
from tocsin.core.state import States


class Throttled(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-in attempts; retry in {retry_after} s",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class Backoff:
    """Per key: ``free`` failures, then a wait of ``first_s`` doubling up to ``cap_s``.

    A key with no failure for ``forget_s`` after its wait ended starts afresh (and is dropped,
    so memory follows the keys that failed recently). At most ``max_keys`` keys: past that the
    oldest is dropped, which only ever makes the throttle more lenient, never harsher.
    """

    def __init__(self, *, free: int, first_s: float, cap_s: float, forget_s: float,
                 max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.first_s, self.cap_s, self.forget_s = free, first_s, cap_s, forget_s
        self.max_keys = max_keys
        self.clock = clock
        # key -> (failures, time the current wait ends); ordered by last failure.
        self._keys: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def _live(self, key: str, now: float) -> tuple[int, float]:
        entry = self._keys.get(key)
        if entry is None:
            return 0, now
        if now - entry[1] >= self.forget_s:
            del self._keys[key]
            return 0, now
        return entry

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            _, until = self._live(key, now)
            self._drop_forgotten(now)
        return max(0.0, until - now)

    def fail(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            failures, until = self._live(key, now)
            failures += 1
            if failures >= self.free:
                until = now + min(self.first_s * 2 ** (failures - self.free), self.cap_s)
            self._keys.pop(key, None)
            self._keys[key] = (failures, max(until, now))
            if len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)

    def clear(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)

    def _drop_forgotten(self, now: float) -> None:
        for _ in range(4):  # a few per call: each key is dropped once
            key = next(iter(self._keys), None)
            if key is None or now - self._keys[key][1] < self.forget_s:
                return
            del self._keys[key]


class LoginThrottle:
    """The three back-offs of one worker, and the addresses each name signed in from."""

    PAIR_FREE = 5
    ADDRESS_FREE = 20
    ACCOUNT_FREE = 50

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.pair = Backoff(free=self.PAIR_FREE, first_s=30, cap_s=900, forget_s=3600,
                            clock=clock)
        self.address = Backoff(free=self.ADDRESS_FREE, first_s=30, cap_s=3600, forget_s=3600,
                               clock=clock)
        self.account = Backoff(free=self.ACCOUNT_FREE, first_s=60, cap_s=3600, forget_s=3600,
                               clock=clock)
        self._known: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _pair(name: str, address: str) -> str:
        return f"{name}\x00{address}"

    def check(self, name: str, address: str, *, known: Callable[[], bool] = lambda: False) -> None:
        """Raise ``Throttled`` while ``name`` may not be tried from ``address``.

        ``known`` says whether the account signed in from there before (asked only when the
        account-wide back-off applies: it may cost a query).
        """
        wait = max(self.pair.wait(self._pair(name, address)), self.address.wait(address))
        if not wait:
            account_wait = self.account.wait(name)
            if account_wait and not self._is_known(name, address) and not known():
                wait = account_wait
        if wait:
            raise Throttled(math.ceil(wait))

    def failed(self, name: str, address: str) -> None:
        self.pair.fail(self._pair(name, address))
        self.address.fail(address)
        self.account.fail(name)

    def succeeded(self, name: str, address: str) -> None:
        """Both factors passed: forget this pair's failures and remember the address."""
        self.pair.clear(self._pair(name, address))
        key = self._pair(name, address)
        with self._lock:
            self._known.pop(key, None)
            self._known[key] = None
            if len(self._known) > 100_000:
                self._known.popitem(last=False)

    def _is_known(self, name: str, address: str) -> bool:
        with self._lock:
            return self._pair(name, address) in self._known


def login_throttle(request: Request) -> LoginThrottle:
    """The worker's throttle (logins, TAXII Basic, 2FA codes and password checks share it)."""
    states: States = request.app.state.runtime.states
    return states.shared(LoginThrottle, LoginThrottle)


class Guard:
    """The throttle bound to one request's client address: check, then report the outcome."""

    def __init__(self, request: Request) -> None:
        self.throttle = login_throttle(request)
        self.address = client_address(request)

    def check(self, name: str, *, known: Callable[[], bool] = lambda: False) -> None:
        self.throttle.check(name[:64], self.address, known=known)

    def failed(self, name: str) -> None:
        self.throttle.failed(name[:64], self.address)

    def succeeded(self, name: str) -> None:
        self.throttle.succeeded(name[:64], self.address)
