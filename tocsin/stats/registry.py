"""Discovery of the figures every domain contributes (``tocsin/<domain>/figures.py``).

The list of domains is ``tocsin.domains.DOMAINS``: stats reads no domain's tables itself, it asks
each domain's ``figures`` module (contract: ``tocsin.core.figures``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType

from tocsin.core.errors import Invalid
from tocsin.core.figures import Kind
from tocsin.domains import domain_modules


@dataclass(frozen=True)
class Registry:
    """The figures modules and their kinds, by name."""

    modules: tuple[ModuleType, ...]
    kinds: dict[str, Kind]

    def kind(self, name: str) -> Kind:
        """Return the kind called ``name`` or refuse naming the known ones."""
        found = self.kinds.get(name)
        if found is None:
            raise Invalid(f"unknown figure {name!r} (known: {', '.join(sorted(self.kinds))})")
        return found

    def subjects(self) -> dict[str, list[ModuleType]]:
        """Return each bus subject with the modules that turn its events into facts."""
        out: dict[str, list[ModuleType]] = {}
        for module in self.modules:
            for subject in getattr(module, "SUBJECTS", ()):
                out.setdefault(subject, []).append(module)
        return out


def build(modules: list[ModuleType]) -> Registry:
    """Check and index ``modules`` (two domains may not claim one kind name)."""
    kinds: dict[str, Kind] = {}
    for module in modules:
        for kind in module.KINDS:
            if kind.name in kinds:
                raise ValueError(f"figure {kind.name!r} declared twice ({module.__name__})")
            kinds[kind.name] = kind
    return Registry(tuple(modules), kinds)


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """Return the registry of every domain in ``tocsin.domains.DOMAINS`` (built once)."""
    return build(domain_modules("figures"))
