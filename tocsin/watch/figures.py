"""Figures the content watch contributes to the observatory (contract: ``tocsin.core.figures``).

Reports by category (detail: platform), items by source, moderators' final decisions against
the classifier's flag (so the classifier's precision is measured by humans), and the life of
removal orders (TCO Regulation (EU) 2021/784) and of DSA notices (Regulation (EU) 2022/2065,
Art. 16 and 22), counted apart: they are different instruments with different duties.
``report`` adds the Art. 7(2)/8 lines that are states rather than events (orders overdue at the
end of the period).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.core.bus import Event
from tocsin.core.figures import Fact, Kind, Line, seconds_between
from tocsin.watch.events import ItemStatus
from tocsin.watch.models import WatchItem, WatchOrder, WatchPlatform, WatchReport
from tocsin.watch.schemas import ReportCategory

REPORTED = tuple(c.value for c in ReportCategory)
SOURCES = ("report", "ingest", "feed")
OUTCOMES = ("true_positive", "false_positive", "false_negative", "true_negative")
KINDS = (
    Kind("watch.report", "Signalements de contenus", "Content reports", categories=REPORTED,
         details="platform", watch=True),
    Kind("watch.item", "Contenus reçus", "Content items received", categories=SOURCES,
         details="platform"),
    Kind("watch.decision", "Décisions des modérateurs face au classifieur",
         "Moderators' decisions against the classifier", categories=OUTCOMES),
    Kind("watch.order_issued", "Injonctions de retrait émises", "Removal orders issued",
         categories=("emergency", "notified"), details="platform"),
    Kind("watch.order_removed", "Retraits confirmés", "Removals confirmed",
         categories=("within_hour", "late"), details="platform", unit="seconds"),
    Kind("watch.order_contested", "Injonctions contestées", "Orders contested",
         details="platform"),
    Kind("watch.notice_sent", "Notifications DSA envoyées (art. 16)",
         "DSA notices sent (Art. 16)", categories=("trusted_flagger", "standard"),
         details="platform"),
    Kind("watch.notice_actioned", "Notifications suivies d'un retrait",
         "Notices acted upon", details="platform", unit="seconds"),
    Kind("watch.notice_declined", "Notifications refusées par la plateforme",
         "Notices declined by the platform", details="platform"),
)
SUBJECTS: tuple[str, ...] = ()
# Never left Tocsin: a proposal awaiting (or refused by) the second moderator is not counted.
NOT_SENT = ("proposed", "withdrawn")


def from_event(session: Session, event: Event) -> list[Fact]:
    """No event is consumed (reports come in groups the events do not show: swept instead)."""
    return []


def _platforms(session: Session) -> dict[int, str]:
    return dict(session.execute(select(WatchPlatform.id, WatchPlatform.name)).all())


def outcome(item: WatchItem) -> str:
    """Classify a decided item: was the classifier (or a known hash) right by the moderators?"""
    flagged = bool((item.explanation or {}).get("flagged")) or item.hash_matches > 0
    removed = item.status == ItemStatus.removed
    return {(True, True): "true_positive", (True, False): "false_positive",
            (False, True): "false_negative", (False, False): "true_negative"}[(flagged, removed)]


def from_tables(session: Session, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Return reports, items, decisions and order steps in ``[start, end)``."""
    facts = [
        Fact("watch.report", str(r.id), r.reported_at, category=r.category, detail=r.platform)
        for r in session.execute(
            select(WatchReport.id, WatchReport.reported_at, WatchReport.category,
                   WatchItem.platform)
            .join(WatchItem, WatchItem.id == WatchReport.item_id)
            .where(WatchReport.reported_at >= start, WatchReport.reported_at < end))
    ]
    facts += [
        Fact("watch.item", str(r.id), r.first_seen_at, category=r.source, detail=r.platform)
        for r in session.execute(
            select(WatchItem.id, WatchItem.first_seen_at, WatchItem.source, WatchItem.platform)
            .where(WatchItem.first_seen_at >= start, WatchItem.first_seen_at < end))
    ]
    facts += [
        Fact("watch.decision", str(item.id), item.decided_at, category=outcome(item))
        for item in session.scalars(
            select(WatchItem).where(WatchItem.status.in_((ItemStatus.removed, ItemStatus.kept)),
                                    WatchItem.decided_at >= start, WatchItem.decided_at < end))
        if item.decided_at is not None
    ]
    names = _platforms(session)
    for order in session.scalars(select(WatchOrder).where(
            WatchOrder.status.not_in(NOT_SENT),
            ((WatchOrder.issued_at >= start) & (WatchOrder.issued_at < end))
            | ((WatchOrder.removed_at >= start) & (WatchOrder.removed_at < end))
            | ((WatchOrder.contested_at >= start) & (WatchOrder.contested_at < end)))):
        platform = names.get(order.platform_id, "")
        facts += (_order_facts if order.instrument == "order" else _notice_facts)(
            order, platform, start, end)
    return facts


