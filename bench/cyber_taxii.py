"""Benchmark of the TAXII 2.1 server (issue 12): ``python -m bench.cyber_taxii``.

A partner pages through a collection of N indicators with HTTP Basic auth, as TAXII clients do
(``limit`` + ``next``). Ours: the worker remembers a verified credential for a minute (salted
digest, account re-read each time). Baseline: Argon2 verification on every request (what a
plain Basic-auth check does). Same app, same data, same run; the answers are checked to be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import stix2
from fastapi.testclient import TestClient

from tocsin.app import create_app
from tocsin.core import seal
from tocsin.core.auth import service as auth_service
from tocsin.core.db import session_scope
from tocsin.core.migrate import upgrade
from tocsin.core.settings import Settings
from tocsin.cyber import exchange, taxii_api, taxii_auth

TAXII = taxii_api.TAXII
EXCHANGE = next(k for k, v in taxii_api.COLLECTIONS.items() if v["alias"] == "partner-exchange")
PASSWORD = "Correct-Horse-42"


def _bundle(start: int, n: int) -> bytes:
    objects = [stix2.Indicator(
        name=f"C2 {i}", description="bench", indicator_types=["malicious-activity"],
        pattern=f"[ipv4-addr:value = '10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}']",
        pattern_type="stix", valid_from="2026-11-13T20:00:00Z",
        object_marking_refs=[stix2.TLP_GREEN]) for i in range(start, start + n)]
    return stix2.Bundle(*objects, stix2.TLP_GREEN).serialize().encode()


def _page_all(client: TestClient, limit: int) -> tuple[float, int, list[str]]:
    url = f"/taxii2/tocsin/collections/{EXCHANGE}/objects/"
    ids: list[str] = []
    requests = 0
    params: dict[str, Any] = {"limit": limit}
    start = time.perf_counter()
    while True:
        r = client.get(url, params=params, auth=("cert-be", PASSWORD), headers={"Accept": TAXII})
        requests += 1
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [o["id"] for o in body.get("objects", [])]
        if not body.get("more"):
            break
        params = {"limit": limit, "next": body["next"]}
    return time.perf_counter() - start, requests, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        key = seal.generate_key()
        settings = Settings(var_dir=var, database_url=f"sqlite:///{var}/b.db", seal_key=key)
        upgrade(settings.resolved_database_url)
        with TestClient(create_app(settings)) as client:
            runtime = client.app.state.runtime  # type: ignore[attr-defined]
            with session_scope(runtime.sessions) as s:
                auth_service.create_user(s, username="cert-be", password=PASSWORD,
                                         role="partner")
            for start in range(0, args.objects, 400):
                with session_scope(runtime.sessions) as s:
                    exchange.receive(s, raw=_bundle(start, min(400, args.objects - start)),
                                     source="cert-fr")
            ours_t, ours_n, ours_ids = _page_all(client, args.limit)
            original = taxii_auth.BasicCache.get
            taxii_auth.BasicCache.get = lambda self, db, name, password: None  # type: ignore[method-assign]
            try:
                base_t, base_n, base_ids = _page_all(client, args.limit)
            finally:
                taxii_auth.BasicCache.get = original  # type: ignore[method-assign]
    assert ours_ids == base_ids, (len(ours_ids), len(base_ids))
    assert len(ours_ids) == args.objects, len(ours_ids)  # the marking came unmarked: AMBER
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    print(f"{args.objects} indicators, pages of {args.limit}: {ours_n} requests")
    print(f"ours (verified credential remembered 60 s): {ours_t:.2f} s, "
          f"{ours_n / ours_t:.1f} req/s")
    print(f"baseline (Argon2 on every request):       {base_t:.2f} s, "
          f"{base_n / base_t:.1f} req/s")
    print(f"ratio baseline / ours: {base_t / ours_t:.1f}x")
    print(json.dumps({"ours_s": round(ours_t, 3), "baseline_s": round(base_t, 3)}))


if __name__ == "__main__":
    main()
