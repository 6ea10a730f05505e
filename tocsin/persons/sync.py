"""``tocsin pfif sync URL``: pull another repository's PFIF Atom feeds, incrementally.

URL is the repository's feed base (ours: ``https://host/api/v1/persons/feeds``; Person
Finder's: ``https://host/<repo>/feeds``); ``/person`` (with ``omit_notes=true``) is read first,
then ``/note``, each page imported as it comes through the same short transactions as a file
(:func:`tocsin.persons.bulk.import_stream`). Paging is Person Finder's: oldest entry first from
``min_entry_date``; the next page starts at the last entry's date, skipping the entries already
seen at that very date. The cursor of each feed is kept in ``<var_dir>/pfif-sync.json`` per URL,
so the next run asks only for what is new (``--since`` overrides it).

A feed page is small (at most 200 records) and read whole by defusedxml with DTDs forbidden (no
entity expansion, no external entity, no network), capped at :data:`MAX_PAGE_BYTES`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
import httpx
from defusedxml import DefusedXmlException
from sqlalchemy.orm import Session, sessionmaker

from tocsin.persons import bulk, pfif
from tocsin.persons.feeds import ATOM, HARD_MAX_RESULTS
from tocsin.persons.pfif_stream import Streamed

MAX_PAGE_BYTES = 10_000_000


class SyncError(Exception):
    """The feed cannot be read (unreachable, refused, not a PFIF Atom feed)."""


class FeedPage:
    """The records of one feed page, in the shape ``bulk.import_stream`` reads."""

    def __init__(self, data: bytes) -> None:
        self.bytes_read = len(data)
        try:
            root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                     forbid_external=True)
        except DefusedXmlException as exc:
            raise SyncError(f"refused hostile XML in the feed: {exc.__class__.__name__}") from None
        except (ParseError, ValueError) as exc:
            raise SyncError(f"the feed is not well-formed XML: {exc}") from None
        if root.tag != f"{{{ATOM}}}feed":
            raise SyncError("not an Atom feed (the root element is not <feed>)")
        self.version = "1.4"
        self.items: list[Streamed] = []
        # The entry dates of the page's entries, in order: the next page's cursor.
        self.entry_dates: list[dt.datetime | None] = []
        index = 0
        for entry in root.iter(f"{{{ATOM}}}entry"):
            for elem in entry:
                tag = elem.tag if isinstance(elem.tag, str) else ""
                if not tag.startswith("{" + pfif.NS_PREFIX):
                    continue
                ns, name = tag[1:].split("}", 1)
                version = ns.rsplit("/", 1)[1]
                if version not in pfif.VERSIONS or name not in ("person", "note"):
                    continue
                self.version = version
                index += 1
                if name == "person":
                    values, reasons = pfif._person(elem, ns, version)
                    self.items.append(Streamed(index, "person", values, reasons))
                    pid = values.get("person_record_id") or ""
                    for sub in elem.findall(f"{{{ns}}}note"):
                        index += 1
                        note, why = pfif._note(sub, ns, pid)
                        self.items.append(Streamed(index, "note", note, why))
                else:
                    values, reasons = pfif._note(elem, ns, None)
                    self.items.append(Streamed(index, "note", values, reasons))
                self.entry_dates.append(values.get("entry_date"))

    def __iter__(self) -> Iterator[Streamed]:
        return iter(self.items)


def _state_path(var_dir: Path) -> Path:
    return var_dir / "pfif-sync.json"


def load_state(var_dir: Path, url: str) -> dict[str, Any]:
    path = _state_path(var_dir)
    try:
        return dict(json.loads(path.read_text()).get(url, {}))
    except (OSError, ValueError):
        return {}


def save_state(var_dir: Path, url: str, state: dict[str, Any]) -> None:
    path = _state_path(var_dir)
    try:
        every = json.loads(path.read_text())
    except (OSError, ValueError):
        every = {}
    every[url] = state
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(every, indent=2, sort_keys=True))
    tmp.replace(path)


def fetch(client: httpx.Client, url: str, params: dict[str, str]) -> bytes:
    """GET one feed page; raise :class:`SyncError` naming what went wrong."""
    try:
        with client.stream("GET", url, params=params) as response:
            if response.status_code != 200:
                body = response.read()[:300].decode("utf-8", "replace")
                raise SyncError(f"{url} answered {response.status_code}: {body.strip()}")
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_PAGE_BYTES:
                    raise SyncError(f"a feed page over {MAX_PAGE_BYTES:,} bytes")
            return data
    except httpx.HTTPError as exc:
        raise SyncError(f"cannot read {url}: {exc.__class__.__name__}: {exc}") from None


def sync(
    sessions: sessionmaker[Session], client: httpx.Client, base: str, *, home_domain: str,
    source_domain: str | None, var_dir: Path, since: dt.datetime | None,
    refused: Callable[[pfif.RecordError], None], page_size: int = HARD_MAX_RESULTS,
    log: Callable[[str], None] = lambda _: None,
) -> bulk.BulkReport:
    """Pull the person feed then the note feed from their cursors; return what was imported."""
    base = base.rstrip("/")
    for suffix in ("/person", "/note"):
        base = base.removesuffix(suffix)
    state = load_state(var_dir, base)
    total = bulk.BulkReport(version="1.4")
    for kind in ("person", "note"):
        cursor = pfif.format_datetime(since) if since else state.get(kind)
        skip = 0 if since else int(state.get(f"{kind}_skip", 0))
        while True:
            params = {"max_results": str(page_size), "skip": str(skip)}
            if kind == "person":
                params["omit_notes"] = "true"
            if cursor:
                params["min_entry_date"] = cursor
            page = FeedPage(fetch(client, f"{base}/{kind}", params))
            if page.items:
                done = bulk.import_stream(sessions, page, home_domain=home_domain,
                                          source_domain=source_domain, actor="cli:pfif-sync",
                                          refused=refused, duplicates=True)
                total.add(done)
                total.refused += done.refused
                total.records_read += done.records_read
            dates = [d for d in page.entry_dates if d is not None]
            if dates:
                last = pfif.format_datetime(max(dates))
                at_last = sum(1 for d in dates if pfif.format_datetime(d) == last)
                skip = skip + at_last if last == cursor else at_last
                cursor = last
            else:  # entries without a readable entry_date: step over them
                skip += len(page.entry_dates)
            log(f"{kind} feed: {len(page.entry_dates)} entries (next from {cursor}, "
                f"skip {skip})")
            state[kind], state[f"{kind}_skip"] = cursor, skip
            save_state(var_dir, base, state)
            if len(page.entry_dates) < page_size:
                break
    return total