def _order_facts(order: WatchOrder, platform: str, start: dt.datetime,
                 end: dt.datetime) -> list[Fact]:
    facts = []
    if start <= order.issued_at < end:
        facts.append(Fact("watch.order_issued", str(order.id), order.issued_at,
                          category="emergency" if order.emergency else "notified",
                          detail=platform))
    if order.removed_at is not None and start <= order.removed_at < end:
        facts.append(Fact("watch.order_removed", str(order.id), order.removed_at,
                          category="late" if removed_late(order) else "within_hour",
                          detail=platform,
                          value=seconds_between(order.received_at, order.removed_at)))
    if order.contested_at is not None and start <= order.contested_at < end:
        facts.append(Fact("watch.order_contested", str(order.id), order.contested_at,
                          detail=platform))
    return facts


def _notice_facts(order: WatchOrder, platform: str, start: dt.datetime,
                  end: dt.datetime) -> list[Fact]:
    facts = []
    if start <= order.issued_at < end:
        facts.append(Fact("watch.notice_sent", str(order.id), order.issued_at,
                          category="trusted_flagger" if order.trusted_flagger else "standard",
                          detail=platform))
    if order.removed_at is not None and start <= order.removed_at < end:
        facts.append(Fact("watch.notice_actioned", str(order.id), order.removed_at,
                          detail=platform,
                          value=seconds_between(order.issued_at, order.removed_at)))
    if order.contested_at is not None and start <= order.contested_at < end:
        facts.append(Fact("watch.notice_declined", str(order.id), order.contested_at,
                          detail=platform))
    return facts


def removed_late(order: WatchOrder) -> bool:
    """True when the removal came after the hour from receipt (TCO Art. 3(3))."""
    return (order.removed_at is not None and order.deadline_at is not None
            and order.removed_at > order.deadline_at)


