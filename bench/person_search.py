"""Benchmark of person search: our index against a naive full scan (and pg_trgm), same run.

``python -m bench.person_search`` generates ``--n`` synthetic French person records (default
1,000,000; see ``bench/person_names.py``) into a fresh, migrated SQLite database (embedded mode),
indexed exactly as the service indexes a record (same tokens, phonetic keys and vocabulary), then
runs a query set of accent drops, given/family swaps, one- and two-letter typos, French phonetic
respellings, hyphen/space changes and lower case, each with a known answer. A hit is right when a
top-10 result has the target's name (a million people share names: "Marie Martin" is many).

Compared, on the same records and queries:
- **ours**: ``tocsin.persons.search.search`` (vocabulary expansion, word-pair keys probed best
  first, re-ranking);
- **naive**: rapidfuzz ``token_sort_ratio`` over every folded name in memory (``process.extract``,
  C++ and multi-threaded internally) — what one writes without an index;
- **pg_trgm** (with ``--pg``, if PostgreSQL answers at ``TOCSIN_BENCH_PG``): the same folded
  names in a table with a GiST ``gist_trgm_ops`` index, the ten nearest by trigram distance
  (KNN, ``ORDER BY name <-> q``);
- **ours, PostgreSQL** (with ``--ours-pg``): ours again, on the same records copied into a
  scratch PostgreSQL database migrated as the cluster mode migrates its own.

Prints recall@10 and recall@1 (strict, and "fit": see ``run``), latency per query (p50, p95,
mean) and, for what runs in this process, CPU time per query; then a reference strict recall
(name frequency alone, ``bench.person_names.ceiling``) and the hits by kind.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text

from bench.person_names import (
    HARD_KINDS,
    ceiling,
    fits,
    hard_variant,
    make_families,
    make_name,
    variant,
)
from tocsin.core.db import make_engine, make_sessionmaker
from tocsin.core.migrate import upgrade
from tocsin.persons import search
from tocsin.persons.phonetic import fold

console = Console()
PG_DSN = os.environ.get("TOCSIN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
STAMP = "2026-11-23 00:00:00.000000"
PURGE = "2027-01-22 00:00:00.000000"


def build(db_path: Path, n: int, seed: int) -> list[tuple[str, str, str]]:
    """Create and fill the database; return the (full, given, family) names by id - 1."""
    rng = random.Random(seed)
    families = make_families(rng, invented=max(1000, n // 25))
    url = f"sqlite:///{db_path}"
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    raw = engine.raw_connection()
    cur = raw.cursor()
    cur.execute("PRAGMA synchronous=OFF")
    cur.execute("DROP INDEX ix_person_search_key_key")
    cur.execute("DROP INDEX ix_person_search_key_person_id")
    names: list[tuple[str, str, str]] = []
    terms: set[str] = set()
    chunk = 20_000
    start = time.perf_counter()
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task(f"generating {n:,} persons", total=n)
        for base in range(0, n, chunk):
            persons, keys = [], []
            for pid in range(base + 1, min(n, base + chunk) + 1):
                full, given, family = make_name(rng, families)
                names.append((full, given, family))
                plain, joined = search.record_tokens([full, given, family])
                words = plain + joined
                terms.update(words)
                persons.append((pid, f"bench.example/person.{pid}", STAMP, STAMP, full, given,
                                family, PURGE, search.stored_form(plain, joined)))
                keys.extend((k, pid) for k in search.index_keys(plain, joined))
            cur.executemany(
                "INSERT INTO person (id, person_record_id, entry_date, source_date, full_name, "
                "given_name, family_name, purge_at, search_tokens) VALUES (?,?,?,?,?,?,?,?,?)",
                persons)
            cur.executemany("INSERT INTO person_search_key (key, person_id) VALUES (?, ?)", keys)
            raw.commit()
            progress.advance(task, len(persons))
        task = progress.add_task("indexing", total=1)
        cur.execute("CREATE INDEX ix_person_search_key_key ON person_search_key (key, person_id)")
        cur.execute("CREATE INDEX ix_person_search_key_person_id ON person_search_key (person_id)")
        cur.executemany("INSERT INTO person_search_term (term) VALUES (?)", [(t,) for t in terms])
        cur.execute("ANALYZE")
        raw.commit()
        progress.advance(task)
    rows = cur.execute("SELECT count(*) FROM person_search_key").fetchone()[0]
    raw.close()
    engine.dispose()
    console.print(f"built {n:,} persons, {rows:,} index keys, {len(terms):,} distinct words "
                  f"in {time.perf_counter() - start:.0f} s ({db_path.stat().st_size >> 20} MiB)")
    return names


Query = tuple[str, str, str, tuple[str, str, str]]  # kind, typed, folded target, its names


def make_queries(names: list[tuple[str, str, str]], count: int, seed: int, *,
                 hard: bool = False) -> list[Query]:
    """Return (kind, query, folded target name) for ``count`` random records.

    ``hard``: the kinds of issue 22 (initials, compound given names, short forms, particles
    glued, split or dropped, double phonetic respellings), as many queries of each kind: the
    kind is drawn first, then a record that lends itself to it.
    """
    rng = random.Random(seed + 1)
    out = []
    for number in range(count):
        if not hard:
            full, given, family = names[rng.randrange(len(names))]
            kind, query = variant(rng, given, family)
            out.append((kind, query, fold(full), (full, given, family)))
            continue
        wanted = HARD_KINDS[number % len(HARD_KINDS)]
        for _ in range(100_000):
            full, given, family = names[rng.randrange(len(names))]
            found = hard_variant(rng, given, family, wanted)
            if found is not None:
                out.append((found[0], found[1], fold(full), (full, given, family)))
                break
    return out


class Result:
    """Latencies and hits of one method."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        # CPU of the calling thread per query: what a loaded machine cannot inflate (wall time
        # also counts the turns other processes took). For pg_trgm the work is in the server,
        # so its CPU here is only the client's and is not printed.
        self.cpu: list[float] = []
        self.hits = 0
        self.firsts = 0
        self.fit_hits = 0
        self.fit_firsts = 0
        self.by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, kind: str, seconds: float, hit: bool, first: bool = False,
            fit_hit: bool = False, fit_first: bool = False, cpu_seconds: float = 0.0) -> None:
        self.latencies.append(seconds * 1000)
        self.cpu.append(cpu_seconds * 1000)
        self.hits += hit
        self.firsts += first
        self.fit_hits += fit_hit
        self.fit_firsts += fit_first
        self.by_kind[kind][0] += hit
        self.by_kind[kind][1] += 1

    def pct(self, q: float, cpu: bool = False) -> float:
        ordered = sorted(self.cpu if cpu else self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def recall(self) -> float:
        return self.hits / len(self.latencies)

    @property
    def recall1(self) -> float:
        return self.firsts / len(self.latencies)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies)


