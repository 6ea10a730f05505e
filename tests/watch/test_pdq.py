"""PDQ of images: copies match within HMA's distance, other images do not; the index in use."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
import sklearn.datasets
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from tests.factories import login
from tocsin.core.auth import Role
from tocsin.watch import hashes
from tocsin.watch.media import PDQ_MIN_QUALITY, clean_image, hamming, pdq_hash

DATA = Path(__file__).parent / "data"
# Real photographs shipped inside scikit-learn (a dependency): china.jpg and flower.jpg.
PHOTOS = Path(sklearn.datasets.__file__).parent / "images"
THRESHOLD = 31  # HMA's default
API = "/api/v1/watch"


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue()))


def _crop(image: Image.Image, share: float) -> Image.Image:
    w, h = image.size
    dx, dy = int(w * share), int(h * share)
    return image.crop((dx, dy, w - dx, h - dy))


def _copies(image: Image.Image) -> dict[str, Image.Image]:
    w, h = image.size
    return {
        "re-encoded JPEG q40": _jpeg(image, 40),
        "half size": image.resize((w // 2, h // 2)),
        "double size": image.resize((w * 2, h * 2)),
        "1% cropped off each side": _crop(image, 0.01),
        "cropped, resized and re-encoded": _jpeg(_crop(image, 0.01).resize((w * 3 // 4,
                                                                            h * 3 // 4)), 60),
    }


@pytest.mark.parametrize("path", [PHOTOS / "china.jpg", PHOTOS / "flower.jpg",
                                  DATA / "scene_a.png"], ids=lambda p: p.name)
def test_copies_match_within_the_threshold(path: Path) -> None:
    original = Image.open(path)
    known, quality = pdq_hash(original)
    assert quality >= PDQ_MIN_QUALITY
    for name, copy in _copies(original).items():
        assert hamming(known, pdq_hash(copy)[0]) <= THRESHOLD, name


def test_unrelated_images_do_not_match() -> None:
    images = [Image.open(PHOTOS / "china.jpg"), Image.open(PHOTOS / "flower.jpg"),
              Image.open(DATA / "scene_a.png"), Image.open(DATA / "scene_b.png")]
    pdqs = [pdq_hash(i)[0] for i in images]
    for i, a in enumerate(pdqs):
        for b in pdqs[i + 1:]:
            assert hamming(a, b) > 2 * THRESHOLD
    rotated = pdq_hash(images[0].rotate(90, expand=True))[0]
    assert hamming(pdqs[0], rotated) > THRESHOLD  # PDQ is not rotation-invariant: said in docs


def test_flat_image_has_low_quality_and_is_not_matched(db: Session) -> None:
    flat = io.BytesIO()
    Image.new("RGB", (200, 150), (30, 30, 30)).save(flat, format="PNG")
    clean = clean_image(flat.getvalue())
    assert clean.pdq_quality < PDQ_MIN_QUALITY
    hashes.import_list(db, hashes.parse_list(f"signal_type,signal\npdq,{clean.pdq}\n",
                                             default_source="t"))
    from tocsin.watch.service import image_signals

    assert "pdq" in image_signals(clean) and image_signals(clean)["pdq"] is None
    assert hashes.match(db, pdq=clean.pdq)  # matching the raw value would (nothing stops it)


def _flip(value: str, bits: int) -> str:
    return f"{int(value, 16) ^ ((1 << bits) - 1):064x}"


def test_threshold_is_inclusive_and_configurable(db: Session,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    known = pdq_hash(Image.open(DATA / "scene_a.png"))[0]
    hashes.import_list(db, hashes.parse_list(
        f"signal_type,signal,category\npdq,{known},terrorism_apology\n", default_source="t"))
    (hit,) = hashes.match(db, pdq=_flip(known, 31))
    assert hit == {"signal_type": "pdq", "signal": known, "category": "terrorism_apology",
                   "distance": 31}
    assert hashes.match(db, pdq=_flip(known, 32)) == []
    assert hashes.match(db, pdq=_flip(known, 32), distance=32)
    monkeypatch.setenv("TOCSIN_WATCH_PDQ_DISTANCE", "10")
    assert hashes.match(db, pdq=_flip(known, 11)) == []
    assert hashes.match(db, pdq=_flip(known, 10))


def test_index_sees_rows_added_after_it_was_built(db: Session) -> None:
    first = pdq_hash(Image.open(DATA / "scene_a.png"))[0]
    second = pdq_hash(Image.open(DATA / "scene_b.png"))[0]
    hashes.import_list(db, hashes.parse_list(f"signal_type,signal\npdq,{first}\n",
                                             default_source="t"))
    assert [m["signal"] for m in hashes.match(db, pdq=_flip(second, 3))] == []
    hashes.import_list(db, hashes.parse_list(f"signal_type,signal\npdq,{second}\n",
                                             default_source="t"))
    assert [m["signal"] for m in hashes.match(db, pdq=_flip(second, 3))] == [second]


def test_uploaded_copy_matches_a_partner_pdq_list(client: TestClient) -> None:
    """A cropped, resized JPEG screenshot of a listed photo raises the item (both modes)."""
    from tests.watch.test_api import _queue, _report, _setup_platform

    _setup_platform(client)
    photo = Image.open(PHOTOS / "china.jpg")
    listed = pdq_hash(photo)[0]
    mod = login(client, Role.moderator)
    r = client.post(f"{API}/hashes/import", headers={**mod, "Content-Type": "text/plain"},
                    content=f"pdq {listed}\n")  # ThreatExchange's one-per-line layout
    assert r.json() == {"added": 1, "total_rows": 1}, r.text
    copy = io.BytesIO()
    _crop(photo, 0.01).resize((400, 266)).save(copy, format="JPEG", quality=70)
    other = io.BytesIO()
    Image.open(PHOTOS / "flower.jpg").save(other, format="JPEG", quality=70)
    for n, picture in enumerate((copy.getvalue(), other.getvalue())):
        r = _report(client, url=f"https://x.example/p/{n}", excerpt="Regardez cette image",
                    category="other", files={"screenshot": ("s.jpg", picture, "image/jpeg")})
        assert r.status_code == 201, r.text
    items = {i["url"][-1]: i for i in _queue(client, mod)}
    (hit,) = items["0"]["explanation"]["matches"]
    assert hit["signal_type"] == "pdq" and 0 < hit["distance"] <= THRESHOLD
    assert items["1"]["hash_matches"] == 0
    r = client.post(f"{API}/hashes/match", headers=mod,
                    json={"image_base64": base64.b64encode(copy.getvalue()).decode()})
    assert [m["signal_type"] for m in r.json()["matches"]] == ["pdq"]
    r = client.post(f"{API}/hashes/match", headers=mod, json={
        "image_base64": base64.b64encode(copy.getvalue()).decode(), "distance": 2})
    assert r.json()["matches"] == []


def test_index_is_not_stale_when_ids_are_reused(db: Session) -> None:
    """Rows rolled back (or a table emptied) free their ids: the next rows may get the same
    ids and count; the cached index must not answer for the rows that are gone."""
    first = pdq_hash(Image.open(DATA / "scene_a.png"))[0]
    second = pdq_hash(Image.open(DATA / "scene_b.png"))[0]
    hashes.import_list(db, hashes.parse_list(f"signal_type,signal\npdq,{first}\n",
                                             default_source="t"))
    assert hashes.match(db, pdq=first)
    db.rollback()
    hashes.import_list(db, hashes.parse_list(f"signal_type,signal\npdq,{second}\n",
                                             default_source="t"))
    assert [m["signal"] for m in hashes.match(db, pdq=second)] == [second]
    assert hashes.match(db, pdq=first) == []
