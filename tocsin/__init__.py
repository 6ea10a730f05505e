"""Tocsin: an open platform for the hours when a city is under attack."""

from __future__ import annotations

__version__ = "0.1.0"