def run(name: str, queries: list[Query], folded: list[str], names: list[tuple[str, str, str]],
        find: Callable[[str], list[int]]) -> Result:
    """Time ``find`` (query -> ids of the top 10) on every query.

    Strict: the target's name is in the top 10 (first). Fit: the same, or the answer could
    not be better because the query does not tell the target from others (``fits``): a first
    result that fits the query as the target does ("R. Picard": any R. Picard), or ten
    results that all fit it (more than ten R. Picards).
    """
    result = Result(name)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(name, total=len(queries))
        for kind, query, target, truth in queries:
            start, cpu_start = time.perf_counter(), time.thread_time()
            ids = find(query)
            elapsed = time.perf_counter() - start
            cpu = time.thread_time() - cpu_start
            hit = any(folded[i - 1] == target for i in ids)
            first = bool(ids) and folded[ids[0] - 1] == target
            fitting = [fits(kind, query, truth, names[i - 1]) for i in ids]
            result.add(kind, elapsed, hit, first,
                       hit or (len(ids) == 10 and all(fitting)),
                       first or (bool(ids) and fitting[0]), cpu)
            progress.advance(task)
    return result


def _scratch_database(prefix: str, what: str) -> tuple[Any, str, str] | None:
    """A new PostgreSQL database: (admin connection, its name, its DSN), or None (said)."""
    try:
        import psycopg

        admin = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)
    except Exception as exc:  # no server: the measurement is skipped, and said so
        console.print(f"[yellow]{what} skipped: {exc.__class__.__name__}")
        return None
    dbname = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{dbname}"')
    return admin, dbname, PG_DSN.rsplit("/", 1)[0] + "/" + dbname


