"""Request and response models of the observatory API."""

from __future__ import annotations

from pydantic import BaseModel


class KindOut(BaseModel):
    """A figure a domain contributes."""

    name: str
    fr: str
    en: str
    categories: list[str]
    unit: str
    mapped: bool
    watch: bool
    public: bool
    details: str
