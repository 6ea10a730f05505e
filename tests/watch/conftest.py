"""Fixtures of the content-watch tests: the shipped model, principals, a platform."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from tests.factories import make_user
from tocsin.core.auth import Principal, Role
from tocsin.watch.classifier import Model
from tocsin.watch.models import WatchPlatform
from tocsin.watch.orders import add_platform
from tocsin.watch.paths import SHIPPED_MODEL

ADMIN = Principal(user_id=None, username="admin-test", role=Role.admin)


@pytest.fixture(scope="session")
def model() -> Model:
    """The model shipped in the package (trained by `tocsin watch train`)."""
    return Model.load(SHIPPED_MODEL)


def moderator(name: str = "mod1") -> Principal:
    return Principal(user_id=None, username=name, role=Role.moderator)


@pytest.fixture
def platform(db: Session) -> WatchPlatform:
    """A platform with its account (role platform)."""
    account = make_user(db, role=Role.platform, username="x-platform")
    return add_platform(db, name="x", display_name="X", account=account.username, who=ADMIN)


def png_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30),
              fmt: str = "PNG", **save: object) -> bytes:
    """Return an image with a gradient (so its dHash is not all zeros)."""
    image = Image.new("RGB", size, color)
    for x in range(size[0]):
        for y in range(0, size[1], 4):
            image.putpixel((x, y), (x * 4 % 256, y * 5 % 256, 90))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)  # type: ignore[arg-type]
    return out.getvalue()
