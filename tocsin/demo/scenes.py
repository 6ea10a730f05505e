"""What citizens, dispatchers and authorities do during the crisis itself, one method per scene.

Every scene is a handful of calls to the public API, with the role a real client would hold:
anonymous phones (each its own device token), staff accounts with bearer tokens, the platform's
account. Nothing here reads the database.
"""

from __future__ import annotations

from typing import Any

from tocsin.demo import timeline
from tocsin.demo.client import new_client_id, new_device
from tocsin.demo.stage import FAMILY, GIVEN, Stage, jitter, later


class CrisisScenes(Stage):
    """Silent SOS and dispatch, the official alert, the safety check."""

    # --- silent SOS and dispatch -------------------------------------------------------------

    def sos_burst(self, burst: timeline.Burst) -> int:
        """Send a wave of silent SOS from one site, each from its own phone."""
        site = timeline.SITES[burst.site]
        spread = 25 if burst.site == "bataclan" else 35
        bodies = []
        for _ in range(self.n(burst.count)):
            lat, lon = jitter(self.rng, site.lat, site.lon, spread)
            body: dict[str, Any] = {
                "lat": lat, "lon": lon, "accuracy_m": round(self.rng.uniform(8, 60), 1),
                "situation": self.rng.choice(burst.situations), "client_id": new_client_id(),
            }
            if self.rng.random() < 0.3:
                body["people"] = self.rng.randint(2, 15)
            if self.rng.random() < 0.08:
                body["text"] = self.rng.choice(timeline.SOS_TEXTS)
            bodies.append(body)

        def send(body: dict[str, Any]) -> dict[str, Any]:
            ack = self.api.call("POST", "/api/v1/sos", json=body, device=new_device())
            return {"id": ack["id"], "token": ack["follow_up_token"], "site": burst.site}

        acks = self._many(bodies, send)
        self.sent.sos.extend(acks)
        return len(acks)

    def incident_near(self, site_key: str) -> dict[str, Any] | None:
        """Find the open incident closest to a site in the dispatcher's queue."""
        site = timeline.SITES[site_key]
        queue = self.api.call("GET", "/api/v1/dispatch/incidents",
                              token=self.cast.token("dispatcher"))
        best = min(queue, default=None, key=lambda i: (i["lat"] - site.lat) ** 2
                   + (i["lon"] - site.lon) ** 2)
        return best

    def reinforce(self, site_key: str, extra: int) -> int:
        """The dispatcher sends more units to a site, choosing among the proposed ones."""
        incident = self.incident_near(site_key)
        if incident is None:
            return 0
        dispatcher = self.cast.token("dispatcher")
        proposals = self.api.call(
            "GET", f"/api/v1/dispatch/incidents/{incident['id']}/proposals", token=dispatcher)
        sent = 0
        for proposal in proposals[:extra]:
            self.api.call("POST", f"/api/v1/dispatch/incidents/{incident['id']}/assign",
                          token=dispatcher, json={"unit_id": proposal["unit_id"]},
                          expect=(201, 409))
            sent += 1
        return sent

    def silent_chat(self) -> int:
        """Callers hidden in the concert hall write; the dispatcher reads (audited) and replies."""
        hidden = [a for a in self.sent.sos if a["site"] == "bataclan"][:3]
        dispatcher = self.cast.token("dispatcher")
        lines = ("Nous sommes 8 dans la loge du premier étage, la porte est bloquée",
                 "Un blessé grave avec nous, il respire",
                 "On entend encore des tirs au rez-de-chaussée")
        for ack, line in zip(hidden, lines, strict=False):
            headers = {"X-Follow-Up-Token": ack["token"]}
            self.api.call("POST", f"/api/v1/sos/{ack['id']}/messages", headers=headers,
                          json={"text": line})
            self.api.call("GET", f"/api/v1/sos/{ack['id']}", token=dispatcher,
                          params={"reason": "victime cachée, localisation précise"})
            self.api.call("POST", f"/api/v1/sos/{ack['id']}/reply", token=dispatcher, json={
                "text": "Restez cachés et silencieux, les forces d'intervention arrivent."})
            self.sent.messages += 2
        return len(hidden)

    # --- official alert (CAP) ----------------------------------------------------------------

    def platform_webhook(self) -> bool:
        """The platform registers its webhook to relay alerts (if the operator allows its host)."""
        if self.receiver is None:
            return False
        body = self.api.call("POST", "/api/v1/alerts/webhooks", token=self.cast.token("platform"),
                             json={"url": self.receiver.url("/tocsin/alerts")},
                             expect=(201, 422))
        if not body or "secret" not in body:
            return False
        self.receiver.secret = body["secret"]
        return True

    def alert(self) -> str:
        """One authority composes the alert, a second approves it: published and fanned out."""
        body = {
            "status": "Actual", "categories": ["Security"], "urgency": "Immediate",
            "severity": "Extreme", "certainty": "Observed",
            "response_types": ["Shelter", "Avoid"], "expires": later(12),
            "infos": [
                {"language": "fr-FR", "event": "Attaques terroristes en cours",
                 "headline": "Attaques en cours à Paris et Saint-Denis : restez à l'abri",
                 "description": "Des fusillades et des explosions ont lieu dans les 10e et 11e "
                                "arrondissements et près du Stade de France.",
                 "instruction": "Restez chez vous ou à l'abri. Évitez les 10e et 11e "
                                "arrondissements. Laissez les lignes d'urgence libres ; "
                                "si vous êtes en danger et ne pouvez pas parler, "
                                "utilisez le SOS silencieux."},
                {"language": "en-GB", "event": "Terrorist attacks in progress",
                 "headline": "Attacks in progress in Paris and Saint-Denis: take shelter",
                 "description": "Shootings and explosions in the 10th and 11th arrondissements "
                                "and near the Stade de France.",
                 "instruction": "Stay home or indoors. Avoid the 10th and 11th "
                                "arrondissements. Keep emergency lines free."},
            ],
            "area": {"desc": "Paris et Saint-Denis",
                     "circle": {"lat": 48.8830, "lon": 2.3640, "radius_km": 7}},
        }
        draft = self.api.call("POST", "/api/v1/alerts", token=self.cast.token("authority"),
                              json=body)
        published = self.api.call("POST", f"/api/v1/alerts/{draft['id']}/approve",
                                  token=self.cast.token("authority2"))
        self.sent.alert_id = published["id"]
        return str(published["state"])

    def alert_update_draft(self) -> str:
        """After the assault, an Update is drafted; it waits for a second authority."""
        body = {
            "status": "Actual", "categories": ["Security"], "urgency": "Expected",
            "severity": "Severe", "certainty": "Observed", "response_types": ["Shelter"],
            "expires": later(12),
            "infos": [{"language": "fr-FR", "event": "Attaques terroristes",
                       "headline": "Fin de l'assaut au Bataclan ; restez à l'abri cette nuit",
                       "description": "L'assaut est terminé. Les opérations de secours "
                                      "continuent.",
                       "instruction": "Ne vous déplacez pas cette nuit sauf nécessité."}],
            "area": {"desc": "Paris et Saint-Denis",
                     "circle": {"lat": 48.8830, "lon": 2.3640, "radius_km": 7}},
        }
        draft = self.api.call("POST", f"/api/v1/alerts/{self.sent.alert_id}/update",
                              token=self.cast.token("authority"), json=body)
        self.sent.update_id = draft["id"]
        return f"update {draft['state']}"

    # --- safety check --------------------------------------------------------------------------

    def safety_check(self) -> str:
        """The authority opens a safety check over Paris and Saint-Denis; the second approves."""
        body = self.api.call("POST", "/api/v1/safety/checks", token=self.cast.token("authority"),
                             json={"name": "Attaques de Paris et Saint-Denis — 13 novembre",
                                   "area": {"type": "circle", "lat": 48.8800, "lon": 2.3600,
                                            "radius_m": 9000},
                                   "ends_at": later(48)})
        # A second authority approves it before the public sees it (as for alerts).
        body = self.api.call("POST", f"/api/v1/safety/checks/{body['id']}/approve",
                             token=self.cast.token("authority2"))
        self.sent.check_id = int(body["id"])
        return f"check {body['id']} active"

    def safety_marks(self, count: int) -> int:
        """People mark themselves safe (most) or in need of help (a few, with a position)."""
        bodies = []
        for _ in range(self.n(count)):
            site = self.rng.choice(list(timeline.SITES.values()))
            lat, lon = jitter(self.rng, site.lat, site.lon, 900)
            need = self.rng.random() < 0.08
            body: dict[str, Any] = {"check_id": self.sent.check_id,
                                    "status": "need_help" if need else "safe"}
            if need or self.rng.random() < 0.5:
                body.update(lat=lat, lon=lon)
            if self.rng.random() < 0.3:
                body.update(name=f"{self.rng.choice(GIVEN)} {self.rng.choice(FAMILY)}",
                            phone=f"06 {self.rng.randint(10, 99)} {self.rng.randint(10, 99)} "
                                  f"{self.rng.randint(10, 99)} {self.rng.randint(10, 99)}",
                            message="Je vais bien, je rentre dès que possible.")
            bodies.append(body)

        def send(body: dict[str, Any]) -> None:
            self.api.call("POST", "/api/v1/safety/marks", json=body, device=new_device())

        self._many(bodies, send)
        self.sent.marks += len(bodies)
        return len(bodies)
