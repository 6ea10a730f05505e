"""The list of domains, and how to find a room of each: a leaf module that imports none of them.

It used to live in ``tocsin.app``, so the observatory (which asks every domain for its figures)
imported the web application inside a function to reach it, through a cycle (app → stats api →
stats registry → app), and ``tocsin purge`` loaded every router to find the retention modules.
Here the list has no import of its own: anything may read it, nothing comes along.

A domain plugs in by adding its name to ``DOMAINS``; its rooms are then found by name:
``api`` (its ``router``), ``lifecycle`` (``start``/``stop`` with the worker), ``fastpath``,
``figures`` (the observatory's contract, ``tocsin.core.figures``) and ``retention`` (``purge``).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

DOMAINS: tuple[str, ...] = (
    "sos", "shelter", "persons", "safety", "watch", "alerts", "dispatch", "cyber", "stats",
)


def _optional_module(name: str) -> ModuleType | None:
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def domain_modules(suffix: str) -> list[ModuleType]:
    """Return ``tocsin.<domain>.<suffix>`` for each domain that has one, in ``DOMAINS`` order."""
    modules = []
    for domain in DOMAINS:
        module = _optional_module(f"tocsin.{domain}.{suffix}")
        if module is not None:
            modules.append(module)
    return modules
