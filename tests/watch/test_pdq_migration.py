"""Migration ``20261206_watch_pdq`` on a database of the dHash days, on SQLite and PostgreSQL:
stored images get their PDQ, dHash list rows go (they matched nothing made elsewhere), other
rows stay; a TLSH fits; the downgrade gives the old columns back."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from PIL import Image

from tocsin.core.db import make_engine
from tocsin.core.migrate import alembic_config, upgrade
from tocsin.watch.media import clean_image, pdq_hash

BEFORE = "20261205_watch_instruments"
NOW = dt.datetime(2026, 11, 13, 21, 0, tzinfo=dt.UTC)


def test_images_get_their_pdq_and_dhash_lists_go(fresh_url: str) -> None:
    upgrade(fresh_url, BEFORE)
    stored = clean_image((Path(__file__).parent / "data" / "scene_a.png").read_bytes()).data
    engine = make_engine(fresh_url, pool_size=1)
    item = {"item_key": "k", "url": "https://x.example/1", "platform": "x", "source": "report",
            "reported_category": "hate", "excerpt": "t", "text_sha256": "a" * 64,
            "category": "none", "score": 0.1, "explanation": "{}", "hash_matches": 0,
            "report_count": 1, "reach": 0, "status": "pending", "first_seen_at": NOW,
            "last_seen_at": NOW}
    with engine.begin() as conn:
        columns = ", ".join([*item, "image", "image_dhash"])
        values = ", ".join(f":{c}" for c in [*item, "image", "image_dhash"])
        insert = sa.text(f"INSERT INTO watch_item ({columns}) VALUES ({values})")
        conn.execute(insert, {**item, "image": stored, "image_dhash": "0f" * 8})
        conn.execute(insert, {**item, "item_key": "k2", "image": None, "image_dhash": None})
        conn.execute(sa.text(
            "INSERT INTO watch_hash (signal_type, signal, category, source, added_at) "
            "VALUES (:t, :s, 'hate', 'p', :at)"),
            [{"t": "dhash", "s": "0f" * 8, "at": NOW}, {"t": "md5", "s": "c" * 32, "at": NOW}])
    upgrade(fresh_url)
    with engine.begin() as conn:
        rows = conn.execute(sa.text(
            "SELECT item_key, image_pdq, image_pdq_quality FROM watch_item ORDER BY id")).all()
        assert rows == [("k", *pdq_hash(Image.open(io.BytesIO(stored)))), ("k2", None, None)]
        kinds = conn.execute(sa.text("SELECT signal_type FROM watch_hash")).scalars().all()
        assert kinds == ["md5"]
        conn.execute(sa.text(
            "INSERT INTO watch_hash (signal_type, signal, category, source, added_at) "
            "VALUES ('tlsh', :s, 'hate', 'p', :at)"), {"s": "T1" + "A" * 70, "at": NOW})
    assert "image_dhash" not in {c["name"] for c in sa.inspect(engine).get_columns("watch_item")}
    command.downgrade(alembic_config(fresh_url), BEFORE)
    with engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT signal_type FROM watch_hash")).scalars().all()
    assert kinds == ["md5"]
    assert "image_dhash" in {c["name"] for c in sa.inspect(engine).get_columns("watch_item")}
    engine.dispose()
