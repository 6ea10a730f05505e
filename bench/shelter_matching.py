"""Benchmark of shelter matching (issue 7): ``python -m bench.shelter_matching``.

Same run, same SQLite database of offers spread over greater Paris:

1. Latency of proposals: ours (``tocsin.shelter.requests.find_matches``: a bounding-box query
   on public cell centres, reading only the clear columns) beside the naive matcher (load every
   open offer as a full row, which decrypts its sealed point and address, compute the exact
   distance, sort, keep 10).
2. What coarse matching costs a seeker: the true walking-line distance to the first proposal,
   ours beside the naive exact matcher.
3. What an attacker learns by moving its request: with the naive API's exact distances, three
   probes trilaterate a host; with ours the best estimate is the cell centre. Error in metres.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core import seal
from tocsin.core.db import make_engine, make_sessionmaker, utcnow
from tocsin.core.migrate import upgrade
from tocsin.shelter import geo, requests
from tocsin.shelter.config import ShelterSettings
from tocsin.shelter.models import ShelterOffer, ShelterRequest
from tocsin.shelter.service import ACCESS_LEVEL, NEED_LEVEL

BOX = (48.70, 2.08, 49.02, 2.62)  # greater Paris: lat_min, lon_min, lat_max, lon_max
CONFIG = ShelterSettings()


def _point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])


def seed(session: Session, n: int, rng: random.Random) -> None:
    """Insert ``n`` open offers (sealed like real ones)."""
    now = utcnow()
    for i in range(n):
        lat, lon = _point(rng)
        cell = geo.cell_of(lat, lon)
        session.add(ShelterOffer(
            id=f"{i:032x}", manage_token_hash="0" * 64, location={"lat": lat, "lon": lon},
            address=f"{i} rue du Banc", directions=None, note="Canapé",
            cell=cell.index, cell_lat=cell.lat, cell_lon=cell.lon,
            capacity=(c := rng.randint(1, 6)), remaining=c,
            access=rng.choice(list(ACCESS_LEVEL)), pets=rng.random() < 0.5,
            languages=["fr"], status="open", moderation="ok", created_at=now, updated_at=now,
            ends_at=now + dt.timedelta(days=2),
        ))
        if i % 5000 == 4999:
            session.flush()
    session.commit()


def seeker(lat: float, lon: float, rng: random.Random) -> ShelterRequest:
    """Build a transient request (the matcher needs only its cell and needs)."""
    cell = geo.cell_of(lat, lon)
    return ShelterRequest(
        id="x" * 32, cell=cell.index, cell_lat=cell.lat, cell_lon=cell.lon,
        people=rng.randint(1, 3), access_need=rng.choice(list(NEED_LEVEL)), pets=False,
        languages=["fr"], declined_offer_ids=[],
    )


def naive(session: Session, request: ShelterRequest, lat: float, lon: float) -> list[tuple]:
    """The obvious matcher: every open row, decrypted, exact distances (leaks them, too)."""
    now = utcnow()
    rows = session.scalars(select(ShelterOffer).where(
        ShelterOffer.status == "open", ShelterOffer.moderation == "ok",
        ShelterOffer.ends_at > now, ShelterOffer.remaining >= request.people,
    )).all()
    need = NEED_LEVEL[request.access_need]
    found = []
    for offer in rows:
        if ACCESS_LEVEL[offer.access] < need:
            continue
        d = geo.haversine_km(lat, lon, offer.location["lat"], offer.location["lon"])
        if d <= CONFIG.max_radius_km:
            found.append((d, offer.id, offer.location["lat"], offer.location["lon"]))
    found.sort()
    session.expunge_all()
    return found[: CONFIG.max_proposals]


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def trilaterate(probes: list[tuple[float, float, float]]) -> tuple[float, float]:
    """Least-squares position from (lat, lon, exact km) triples, in a local flat frame."""
    lat0, lon0 = probes[0][0], probes[0][1]
    kx = 111.320 * np.cos(np.radians(lat0))
    pts = np.array([((lo - lon0) * kx, (la - lat0) * 110.574) for la, lo, _ in probes])
    r = np.array([d for _, _, d in probes])
    a = 2 * (pts[1:] - pts[0])
    b = r[0] ** 2 - r[1:] ** 2 + (pts[1:] ** 2).sum(1) - (pts[0] ** 2).sum()
    x, y = np.linalg.lstsq(a, b, rcond=None)[0]
    return lat0 + y / 110.574, lon0 + x / kx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offers", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    rng = random.Random(13112015)
    seal.configure(seal.Sealer(seal.generate_key()))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        factory = make_sessionmaker(engine)
        t0 = time.perf_counter()
        with factory() as session:
            seed(session, args.offers, rng)
        print(f"seeded {args.offers} offers in {time.perf_counter() - t0:.1f} s "
              f"({platform.processor() or platform.machine()}, Python {platform.python_version()})")
        ours_ms, naive_ms, ours_km, naive_km = [], [], [], []
        with factory() as session:
            for _ in range(args.queries):
                lat, lon = _point(rng)
                request = seeker(lat, lon, rng)
                t = time.perf_counter()
                matches = requests.find_matches(session, request=request, config=CONFIG)
                ours_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                exact = naive(session, request, lat, lon)
                naive_ms.append((time.perf_counter() - t) * 1000)
                if matches and exact:
                    first = session.get(ShelterOffer, matches[0].offer_id)
                    assert first is not None
                    ours_km.append(geo.haversine_km(lat, lon, first.location["lat"],
                                                    first.location["lon"]))
                    naive_km.append(exact[0][0])
                    session.expunge_all()
            print("\n1. proposals latency, ms per request (p50 / p95)")
            print(f"   naive, all rows decrypted: {_pct(naive_ms, 50):8.2f} / "
                  f"{_pct(naive_ms, 95):8.2f}")
            print(f"   ours, cell bbox, clear cols: {_pct(ours_ms, 50):6.2f} / "
                  f"{_pct(ours_ms, 95):8.2f}   "
                  f"(x{statistics.median(naive_ms) / statistics.median(ours_ms):.0f} faster)")
            print("\n2. true distance to the first proposal, km (mean / p95)")
            print(f"   naive exact: {statistics.mean(naive_km):.3f} / {_pct(naive_km, 95):.3f}")
            print(f"   ours banded: {statistics.mean(ours_km):.3f} / {_pct(ours_km, 95):.3f}")
            naive_err, ours_err = [], []
            hosts = session.scalars(select(ShelterOffer).limit(500)).all()
            for host in hosts:
                hl, hn = host.location["lat"], host.location["lon"]
                probes = [(hl + rng.uniform(-0.02, 0.02), hn + rng.uniform(-0.03, 0.03))
                          for _ in range(3)]
                est = trilaterate([(a, b, geo.haversine_km(a, b, hl, hn)) for a, b in probes])
                naive_err.append(geo.haversine_km(*est, hl, hn) * 1000)
                ours_err.append(geo.haversine_km(host.cell_lat, host.cell_lon, hl, hn) * 1000)
            print("\n3. attacker's error locating a host, metres (median / p5)")
            print(f"   naive API, 3 probes, exact distances: {_pct(naive_err, 50):7.1f} / "
                  f"{_pct(naive_err, 5):6.1f}")
            print(f"   ours, any number of probes (best guess = cell centre): "
                  f"{_pct(ours_err, 50):5.0f} / {_pct(ours_err, 5):4.0f}")
        engine.dispose()


if __name__ == "__main__":
    main()
