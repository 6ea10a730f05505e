"""Scenes of the cyber desk: the attacks' online echo, reported by organisations.

In the days after 13 November 2015, French websites were defaced with jihadist propaganda and
phishing campaigns used the attacks (fake fundraising for the victims) as a lure. The reports
here are made up in that spirit; every domain is under ``.example`` and every address in the
RFC 5737 documentation ranges, so no indicator points at anything real.
"""

from __future__ import annotations

from typing import Any

from tocsin.demo.client import new_device
from tocsin.demo.stage import Stage, later

TAXII = "application/taxii+json;version=2.1"

REPORTS: tuple[tuple[str | None, dict[str, Any]], ...] = (
    ("organisation", {
        "incident_type": "defacement", "sector": "local_authority", "size": "medium",
        "region": "FR-IDF", "impact": "moderate",
        "description": "La page d'accueil du site de la mairie affiche une revendication des "
                       "attentats. Fichier modifié par un compte FTP volé, connexion depuis "
                       "198.51.100.23.",
        "indicators": ["198.51.100.23", "hxxp://mairie-demo[.]example/index.php"]}),
    ("organisation2", {
        "incident_type": "phishing", "sector": "association", "size": "small",
        "region": "FR-IDF", "impact": "high",
        "description": "Des courriels imitant notre association appellent aux dons pour les "
                       "victimes et renvoient vers un faux site de paiement.",
        "indicators": ["dons-victimes-paris[.]example", "collecte@dons-victimes-paris.example",
                       "203.0.113.45"]}),
    (None, {
        "incident_type": "denial_of_service", "sector": "media", "size": "small",
        "region": "FR-HDF", "impact": "low",
        "description": "Site d'information local saturé depuis 23 h, requêtes venant de "
                       "192.0.2.77 et 192.0.2.78.",
        "indicators": ["192.0.2.77", "192.0.2.78"],
        "contact": {"name": "Rédaction", "email": "redaction@journal-demo.example"}}),
)


class CyberScenes(Stage):
    """Incident reports, triage, indicators, and an advisory under the two-person rule."""

    def cyber_reports(self) -> int:
        """Two organisations report under their account; a newsroom reports anonymously."""
        for key, body in REPORTS:
            token = self.cast.token(key) if key else None
            created = self.api.call("POST", "/api/v1/cyber/incidents", token=token,
                                    device=None if token else new_device(),
                                    json={**body, "occurred_at": later(-0.5)})
            self.sent.cyber_incidents.append(created["id"])
        return len(REPORTS)

    def cyber_advisory(self) -> str:
        """The analysts triage, confirm the phishing indicators and publish an advisory."""
        analyst = self.cast.token("analyst")
        for incident_id in self.sent.cyber_incidents:
            self.api.call("PATCH", f"/api/v1/cyber/incidents/{incident_id}", token=analyst,
                          json={"status": "triaged"})
        found = self.api.call("GET", "/api/v1/cyber/indicators", token=analyst,
                              params={"q": "dons-victimes-paris"})
        for indicator in found:
            self.api.call("PATCH", f"/api/v1/cyber/indicators/{indicator['id']}", token=analyst,
                          json={"status": "confirmed", "tlp": "clear"})
        draft = self.api.call("POST", "/api/v1/cyber/advisories", token=analyst, json={
            "title": "Hameçonnage : faux appels aux dons pour les victimes des attentats",
            "summary": "Des courriels et des SMS usurpent des associations et renvoient vers "
                       "de faux sites de collecte pour les victimes du 13 novembre.",
            "exposed": "Particuliers, associations, entreprises dont les adresses sont "
                       "publiques.",
            "actions": "Ne donnez que sur les sites officiels des associations. Bloquez les "
                       "domaines et adresses listés. Signalez tout message semblable.",
            "severity": "high", "tlp": "clear", "sectors": ["association", "public_administration"],
            "regions": ["FR-IDF"], "incident_ids": self.sent.cyber_incidents[:2],
            "indicator_ids": [i["id"] for i in found]})
        self.api.call("POST", f"/api/v1/cyber/advisories/{draft['id']}/submit", token=analyst)
        published = self.api.call("POST", f"/api/v1/cyber/advisories/{draft['id']}/approve",
                                  token=self.cast.token("analyst2"),
                                  json={"note": "Relu : indicateurs confirmés."})
        self.sent.advisory_id = published["id"]
        return str(published["state"])

    def partner_fetch(self) -> int:
        """A partner CERT reads the confirmed indicators over TAXII 2.1 (HTTP Basic)."""
        account = self.cast.accounts["partner"]
        options: dict[str, Any] = {"headers": {"Accept": TAXII},
                                   "auth": (account.username, account.password)}
        found = self.api.call("GET", "/taxii2/tocsin/collections/", **options)
        own = next(c for c in found["collections"] if not c["can_write"])
        page = self.api.call("GET", f"/taxii2/tocsin/collections/{own['id']}/objects/",
                             **options)
        objects = page.get("objects", []) if page else []
        self.sent.partner_indicators = sum(o.get("type") == "indicator" for o in objects)
        return self.sent.partner_indicators