def report(session: Session, start: dt.datetime, end: dt.datetime) -> list[Line]:
    """Return the TCO Art. 7(2)/8 lines, computed from the orders themselves."""
    names = _platforms(session)
    everything = list(session.scalars(select(WatchOrder).where(
        WatchOrder.status.not_in(NOT_SENT), WatchOrder.issued_at < end,
        (WatchOrder.issued_at >= start) | (WatchOrder.removed_at >= start)
        | (WatchOrder.contested_at >= start) | (WatchOrder.deadline_at >= start)
        | (WatchOrder.removed_at.is_(None) & WatchOrder.contested_at.is_(None)))))
    orders = [o for o in everything if o.instrument == "order"]
    notices = [o for o in everything if o.instrument == "notice"]

    def line(key: str, fr: str, en: str, chosen: list[WatchOrder],
             section: str = "tco") -> Line:
        per: dict[str, float] = {}
        for order in chosen:
            name = names.get(order.platform_id, "?")
            per[name] = per.get(name, 0) + 1
        return Line(key, fr, en, float(len(chosen)), section=section, breakdown=per)

    def within(at: dt.datetime | None) -> bool:
        return at is not None and start <= at < end

    issued = [o for o in orders if within(o.issued_at)]
    removed = [o for o in orders if within(o.removed_at)]
    overdue = [o for o in orders if o.deadline_at is not None and o.deadline_at < end
               and (o.removed_at is None or o.removed_at > end)
               and (o.contested_at is None or o.contested_at > end)]
    return [
        line("tco.orders_issued", "Injonctions de retrait émises (art. 3)",
             "Removal orders issued (Art. 3)", issued),
        line("tco.orders_emergency", "dont sans préavis de 12 h, en urgence (art. 3(2))",
             "of which without 12-hour notice, in emergency (Art. 3(2))",
             [o for o in issued if o.emergency]),
        line("tco.orders_received", "Injonctions reçues par les plateformes",
             "Orders received by platforms", [o for o in orders if within(o.received_at)]),
        line("tco.removed", "Retraits confirmés", "Removals confirmed", removed),
        line("tco.removed_within_hour", "Retraits dans l'heure suivant la réception (art. 3(3))",
             "Removals within one hour of receipt (Art. 3(3))",
             [o for o in removed if not removed_late(o)]),
        line("tco.removed_late", "Retraits après l'heure", "Removals after the hour",
             [o for o in removed if removed_late(o)]),
        line("tco.overdue_at_end", "Injonctions en retard à la fin de la période "
             "(heure dépassée, ni retrait ni contestation)",
             "Orders overdue at the end of the period (hour passed, neither removed nor "
             "contested)", overdue),
        line("tco.contested", "Injonctions contestées (art. 9)", "Orders contested (Art. 9)",
             [o for o in orders if within(o.contested_at)]),
        Line("tco.contest_outcomes", "Issue des contestations (art. 9)",
             "Outcome of contests (Art. 9)", None, section="tco",
             note_fr="non enregistrée par Tocsin : la contestation et son motif sont "
                     "conservés, l'issue est décidée hors de Tocsin",
             note_en="not recorded by Tocsin: the contest and its reason are kept, the "
                     "outcome is decided outside Tocsin"),
        Line("tco.reinstatements", "Contenus rétablis", "Content reinstated", None,
             section="tco",
             note_fr="non enregistré : les plateformes le publient dans leur propre rapport "
                     "(art. 7(2))",
             note_en="not recorded: platforms publish it in their own report (Art. 7(2))"),
        Line("tco.penalties", "Sanctions imposées (art. 18)", "Penalties imposed (Art. 18)",
             None, section="tco", note_fr="hors du champ de Tocsin",
             note_en="outside Tocsin's scope"),
        line("dsa.notices_sent", "Notifications de contenus illicites envoyées "
             "(DSA, art. 16)", "Notices of illegal content sent (DSA Art. 16)",
             [o for o in notices if within(o.issued_at)], "dsa"),
        line("dsa.notices_trusted_flagger", "dont en qualité de signaleur de confiance "
             "(art. 22)", "of which as a trusted flagger (Art. 22)",
             [o for o in notices if within(o.issued_at) and o.trusted_flagger], "dsa"),
        line("dsa.notices_actioned", "Notifications suivies d'un retrait ou d'un blocage",
             "Notices followed by removal or disabling",
             [o for o in notices if within(o.removed_at)], "dsa"),
        line("dsa.notices_declined", "Notifications refusées par la plateforme "
             "(motifs conservés, art. 17)", "Notices declined by the platform (reasons kept, "
             "Art. 17)", [o for o in notices if within(o.contested_at)], "dsa"),
        *precision_lines(session, start, end),
    ]


def precision_lines(session: Session, start: dt.datetime, end: dt.datetime) -> list[Line]:
    """Return the classifier's precision and recall as measured by moderators' final decisions."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for item in session.scalars(select(WatchItem).where(
            WatchItem.status.in_((ItemStatus.removed, ItemStatus.kept)),
            WatchItem.decided_at >= start,
            WatchItem.decided_at < end)):
        counts[outcome(item)] += 1
    flagged = counts["true_positive"] + counts["false_positive"]
    harmful = counts["true_positive"] + counts["false_negative"]
    return [
        Line("watch.precision", "Précision du classifieur (contenus signalés par lui et "
             "retirés par les modérateurs)", "Classifier precision (flagged by it and removed "
             "by moderators)", round(counts["true_positive"] / flagged, 3) if flagged else None,
             section="watch", basis=flagged, unit="ratio"),
        Line("watch.recall", "Rappel du classifieur (contenus retirés qu'il avait signalés)",
             "Classifier recall (removed content it had flagged)",
             round(counts["true_positive"] / harmful, 3) if harmful else None,
             section="watch", basis=harmful, unit="ratio"),
    ]
