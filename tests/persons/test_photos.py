"""Photo upload: re-encoded in the process pool, metadata stripped, non-images and declared
sizes past the limits refused before decoding, purged."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from tocsin.core.db import session_scope, utcnow
from tocsin.core.offload import Lane
from tocsin.persons import photos
from tocsin.persons.models import PersonPhoto
from tocsin.retention import purge_all


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (2400, 1200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 44.0), 3: "E", 4: (2.0, 22.0, 13.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def photo_count(client: TestClient) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(PersonPhoto)) or 0)


def test_upload_strips_metadata_and_scales(client: TestClient) -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()  # the upload does carry EXIF and GPS
    response = client.post("/api/v1/persons/photos",
                           files={"photo": ("famille.jpg", original, "image/jpeg")})
    assert response.status_code == 201, response.text
    url = response.json()["photo_url"]
    assert "/api/v1/persons/photos/" in url
    served = client.get(url.split("127.0.0.1:8000", 1)[1])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "JPEG" and max(image.size) == 1600
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert b"PhoneMaker" not in served.content


def test_not_an_image_or_too_large_is_refused(client: TestClient) -> None:
    text = client.post("/api/v1/persons/photos",
                       files={"photo": ("x.jpg", b"<svg onload=alert(1)>", "image/jpeg")})
    assert text.status_code == 422 and "not an image" in text.json()["error"]["message"]
    huge = client.post("/api/v1/persons/photos",
                       files={"photo": ("x.jpg", b"\xff" * 1_200_000, "image/jpeg")})
    assert huge.status_code == 413
    missing = client.post("/api/v1/persons/photos", data={"other": "x"})
    assert missing.status_code == 422
    assert photo_count(client) == 0
    assert client.get("/api/v1/persons/photos/nothing").status_code == 404


def test_photos_are_purged(client: TestClient) -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="PNG")
    client.post("/api/v1/persons/photos", files={"photo": ("p.png", out.getvalue(), "image/png")})
    assert photo_count(client) == 1
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(runtime.sessions) as session:
        counts = purge_all(session, utcnow() + dt.timedelta(days=61))
    assert counts["person_photo"] == 1 and photo_count(client) == 0


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (what a decompression bomb does)."""
    out = io.BytesIO()
    Image.new("L", (8, 8)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_declared_pixels_over_the_limit_are_refused_before_decoding(client: TestClient) -> None:
    bomb = png_declaring(6000, 6000)
    assert len(bomb) < 200 and Image.open(io.BytesIO(bomb)).size == (6000, 6000)
    response = client.post("/api/v1/persons/photos",
                           files={"photo": ("bomb.png", bomb, "image/png")})
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert "6000 x 6000" in error["message"] and "4096 x 4096" in error["message"]
    assert error["details"]["max_pixels"] == photos.MAX_PIXELS == 16_777_216
    strip = client.post("/api/v1/persons/photos",
                        files={"photo": ("strip.png", png_declaring(10_000, 100), "image/png")})
    assert strip.status_code == 413 and "8192 on a side" in strip.json()["error"]["message"]
    assert photo_count(client) == 0


def test_a_phone_photo_round_trips_through_the_pool_upright(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    offload = client.app.state.runtime.offload  # type: ignore[attr-defined]
    sent: list[tuple[str, str]] = []
    run = offload.run

    async def spy(lane: Lane, fn: Callable[..., Any], *args: Any) -> Any:
        sent.append((lane.name, fn.__name__))
        return await run(lane, fn, *args)

    monkeypatch.setattr(offload, "run", spy)
    # 12 Mpx, as a phone writes it: sideways pixels with an EXIF orientation (6: turn 90° CW).
    image = Image.new("RGB", (4000, 3000), (30, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=60)
    response = client.post("/api/v1/persons/photos",
                           files={"photo": ("portrait.jpg", out.getvalue(), "image/jpeg")})
    assert response.status_code == 201, response.text
    served = client.get(response.json()["photo_url"].split("127.0.0.1:8000", 1)[1])
    stored = Image.open(io.BytesIO(served.content))
    assert stored.format == "JPEG" and stored.size == (1200, 1600)  # upright, scaled down
    assert not stored.getexif() and b"PhoneMaker" not in served.content
    assert photo_count(client) == 1
    assert sent == [("persons.photo", "reencode")]  # decoded in the pool, not on the loop


def test_reencode_checks_the_limits_on_its_own() -> None:
    # The pool function does not trust the request's header check.
    with pytest.raises(photos.PhotoTooLarge, match="4096 x 4096"):
        photos.reencode(png_declaring(5000, 5000))
    with pytest.raises(photos.PhotoTooLarge, match="bytes"):
        photos.reencode(b"\0" * (photos.MAX_PHOTO_BYTES + 1))
