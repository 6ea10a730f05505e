"""Shared helpers of the persons tests: sample paths and a record factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tocsin.persons import service
from tocsin.persons.models import Person
from tocsin.persons.schemas import PersonIn

PFIF_DIR = (Path(__file__).parents[2] / ".." / "shared" / "data" / "pfif").resolve()
DOMAIN = "tocsin.test"


def sample(name: str) -> bytes:
    """Return the bytes of a shipped PFIF sample."""
    return (PFIF_DIR / name).read_bytes()


def add_person(db: Session, full_name: str, **fields: Any) -> Person:
    """Create a person record through the service (flushed, not committed)."""
    data = PersonIn(full_name=full_name, author_name=fields.pop("author_name", "Famille"),
                    **fields)
    return service.create_person(db, data=data, domain=DOMAIN, actor="test")
