"""Cost of sealing event payloads on the NATS wire: ``python -m bench.bus_seal [--events N]``.

Each event is encoded for publishing and decoded by a consumer, N times, two ways in the same
run: ours (``tocsin.core.bus.wire``: routing fields in clear, ``data`` sealed with AES-256-GCM,
base64) and the naive plain JSON the bus sent before (``Event.model_dump_json`` /
``model_validate_json``, nothing sealed). The events are the real shapes the SOS path publishes
(``sos.created``, ``sos.position``, ``incident.updated``). Every decoded event is checked equal to
the one sent. What it tells: the microseconds sealing adds per event and per side, to compare
with the relay's and the consumers' own work.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

from tocsin.core import seal
from tocsin.core.bus import Event, wire


def _events() -> list[Event]:
    at = "2026-11-13T21:25:00.123456+00:00"
    return [
        Event(subject="sos.created", data={
            "sos_id": "a196698ad2734d6aa68e1aed23af192c", "lat": 48.8631, "lon": 2.3708,
            "accuracy_m": 12.5, "situation": "hidden", "people": 3, "received_at": at}),
        Event(subject="sos.position", data={
            "sos_id": "a196698ad2734d6aa68e1aed23af192c", "lat": 48.86118083, "lon": 2.37,
            "accuracy_m": 8.0, "at": at}),
        Event(subject="incident.updated", data={
            "incident_id": "4eb9fc379e574cd5ad84424ddf35c898", "status": "open", "priority": 2,
            "situation": "hidden", "sos_count": 1, "lat": 48.8631, "lon": 2.3708,
            "opened_at": at, "last_sos_at": at, "merged_into": None}),
    ]


def _time(n: int, events: list[Event], encode: Callable[[Event], bytes],
          decode: Callable[[bytes], Event]) -> tuple[float, float, int]:
    wires = [encode(e) for e in events]
    for raw, event in zip(wires, events, strict=True):
        assert decode(raw) == event
    rounds = max(1, n // len(events))
    start = time.perf_counter()
    for _ in range(rounds):
        for event in events:
            encode(event)
    enc = (time.perf_counter() - start) / (rounds * len(events))
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in wires:
            decode(raw)
    dec = (time.perf_counter() - start) / (rounds * len(events))
    return enc * 1e6, dec * 1e6, sum(map(len, wires)) // len(wires)


def main() -> None:
    """Run both ways and print per-event costs and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=60_000)
    args = parser.parse_args()
    seal.configure(seal.Sealer(seal.generate_key()))
    events = _events()
    ours = _time(args.events, events, wire.encode, wire.decode)
    naive = _time(args.events, events, lambda e: e.model_dump_json().encode(),
                  Event.model_validate_json)
    print(f"bus payload sealing on {platform.node()}: Python {platform.python_version()}, "
          f"{args.events} events of 3 shapes")
    print(f"{'':18}{'encode µs':>10}{'decode µs':>10}{'bytes':>8}")
    print(f"{'sealed (ours)':18}{ours[0]:10.1f}{ours[1]:10.1f}{ours[2]:8d}")
    print(f"{'plain (naive)':18}{naive[0]:10.1f}{naive[1]:10.1f}{naive[2]:8d}")
    print(f"sealing costs x{ours[0] / naive[0]:.1f} to encode (+{ours[0] - naive[0]:.1f} µs), "
          f"x{ours[1] / naive[1]:.1f} to decode (+{ours[1] - naive[1]:.1f} µs) per event")


if __name__ == "__main__":
    main()
