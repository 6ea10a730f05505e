"""HTTP/1.1 clients side by side (issue 23): ``python -m bench.http_clients [--n N]``.

The same signed-webhook-sized POSTs through :class:`tocsin.core.pushhttp.Transport` with its own
keep-alive client and with ``aiohttp``, against the local TLS receiver of
``bench/push_receivers.py`` (its own process, 8 ports as 8 platform hosts), 16 requests in flight
per host as ``TOCSIN_ALERTS_PER_HOST`` allows. Each client runs twice, alternating, in one run;
reported: POSTs per CPU-second of this process (the client, TLS included) and per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path

from bench import push_receivers
from tocsin.core import push
from tocsin.core.pushhttp import Transport
from tocsin.core.pushwire import Slots


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(client: str, urls: list[str], body: bytes, per_host: int) -> tuple[float, float]:
    transport = Transport(timeout=10, per_origin=per_host, context=push.tls_context(),
                          http1=client)
    slots = {url.rsplit("/", 2)[0]: Slots(per_host) for url in urls}
    failed = 0

    async def one(url: str) -> None:
        nonlocal failed
        async with slots[url.rsplit("/", 2)[0]]:
            status, _ = await transport.post(url, body, {
                "Content-Type": "application/json", "X-Tocsin-Signature": "t=1,v1=" + "0" * 64,
                "X-Tocsin-Event": "alerts.published", "X-Tocsin-Delivery": "1"})
            failed += status != 201

    await asyncio.gather(*(one(url) for url in urls[:64]))  # connections opened
    cpu, wall = _cpu(), time.perf_counter()
    await asyncio.gather(*(one(url) for url in urls))
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    await transport.aclose()
    assert failed == 0, f"{failed} failed"
    return len(urls) / cpu, len(urls) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--per-host", type=int, default=16)
    args = parser.parse_args()
    body = b'{"alert_id":"x","cap":"' + b"x" * 3000 + b'"}'  # a CAP document is a few kB
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = push_receivers.make_ca(Path(tmp))
        os.environ["SSL_CERT_FILE"] = str(ca)
        receiver = push_receivers.start("h1", cert, key, ports=args.hosts)
        try:
            urls = [f"{receiver.bases[i % args.hosts]}/hook/{i}" for i in range(args.n)]
            print(f"{args.n:,} POSTs of {len(body):,} bytes over TLS, {args.hosts} hosts, "
                  f"{args.per_host} in flight each; load average {os.getloadavg()[0]:.1f}")
            for client in ("own", "aiohttp", "own", "aiohttp"):
                per_cpu, per_s = asyncio.run(_run(client, urls, body, args.per_host))
                print(f"  {client:8} {per_cpu:8,.0f} per CPU-second  {per_s:8,.0f}/s wall")
        finally:
            receiver.stop()


if __name__ == "__main__":
    main()
