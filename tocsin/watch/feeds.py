"""Polling of Atom/RSS feeds for keywords (the "organised watch" of public sources).

Fetching is ours (stdlib ``urllib`` with a timeout, a size cap and conditional GET by ETag /
Last-Modified) and parsing is feedparser's, on the bytes only: feedparser must never be handed
an untrusted string, which it could treat as a URL or a file path. An entry whose title or
summary holds a keyword becomes an item (grouped by link like any other arrival), not a report.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

import feedparser
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.db import utcnow
from tocsin.core.errors import DomainError, NotFound
from tocsin.core.outbound import opener
from tocsin.watch.classifier import Model
from tocsin.watch.config import WatchSettings, check_outbound, settings_or_env
from tocsin.watch.features import normalise
from tocsin.watch.models import WatchFeed
from tocsin.watch.schemas import check_url
from tocsin.watch.service import Intake, record_item, require_platform

MAX_FEED_BYTES = 5_000_000
TIMEOUT_S = 10.0
MAX_LINK = 2000


class FeedUnavailable(DomainError):
    status = 502
    code = "feed_unavailable"


@dataclass(frozen=True)
class PollResult:
    entries: int
    matched: int
    new_items: int


def add_feed(session: Session, *, url: str, platform: str, keywords: list[str],
             settings: WatchSettings | None = None) -> WatchFeed:
    """Register a feed to poll (the platform must be known: items belong to one)."""
    require_platform(session, name=platform)
    check_outbound(url, "feed", settings)
    feed = WatchFeed(url=url, platform=platform, keywords=keywords, created_at=utcnow())
    session.add(feed)
    session.flush()
    return feed


def fetch(url: str, *, etag: str | None, modified: str | None,
          settings: WatchSettings | None = None) -> tuple[int, bytes, dict[str, str]]:
    """GET ``url`` conditionally; return status, body (capped) and headers."""
    check_url(url)
    check_outbound(url, "feed", settings)
    request = urllib.request.Request(url, headers={"User-Agent": "Tocsin-watch/1"})  # noqa: S310
    if etag:
        request.add_header("If-None-Match", etag)
    if modified:
        request.add_header("If-Modified-Since", modified)
    try:
        with opener().open(request, timeout=TIMEOUT_S) as response:
            body = response.read(MAX_FEED_BYTES + 1)
            if len(body) > MAX_FEED_BYTES:
                raise FeedUnavailable(f"feed {url} is larger than {MAX_FEED_BYTES} bytes")
            return response.status, body, dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, b"", dict(exc.headers.items())
        raise FeedUnavailable(f"feed {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FeedUnavailable(f"feed {url} unreachable: {exc}") from None


def _matches(text: str, keywords: list[str]) -> bool:
    norm = normalise(text)
    return any(re.search(r"\b" + re.escape(normalise(k)) + r"\b", norm) for k in keywords)


@dataclass(frozen=True)
class FeedEntry:
    """What an entry of a feed can become: a link, its text (tags removed), an author."""

    link: str
    text: str
    author: str | None


def read_entries(body: bytes, *, url: str,
                 content_type: str = "") -> tuple[int, list[FeedEntry]]:
    """Parse a feed's bytes: how many entries it has, and the first 500 usable ones.

    Usable: an http(s) link and some text. Pure (no I/O, no session), so the property tests
    can throw any bytes at it.
    """
    parsed = feedparser.parse(io.BytesIO(body), response_headers={
        "content-location": url, "content-type": content_type})
    if parsed.get("bozo") and not parsed.entries:
        raise FeedUnavailable(f"feed {url} is not a readable Atom/RSS document")
    entries = []
    for entry in parsed.entries[:500]:
        link = str(entry.get("link") or "")
        text = " ".join(str(entry.get(k) or "") for k in ("title", "summary")).strip()
        text = re.sub(r"<[^>]+>", " ", text)[:2000].strip()
        if not link or not text:
            continue
        try:
            link = check_url(link)
        except ValueError:
            continue
        if len(link) > MAX_LINK:
            continue
        entries.append(FeedEntry(link, text, str(entry.get("author") or "")[:100] or None))
    return len(parsed.entries), entries


def poll(session: Session, *, feed_id: int, model: Model, now: dt.datetime | None = None,
         settings: WatchSettings | None = None) -> PollResult:
    """Fetch one feed and turn the entries matching its keywords into items."""
    feed = session.get(WatchFeed, feed_id)
    if feed is None:
        raise NotFound(f"no feed {feed_id}")
    now = now or utcnow()
    settings = settings_or_env(settings)
    status, body, headers = fetch(feed.url, etag=feed.etag, modified=feed.modified,
                                  settings=settings)
    feed.last_polled_at = now
    if status == 304:
        session.flush()
        return PollResult(0, 0, 0)
    total, entries = read_entries(body, url=feed.url, content_type=headers.get("Content-Type", ""))
    feed.etag = (headers.get("ETag") or "")[:200] or None
    feed.modified = (headers.get("Last-Modified") or "")[:100] or None
    matched = new = 0
    for entry in entries:
        if not _matches(entry.text, list(feed.keywords)):
            continue
        matched += 1
        _, grouped = record_item(session, model=model, now=now, settings=settings, intake=Intake(
            url=entry.link, platform=feed.platform, source="feed", category="other",
            excerpt=entry.text, author_handle=entry.author, counts_as_report=False))
        new += int(not grouped)
    session.flush()
    return PollResult(total, matched, new)


def all_feeds(session: Session) -> list[WatchFeed]:
    """Return the registered feeds."""
    return list(session.scalars(select(WatchFeed).order_by(WatchFeed.id)))
