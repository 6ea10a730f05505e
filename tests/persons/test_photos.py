"""Photo upload: re-encoded, metadata stripped, non-images and bombs refused, purged."""

from __future__ import annotations

import datetime as dt
import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from tocsin.core.db import session_scope, utcnow
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