def pg_trgm(folded: list[str]) -> tuple[Callable[[str], list[int]], Callable[[], None]] | None:
    """Load the names into a scratch PostgreSQL database with a trigram index, or None."""
    scratch = _scratch_database("tocsin_bench", "pg_trgm")
    if scratch is None:
        return None
    admin, dbname, dsn = scratch
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True)
    start = time.perf_counter()
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    conn.execute("CREATE TABLE names (id integer PRIMARY KEY, name text NOT NULL)")
    with conn.cursor().copy("COPY names (id, name) FROM STDIN") as copy:
        for i, name in enumerate(folded, 1):
            copy.write_row((i, name))
    conn.execute("CREATE INDEX names_trgm ON names USING gist (name gist_trgm_ops)")
    conn.execute("ANALYZE names")
    console.print(f"pg_trgm: loaded and indexed in {time.perf_counter() - start:.0f} s")

    def find(query: str) -> list[int]:
        q = fold(query)
        # KNN on the GiST index: the 10 nearest by trigram distance, no similarity threshold
        # (a threshold would return nothing for a short or mangled query).
        rows = conn.execute("SELECT id FROM names ORDER BY name <-> %s LIMIT 10",
                            (q,)).fetchall()
        return [r[0] for r in rows]

    def drop() -> None:
        conn.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.close()

    return find, drop


