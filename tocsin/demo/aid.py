"""Scenes of mutual aid: #rechercheparis (missing persons) and #portesouvertes (shelter).

Every name is made up from common French given and family names; no record is about a real
person.
"""

from __future__ import annotations

from typing import Any

from tocsin.demo import timeline
from tocsin.demo.client import new_device
from tocsin.demo.stage import FAMILY, GIVEN, Stage, jitter, later

PLACES = ("au Bataclan, au concert", "en terrasse rue de Charonne", "au Petit Cambodge",
          "au Stade de France, pour le match", "rue de la Fontaine-au-Roi")
NOTES = (
    ("believed_alive", "Je l'ai vu sortir par le passage Amelot, blessé au bras, pris en charge "
                       "par les pompiers."),
    ("believed_alive", "Elle m'a appelé, elle va bien, elle est chez une amie."),
    ("information_sought", "Nous le cherchons toujours, son téléphone ne répond plus."),
    ("is_note_author", "C'est moi : je suis sain et sauf, merci à tous."),
)
NEIGHBOURHOODS = ((48.8660, 2.3790), (48.8610, 2.3650), (48.8700, 2.3550), (48.8560, 2.3900),
                  (48.8760, 2.3740), (48.8500, 2.3800), (48.8640, 2.3980), (48.9250, 2.3500))


class AidScenes(Stage):
    """Missing-person records and notes; shelter offers, requests and matches."""

    # --- missing persons (PFIF 1.4) ----------------------------------------------------------

    def persons(self, count: int) -> int:
        """Relatives post the people they look for (each from their own phone)."""
        bodies = []
        for i in range(self.n(count)):
            given, family = self.rng.choice(GIVEN), self.rng.choice(FAMILY)
            place = self.rng.choice(PLACES)
            bodies.append({
                "full_name": f"{given} {family}", "given_name": given, "family_name": family,
                "age": str(self.rng.randint(19, 58)), "home_city": "Paris",
                "home_country": "FR",
                "description": f"Vu(e) pour la dernière fois {place}, vers 21 h 30.",
                "author_name": f"{self.rng.choice(GIVEN)} {family}",
                "author_phone": f"06 {i % 90 + 10} {self.rng.randint(10, 99)} "
                                f"{self.rng.randint(10, 99)} {self.rng.randint(10, 99)}",
            })
        # The same person, posted twice by two relatives who spell the name differently.
        twin = dict(bodies[0])
        twin["full_name"] = twin["full_name"].upper().replace("É", "E").replace("È", "E")
        twin["author_name"] = "Une collègue"
        twin.pop("author_phone")
        bodies.append(twin)
        for body in bodies:
            created = self.api.call("POST", "/api/v1/persons", json=body, device=new_device())
            self.sent.persons.append(created["person_record_id"])
        return len(bodies)

    def person_notes(self) -> int:
        """Witnesses and the found themselves add notes with a PFIF status."""
        added = 0
        for record_id in self.sent.persons[: max(1, len(self.sent.persons) * 2 // 3)]:
            status, text = self.rng.choice(NOTES)
            body: dict[str, Any] = {"person_record_id": record_id, "text": text,
                                    "status": status,
                                    "author_name": f"{self.rng.choice(GIVEN)} (témoin)",
                                    "author_made_contact": status != "information_sought"}
            if status == "believed_alive":
                body["last_known_location"] = "Hôpital Saint-Antoine"
            self.api.call("POST", "/api/v1/persons/notes", json=body, device=new_device())
            added += 1
        self.sent.notes += added
        return added

    def review_duplicates(self) -> int:
        """A reviewer links the records that describe the same person."""
        token = self.cast.token("authority")
        linked = 0
        for proposal in self.api.call("GET", "/api/v1/persons/duplicates", token=token)[:2]:
            self.api.call("POST", f"/api/v1/persons/duplicates/{proposal['id']}/link",
                          token=token)
            linked += 1
        return linked

    # --- shelter (#portesouvertes) ----------------------------------------------------------

    def shelter_offers(self, count: int) -> int:
        """Residents open their doors: coarse area shown, address sealed until a match."""
        for _ in range(self.n(count)):
            base = self.rng.choice(NEIGHBOURHOODS)
            lat, lon = jitter(self.rng, *base, 400)
            body = {"lat": lat, "lon": lon,
                    "address": f"{self.rng.randint(1, 120)} rue {self.rng.choice(FAMILY)}, "
                               "Paris",
                    "directions": "Code 4B21, 3e étage gauche",
                    "capacity": self.rng.randint(1, 6), "ends_at": later(20),
                    "access": self.rng.choice(("stairs", "lift", "lift", "wheelchair")),
                    "pets": self.rng.random() < 0.3,
                    "languages": self.rng.choice((["fr"], ["fr", "en"], ["fr", "es"])),
                    "note": "Canapé et matelas, thé chaud. #PortesOuvertes"}
            device = new_device()
            created = self.api.call("POST", "/api/v1/shelter/offers", json=body, device=device)
            self.sent.offers.append({"id": created["id"], "token": created["manage_token"],
                                     "device": device})
        return self.n(count)

    def shelter_requests(self, count: int) -> int:
        """People stranded near the sites ask for a place; each asks the nearest host."""
        made = 0
        sites = [s for s in timeline.SITES.values() if s.key != "bataclan"]
        for _ in range(self.n(count)):
            site = self.rng.choice(sites)
            lat, lon = jitter(self.rng, site.lat, site.lon, 300)
            device = new_device()
            created = self.api.call("POST", "/api/v1/shelter/requests", device=device, json={
                "lat": lat, "lon": lon, "people": self.rng.randint(1, 3),
                "languages": ["fr"], "note": "Bloqués, plus de métro"})
            request = {"id": created["id"], "token": created["token"], "device": device}
            self.sent.requests.append(request)
            made += 1
            headers = {"X-Request-Token": request["token"]}
            found = self.api.call("GET", f"/api/v1/shelter/requests/{request['id']}/proposals",
                                  headers=headers, device=device)
            if found["proposals"]:
                offer_id = found["proposals"][0]["offer_id"]
                self.api.call("POST", f"/api/v1/shelter/requests/{request['id']}/ask",
                              headers=headers, device=device, json={"offer_id": offer_id},
                              expect=(200, 409))
        group = self.api.call("POST", "/api/v1/shelter/group-requests",
                              token=self.cast.token("dispatcher"),
                              json={"lat": 48.9245, "lon": 2.3602, "people": 8,
                                    "note": "Supporters évacués du Stade de France"})
        self.sent.requests.append({"id": group["id"], "token": group["token"], "device": ""})
        return made + 1

    def hosts_answer(self) -> int:
        """Hosts accept the people who asked them; accepted seekers then see the address."""
        accepted = 0
        for offer in self.sent.offers:
            headers = {"X-Manage-Token": offer["token"]}
            waiting = self.api.call("GET", f"/api/v1/shelter/offers/{offer['id']}/requests",
                                    headers=headers, device=offer["device"])
            for request in waiting["requests"]:
                if request["status"] != "asked":
                    continue
                self.api.call(
                    "POST", f"/api/v1/shelter/offers/{offer['id']}/requests/{request['id']}"
                    "/accept", headers=headers, device=offer["device"], expect=(200, 409))
                accepted += 1
        for request in self.sent.requests[:3]:
            if not request["device"]:
                continue
            self.api.call("GET", f"/api/v1/shelter/requests/{request['id']}/address",
                          headers={"X-Request-Token": request["token"]},
                          device=request["device"], expect=(200, 403))
        self.sent.matched = accepted
        return accepted
