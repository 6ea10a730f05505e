"""Which legal instrument fits an item, and when one moderator may not use it alone.

Two instruments reach a platform, and they are not interchangeable:

- a **removal order** under Regulation (EU) 2021/784 (TCO) binds the platform to remove within
  one hour of receipt. It exists for *terrorist content* only (Art. 2(7): incitement, apology,
  solicitation to commit or join, instructions): here the categories ``terrorism_apology`` and
  ``call_to_violence``. Plain hate speech is illegal content, not terrorist content;
- a **notice** under the Digital Services Act (Regulation (EU) 2022/2065, Art. 16) tells the
  platform of illegal content; the platform decides and states its reasons (Art. 17), with no
  one-hour clock. When the authority is a trusted flagger (Art. 22, awarded by the Digital
  Services Coordinator: ``TOCSIN_WATCH_TRUSTED_FLAGGER``) the platform must treat it with
  priority, and the notice says so.

Two cases need a second moderator before anything leaves (the instrument waits as
``proposed``; another moderator approves or withdraws it):

- the item was *kept* (a moderator decided it stays): acting against that decision takes two;
- an order for an item the classifier did not place in a terrorist category: the moderator
  states the category, and a second one must agree (the classifier errs both ways; two humans
  overrule it, one does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tocsin.core.errors import DomainError

TERRORIST_CATEGORIES: frozenset[str] = frozenset({"terrorism_apology", "call_to_violence"})
ILLEGAL_CATEGORIES: frozenset[str] = TERRORIST_CATEGORIES | {"hate"}


class Instrument(StrEnum):
    order = "order"  # TCO removal order, one hour from receipt
    notice = "notice"  # DSA Art. 16 notice (Art. 22 priority when we are a trusted flagger)


class Status(StrEnum):
    """Statuses of a removal order or a notice, in the order they happen."""

    proposed = "proposed"  # waits for a second moderator; the platform does not see it
    withdrawn = "withdrawn"  # a proposal that was not approved
    issued = "issued"  # order: sent, clock not started
    sent = "sent"  # notice: sent
    received = "received"  # the platform fetched it (order: the hour starts)
    removed = "removed"  # order: removal confirmed
    contested = "contested"  # order: contested (TCO Art. 9)
    actioned = "actioned"  # notice: the platform removed or disabled the content
    declined = "declined"  # notice: the platform decided not to act, with its reasons


# Still awaiting the platform (or a second moderator): a second one for the item is refused.
OPEN_STATUSES: tuple[str, ...] = (Status.proposed, Status.issued, Status.sent, Status.received)
# What the platform's account sees: everything once it has left Tocsin.
VISIBLE_TO_PLATFORM: tuple[str, ...] = (
    Status.issued, Status.sent, Status.received, Status.removed, Status.contested,
    Status.actioned, Status.declined)


class WrongInstrument(DomainError):
    """An order for content that is not terrorist content (hate goes as a DSA notice)."""

    status = 422
    code = "wrong_instrument"


@dataclass(frozen=True)
class Plan:
    """What issuing will do: the category the instrument is for, and whether it waits."""

    category: str
    needs_second_moderator: bool
    why: str | None


def plan(*, instrument: Instrument, classified: str, stated: str | None,
         kept: bool) -> Plan:
    """Check the instrument against the item; raise ``WrongInstrument`` when it cannot fit.

    ``classified`` is the classifier's category, ``stated`` the issuing moderator's (if any),
    ``kept`` whether a moderator's standing decision on the item is to keep it.
    """
    category = stated or classified
    if category not in ILLEGAL_CATEGORIES:
        raise WrongInstrument(
            f"the item is classified {category!r}: state the illegal content category "
            f"(content_category: {', '.join(sorted(ILLEGAL_CATEGORIES))}) to send anything")
    if instrument is Instrument.order and category not in TERRORIST_CATEGORIES:
        raise WrongInstrument(
            f"a removal order (Regulation (EU) 2021/784) is only for terrorist content "
            f"({', '.join(sorted(TERRORIST_CATEGORIES))}); content classified {category!r} "
            "goes to the platform as a notice (instrument: notice, DSA Art. 16)")
    reasons = []
    if kept:
        reasons.append("a moderator decided to keep this item")
    if instrument is Instrument.order and classified not in TERRORIST_CATEGORIES:
        reasons.append(f"the classifier placed it in {classified!r}, not terrorist content")
    return Plan(category=category, needs_second_moderator=bool(reasons),
                why="; ".join(reasons) or None)