def ours_pg(db_path: Path) -> tuple[Callable[[str], list[int]], Callable[[], None]] | None:
    """Copy the built registry into a scratch PostgreSQL database migrated as the cluster mode
    migrates it; return our search on it (the same code, through psycopg), or None."""
    scratch = _scratch_database("tocsin_bench_ours", "ours on PostgreSQL")
    if scratch is None:
        return None
    admin, dbname, dsn = scratch
    import psycopg

    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    start = time.perf_counter()
    upgrade(url)
    source = sqlite3.connect(db_path)
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        # The key index is built after the copy, as the SQLite build does.
        indexes = [row[0] for row in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'person_search_key' "
            "AND indexname LIKE 'ix_%'")]
        for definition in indexes:
            conn.execute("DROP INDEX " + definition.split(" INDEX ", 1)[1].split()[0])
        for table, columns in (
            ("person", "id, person_record_id, entry_date, source_date, full_name, given_name, "
                       "family_name, purge_at, search_tokens"),
            ("person_search_key", "key, person_id"),
            ("person_search_term", "term"),
        ):
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {columns} FROM {table} ORDER BY rowid"):
                    copy.write_row(row)
        for definition in indexes:
            conn.execute(definition)
        conn.execute("ANALYZE")
    source.close()
    console.print(f"ours on PostgreSQL: migrated, loaded and indexed in "
                  f"{time.perf_counter() - start:.0f} s")
    engine = make_engine(url, pool_size=1)
    session = make_sessionmaker(engine)()
    search.search(session, "warm up", limit=10)  # loads this database's vocabulary

    def find(query: str) -> list[int]:
        return [h.person_id for h in search.search(session, query, limit=10)]

    def drop() -> None:
        session.close()
        engine.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.close()

    return find, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="records to generate")
    parser.add_argument("--queries", type=int, default=400, help="queries for ours and pg_trgm")
    parser.add_argument("--naive-queries", type=int, default=60,
                        help="queries for the (slow) naive scan")
    parser.add_argument("--pg", action="store_true", help="also measure PostgreSQL pg_trgm")
    parser.add_argument("--ours-pg", action="store_true", help=(
        "also measure our search on PostgreSQL (the cluster mode's database), same records"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--hard", action="store_true", help=(
        "the variant kinds of issue 22 (initials, compound names, short forms, particles)"))
    parser.add_argument("--show-misses", action="store_true",
                        help="list ours' misses (for a development seed, not the measured one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        db_path = Path(tmp) / "persons.db"
        names = build(db_path, args.n, args.seed)
        folded = [fold(full) for full, _, _ in names]
        queries = make_queries(names, args.queries, args.seed, hard=args.hard)
        engine = make_engine(f"sqlite:///{db_path}", pool_size=1)
        session = make_sessionmaker(engine)()
        session.execute(text("SELECT 1"))
        search.search(session, "warm up", limit=10)  # loads the vocabulary once per worker

        def ours(query: str) -> list[int]:
            return [h.person_id for h in search.search(session, query, limit=10)]

        def naive(query: str) -> list[int]:
            found = process.extract(fold(query), folded, scorer=fuzz.token_sort_ratio,
                                    processor=None, limit=10)
            return [index + 1 for _, _, index in found]

        results = [run("ours", queries, folded, names, ours),
                   run("naive scan", queries[: args.naive_queries], folded, names, naive)]
        if args.show_misses:
            for kind, query, target, truth in queries:
                found = ours(query)
                if not found or not fits(kind, query, truth, names[found[0] - 1]):
                    where = "not in top 10" if all(folded[i - 1] != target for i in found) \
                        else "not first"
                    console.print(f"  {where} {kind}: {query!r} for {target!r}; first "
                                  f"{folded[found[0] - 1] if found else None!r}")
        on_postgres = [("ours, PostgreSQL", lambda: ours_pg(db_path), args.ours_pg),
                       ("pg_trgm", lambda: pg_trgm(folded), args.pg)]
        for label, open_search, wanted in on_postgres:
            search_pg = open_search() if wanted else None
            if search_pg is not None:
                find, drop = search_pg
                try:
                    results.append(run(label, queries, folded, names, find))
                finally:
                    drop()
        session.close()
        engine.dispose()

    table = Table(title=f"person search, {args.n:,} records, {platform.node()} "
                        f"({os.cpu_count()} CPUs, Python {platform.python_version()})")
    for column in ("method", "queries", "recall@10", "recall@1", "fit@10", "fit@1", "p50 ms",
                   "p95 ms", "mean ms", "CPU p95 ms"):
        table.add_column(column, justify="right")
    for r in results:
        n = len(r.latencies)
        table.add_row(r.name, str(n), f"{r.recall:.3f}", f"{r.recall1:.3f}",
                      f"{r.fit_hits / n:.3f}", f"{r.fit_firsts / n:.3f}",
                      f"{r.pct(0.5):.1f}",
                      f"{r.pct(0.95):.1f}", f"{r.mean:.1f}",
                      "—" if r.name == "pg_trgm" or "PostgreSQL" in r.name
                      else f"{r.pct(0.95, cpu=True):.1f}")
    console.print(table)
    best10, best1 = ceiling(queries, names)
    console.print(f"reference, strict (the names that fit each query ranked by how many "
                  f"records carry them; no bound, see bench.person_names.ceiling): recall@10 "
                  f"{best10:.3f}, recall@1 {best1:.3f}")
    ours_r, naive_r = results[0], results[1]
    console.print(f"naive / ours: {naive_r.pct(0.5) / ours_r.pct(0.5):.0f}x at p50, "
                  f"{naive_r.mean / ours_r.mean:.0f}x on the mean")
    kinds = Counter(kind for kind, *_ in queries)
    for r in results:
        per_kind = ", ".join(f"{k} {r.by_kind[k][0]}/{r.by_kind[k][1]}" for k in sorted(kinds)
                             if r.by_kind[k][1])
        console.print(f"{r.name} hits by kind: {per_kind}")


if __name__ == "__main__":
    main()
