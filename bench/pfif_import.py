"""PFIF bulk import: records/s and peak memory of ``tocsin pfif import`` beside the old reader.

    python -m bench.pfif_import --persons 250000 --notes 3      # 1,000,000 records

Writes a PFIF 1.4 file of ``--persons`` records, each with ``--notes`` nested notes (French
names from ``bench.person_names``; a few records deliberately bad so the refusal path runs),
then runs, each in a fresh process on a fresh SQLite database (one at a time, peak RSS read by
the process itself):

- **ours**: ``tocsin pfif import FILE`` (streamed, chunks of ``bulk.BATCH``), then the same
  command again (the idempotent re-run: nothing may change);
- **naive baseline**: the whole-document reader (``pfif.parse``, what the command used before,
  with its 50,000-record cap lifted) on the same file: parse only, no database, to show the
  memory the streamed reader avoids.

``--pg`` imports into PostgreSQL too (``TOCSIN_BENCH_PG``, a scratch database is created).
The generator (:func:`write_file`) is also what the tests use to make a file over the old limits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from bench.person_names import make_families, make_name

NS = "http://zesty.ca/pfif/1.4"
SOURCE = "2026-11-20T08:00:00Z"
EXPIRY = "2027-02-01T00:00:00Z"
STATUSES = ("information_sought", "believed_alive", "believed_missing", "is_note_author")


def write_file(out: IO[bytes], persons: int, notes: int, *, seed: int = 7, domain: str =
               "pf.example.org", bad_every: int = 0, padding: int = 0) -> int:
    """Write a PFIF 1.4 document of ``persons`` records with ``notes`` notes each; return the
    number of records. Every ``bad_every``-th person has an unknown sex (refused); ``padding``
    characters of description make a file of a given size with fewer records."""
    rng = random.Random(seed)
    families = make_families(rng, 2_000)
    pad = escape(("Vu pour la dernière fois près de la gare. " * (padding // 40 + 1))[:padding])
    out.write(f'<?xml version="1.0" encoding="utf-8"?>\n<pfif:pfif xmlns:pfif="{NS}">\n'
              .encode())
    for i in range(persons):
        full, given, family = make_name(rng, families)
        sex = "unknown" if bad_every and i % bad_every == bad_every - 1 else rng.choice(
            ("female", "male"))
        parts = [f"<pfif:person><pfif:person_record_id>{domain}/p{i}</pfif:person_record_id>"
                 f"<pfif:entry_date>{SOURCE}</pfif:entry_date>"
                 f"<pfif:expiry_date>{EXPIRY}</pfif:expiry_date>"
                 f"<pfif:author_name>Famille {escape(family)}</pfif:author_name>"
                 f"<pfif:source_date>{SOURCE}</pfif:source_date>"
                 f"<pfif:full_name>{escape(full)}</pfif:full_name>"
                 f"<pfif:given_name>{escape(given)}</pfif:given_name>"
                 f"<pfif:family_name>{escape(family)}</pfif:family_name>"
                 f"<pfif:sex>{sex}</pfif:sex><pfif:age>{rng.randint(1, 95)}</pfif:age>"
                 f"<pfif:home_city>Ville {i % 500}</pfif:home_city>"]
        if pad:
            parts.append(f"<pfif:description>{pad}</pfif:description>")
        for j in range(notes):
            parts.append(
                f"<pfif:note><pfif:note_record_id>{domain}/n{i}.{j}</pfif:note_record_id>"
                f"<pfif:entry_date>{SOURCE}</pfif:entry_date>"
                f"<pfif:author_name>Voisin {j}</pfif:author_name>"
                f"<pfif:source_date>{SOURCE}</pfif:source_date>"
                f"<pfif:status>{STATUSES[(i + j) % len(STATUSES)]}</pfif:status>"
                f"<pfif:text>Message {j} au sujet de {escape(full)}</pfif:text></pfif:note>")
        parts.append("</pfif:person>\n")
        out.write("".join(parts).encode())
    out.write(b"</pfif:pfif>\n")
    return persons * (1 + notes)


_CHILD = """
import json, resource, sys, time
from typer.testing import CliRunner
from tocsin.cli import app
start = time.perf_counter()
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"seconds": time.perf_counter() - start, "exit": result.exit_code,
                  "tail": result.output.strip().splitlines()[-1:],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_NAIVE = """
import json, resource, sys, time
from pathlib import Path
from tocsin.persons import pfif
start = time.perf_counter()
parsed = pfif.parse(Path(sys.argv[1]).read_bytes(), max_bytes=1 << 40, max_records=1 << 40)
print(json.dumps({"seconds": time.perf_counter() - start, "exit": 0,
                  "tail": [f"{len(parsed.persons) + len(parsed.notes)} records parsed"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, args: list[str], env: dict[str, str]) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; return the JSON it prints (its own peak RSS)."""
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"child failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=250_000)
    parser.add_argument("--notes", type=int, default=3, help="notes per person")
    parser.add_argument("--no-duplicates", action="store_true",
                        help="import with --no-duplicates (no duplicate proposals)")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--pg", action="store_true", help="also import into PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tocsin-pfif-") as tmp:
        path = Path(tmp) / "big.pfif.xml"
        with path.open("wb") as out:
            records = write_file(out, args.persons, args.notes, bad_every=10_000)
        size_mb = path.stat().st_size / 1e6
        print(f"file: {records:,} records, {size_mb:,.0f} MB")
        targets = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        if args.pg:
            targets.append(("postgresql", _scratch_pg()))
        extra = ["--no-duplicates"] if args.no_duplicates else []
        rows = []
        for name, url in targets:
            env = {**os.environ, "TOCSIN_DATABASE_URL": url, "TOCSIN_VAR_DIR": tmp}
            subprocess.run([sys.executable, "-m", "tocsin", "db", "upgrade"], env=env,
                           check=True, capture_output=True)
            for label in ("ours", "ours, re-run"):
                got = run_child(_CHILD, ["pfif", "import", str(path), "--report",
                                         f"{tmp}/refused.txt", *extra], env)
                rate = records / float(got["seconds"])  # type: ignore[arg-type]
                rows.append((f"{label} ({name})", got, rate))
                print(rows[-1])
        if not args.skip_naive:
            time.sleep(0.1)
            got = run_child(_NAIVE, [str(path)], dict(os.environ))
            rows.append(("naive whole-document parse (no DB)", got,
                         records / float(got["seconds"])))  # type: ignore[arg-type]
        print(f"\n{records:,} records, {size_mb:,.0f} MB; {os.cpu_count()} CPUs")
        print(f"{'method':40} {'seconds':>9} {'records/s':>10} {'peak RSS MB':>12}  result")
        for label, got, rate in rows:
            print(f"{label:40} {float(got['seconds']):9.1f} {rate:10,.0f} "  # type: ignore[arg-type]
                  f"{float(got['peak_rss_mb']):12.0f}  {got['tail']}")  # type: ignore[arg-type]


def _scratch_pg() -> str:
    import psycopg

    dsn = os.environ.get("TOCSIN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"tocsin_pfif_bench_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


if __name__ == "__main__":
    main()
