"""DESIGN.md's layering, checked on the source: ``core`` imports no domain, and no domain
imports another domain's ``api`` (import-linter checks the first too, in ``make lint``)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from tocsin.domains import DOMAINS

PACKAGE = Path(__file__).resolve().parents[1] / "tocsin"
TOP_LEVEL = {"core", "web", "migrations"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _domains() -> set[str]:
    return {
        p.name for p in PACKAGE.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in TOP_LEVEL
    }


def test_core_imports_no_domain() -> None:
    forbidden = _domains() | {"web", "app", "cli", "models", "retention"}
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in (PACKAGE / "core").rglob("*.py")
        for name in _imports(path)
        if name.startswith("tocsin.") and name.split(".")[1] in forbidden
    ]
    assert offenders == []


def test_no_domain_imports_another_domains_api() -> None:
    offenders = []
    for domain in _domains():
        for path in (PACKAGE / domain).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                is_api = len(parts) >= 3 and parts[0] == "tocsin" and parts[2] == "api"
                if is_api and parts[1] != domain:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_every_domain_is_under_the_import_contracts() -> None:
    """A new domain in tocsin.domains.DOMAINS is covered by import-linter's contracts, or fails."""
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    layers = contracts["layers: cli > app > web > domains > core"]["layers"]
    domain_layer = {name.strip() for name in layers[3].split(":")}
    independent = set(contracts["domains are independent but for the crossings listed"]
                      ["modules"])
    forbidden_to_core = set(contracts["core imports no domain"]["forbidden_modules"])
    for domain in DOMAINS:
        module = f"tocsin.{domain}"
        assert module in domain_layer, f"{module} missing from the layers contract"
        assert module in independent, f"{module} missing from the independence contract"
        assert module in forbidden_to_core, f"{module} missing from 'core imports no domain'"
    assert {d.split(".")[1] for d in domain_layer} == set(DOMAINS) == _domains() - {"demo"}
