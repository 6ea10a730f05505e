"""Scenes of the content watch: a wave of hateful and apologetic posts, reviewed and removed.

The posts come from ``data/posts.csv`` (see ``data/README.md``: fictional lines written for the
demo, and a few tweets of the MLMA corpus). They live on a fictional network, ``reseau-demo``,
whose account pushes them and receives the removal orders (TCO Regulation 2021/784).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

from tocsin.demo.client import new_device
from tocsin.demo.stage import Stage

PLATFORM = "reseau-demo"  # with the run's tag when the database already holds a demo
POSTS_CSV = Path(__file__).with_name("data") / "posts.csv"
CATEGORY = {"apology": "terrorism_apology", "violence": "call_to_violence", "hate": "hate",
            "counter": "other"}


@cache
def load_posts() -> tuple[dict[str, str], ...]:
    """Return the demo's posts (text, kind, source)."""
    with POSTS_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


class WatchScenes(Stage):
    """Reports, platform pushes, moderators' decisions, removal orders and their receipts."""

    @property
    def network(self) -> str:
        return PLATFORM + self.tag

    def platform(self) -> None:
        """A moderator registers the fictional network with its account."""
        self.api.call("POST", "/api/v1/watch/platforms", token=self.cast.token("moderator"),
                      json={"name": self.network, "display_name": "Réseau social (fictif)",
                            "account": self.cast.accounts["platform"].username})

    def posts_wave(self, share: float) -> int:
        """Post a share of the corpus: citizens report half, the platform pushes the rest."""
        posts = list(load_posts())
        start = len(self.sent.items)  # one item per post already sent
        chosen = posts[start:start + max(1, round(len(posts) * share))]
        for index, post in enumerate(chosen, start=start):
            url = f"https://{self.network}.example/p/{1000 + index}"
            if index % 2 == 0:
                ack = self._report(url, post)
            else:
                ack = self.api.call("POST", "/api/v1/watch/ingest",
                                    token=self.cast.token("platform"),
                                    json={"url": url, "text": post["text"],
                                          "author_handle": f"@compte{index:03d}",
                                          "reach": self.rng.randint(50, 40_000)})
            self.sent.items.append({"id": ack["item_id"], "kind": post["kind"], "url": url})
        return len(chosen)

    def _report(self, url: str, post: dict[str, str]) -> Any:
        # Several people often report the same post: the server groups them into one item.
        reporters = 1 + (self.rng.random() < 0.4) + (post["kind"] == "apology")
        ack = None
        for _ in range(reporters):
            ack = self.api.call("POST", "/api/v1/watch/reports", device=new_device(), data={
                "url": url, "platform": self.network, "category": CATEGORY[post["kind"]],
                "excerpt": post["text"]})
        return ack

    def moderate(self, share: float) -> int:
        """Moderators decide the oldest items; a contested call gets a second moderator."""
        pending = [i for i in self.sent.items if not i.get("decided")]
        todo = pending[: max(1, round(len(self.sent.items) * share))]
        for item in todo:
            decision = "keep" if item["kind"] == "counter" else "remove"
            reason = ("contre-discours ou information, à conserver" if decision == "keep"
                      else f"contenu illicite ({CATEGORY[item['kind']]})")
            out = self.api.call("POST", f"/api/v1/watch/items/{item['id']}/decisions",
                                token=self.cast.token("moderator"),
                                json={"decision": decision, "reason": reason},
                                expect=(200, 409))
            if out and out.get("second_opinion_needed"):
                self.api.call("POST", f"/api/v1/watch/items/{item['id']}/decisions",
                              token=self.cast.token("moderator2"),
                              json={"decision": decision, "reason": "second avis : " + reason})
            item["decided"] = decision
            self.sent.decided += 1
        return len(todo)

    def removal_orders(self) -> int:
        """Orders for the terrorist content removed (emergency: the night waives the notice),
        DSA notices for the hate removed. Where the classifier saw it otherwise, the order waits
        for a second moderator, who approves it."""
        issued = 0
        for item in self.sent.items:
            if item.get("decided") != "remove" or item.get("order"):
                continue
            if item["kind"] in ("apology", "violence"):
                body = {"instrument": "order", "legal_basis": "Règlement (UE) 2021/784, art. 3",
                        "reason": "Apologie ou provocation au terrorisme "
                                  "(art. 421-2-5 du code pénal)", "emergency": True}
            elif item["kind"] == "hate":
                body = {"instrument": "notice",
                        "legal_basis": "Règlement (UE) 2022/2065 (DSA), art. 16",
                        "reason": "Provocation à la haine raciale (loi du 29 juillet 1881, "
                                  "art. 24)"}
            else:
                continue
            order = self.api.call("POST", "/api/v1/watch/orders",
                                  token=self.cast.token("moderator"), expect=(201, 409),
                                  json={"item_id": item["id"],
                                        "content_category": CATEGORY[item["kind"]], **body})
            if order and order["status"] == "proposed":
                order = self.api.call("POST", f"/api/v1/watch/orders/{order['id']}/approve",
                                      token=self.cast.token("moderator2"))
            if order:
                item["order"] = order["id"]
                issued += order["instrument"] == "order"
        self.sent.orders += issued
        return issued

    def platform_removes(self, keep_open: int = 1) -> int:
        """The platform fetches its orders and notices (an order's receipt starts its hour),
        acts on every notice and confirms all orders but ``keep_open``; returns the orders
        confirmed."""
        token = self.cast.token("platform")
        received = self.api.call("GET", "/api/v1/watch/platform/orders", token=token)
        waiting = [o for o in received if o["status"] in ("issued", "sent", "received")]
        orders = [o for o in waiting if o["instrument"] == "order"]
        notices = [o for o in waiting if o["instrument"] == "notice"]
        for item in [*orders[: max(0, len(orders) - keep_open)], *notices]:
            self.api.call("POST", f"/api/v1/watch/platform/orders/{item['id']}/confirm",
                          token=token)
        confirmed = max(0, len(orders) - keep_open)
        self.sent.confirmed += confirmed
        return confirmed
