"""Shared test data of the cyber desk."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import login
from tocsin.core.auth import Role

REPORT: dict[str, Any] = {
    "incident_type": "defacement", "sector": "local_authority", "size": "small",
    "region": "FR-IDF", "occurred_at": "2026-11-13T21:20:00+01:00", "impact": "moderate",
    "description": "Page d'accueil remplacée ; le script charge hxxp://evil[.]com/x.js "
                   "depuis 203.0.113[.]7, revendication par defacer[@]mail[.]ru",
    "indicators": ["evil[.]com"],
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def report(client: TestClient, body: dict[str, Any] | None = None,
           headers: dict[str, str] | None = None, files: list[Any] | None = None) -> Any:
    """POST a report, as multipart when files are given."""
    data = {**REPORT, **(body or {})}
    if files is None:
        return client.post("/api/v1/cyber/incidents", json=data, headers=headers or {})
    return client.post("/api/v1/cyber/incidents", data={"report": json.dumps(data)},
                       files=[("evidence", f) for f in files], headers=headers or {})


def analysts(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    """Bearer headers of two different analysts (the two-person rule needs both)."""
    return login(client, Role.analyst), login(client, Role.analyst)


ADVISORY: dict[str, Any] = {
    "title": "Vague de défigurations de sites de collectivités",
    "summary": "Des sites de collectivités sont défigurés via un greffon vulnérable.",
    "exposed": "Collectivités utilisant le CMS X en version < 5.2.",
    "actions": "Mettre à jour le greffon, changer les mots de passe d'administration.",
    "severity": "high", "tlp": "clear", "sectors": ["local_authority"], "regions": ["FR-IDF"],
}
