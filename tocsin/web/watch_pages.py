"""``/watch`` (moderators and analysts) and ``/report`` (anyone): the content-watch pages.

``/watch`` is a public HTML shell: its script logs in with the password flow and calls the
role-protected watch API with the bearer token, so the page itself holds no data. ``/report`` is
the citizen's form; it posts to the public, rate-limited report endpoint and keeps nothing about
the reporter.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.web import i18n
from tocsin.web import staff_login as _staff_login  # noqa: F401  (registers the sign-in texts)
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

CATEGORIES = ("terrorism_apology", "call_to_violence", "hate", "other")
WATCH_KEYS = (
    "watch.error", "watch.empty", "watch.no_orders", "watch.score", "watch.reports",
    "watch.priority", "watch.show_image", "watch.remove", "watch.keep", "watch.escalate",
    "watch.reason", "watch.decided", "watch.second_opinion", "watch.order", "watch.ordered",
    "watch.legal_basis", "watch.emergency", "watch.overdue", "watch.deadline", "watch.why",
    "watch.status.issued", "watch.status.received", "watch.status.removed",
    "watch.status.contested", "watch.minutes_left",
    "watch.instrument", "watch.instrument.order", "watch.instrument.notice",
    "watch.basis.order", "watch.basis.notice", "watch.content_category", "watch.as_classified",
    "watch.proposed", "watch.notice_sent", "watch.approve", "watch.withdraw",
    "watch.withdraw_reason", "watch.approved", "watch.withdrawn", "watch.proposed_by",
    "watch.approved_by", "watch.no_clock", "watch.stage2", "watch.quote",
    "watch.signed_in", "watch.orders_done", "watch.role.moderator", "watch.role.analyst",
    "watch.report_one",
    *(f"watch.reason.{r}" for r in ("slur", "insult", "dehumanise", "violence", "glorify",
                                    "negation", "condemn", "report_act", "news", "quote",
                                    "solidarity", "expression")),
    *(f"watch.status.{s}" for s in ("proposed", "withdrawn", "sent", "actioned", "declined")),
    *(f"watch.cat.{c}" for c in (*CATEGORIES, "none")),
    *(f"watch.item.{s}" for s in ("pending", "second_opinion", "escalated", "removed", "kept")),
)
REPORT_KEYS = ("report.sent", "report.grouped", "report.error")

_FR = {
    "watch.title": "Veille des contenus",
    "watch.lead": "File de revue priorisée, décisions motivées, injonctions de retrait pour "
                  "les contenus terroristes (règlement (UE) 2021/784 : retrait dans l'heure) "
                  "et notifications DSA pour les autres contenus illicites.",
    "watch.login_title": "Connexion modérateur ou analyste",
    "watch.wrong_role": "Ce compte n'est ni modérateur ni analyste.",
    "watch.logout": "Se déconnecter",
    "watch.queue": "File de revue",
    "watch.orders": "Injonctions de retrait et notifications",
    "watch.refresh": "Actualiser",
    "watch.error": "Erreur",
    "watch.empty": "Aucun contenu à examiner.",
    "watch.no_orders": "Aucune injonction ni notification.",
    "watch.score": "score",
    "watch.reports": "signalements",
    "watch.priority": "priorité",
    "watch.show_image": "Afficher l'image (consultation journalisée)",
    "watch.remove": "Retirer",
    "watch.keep": "Conserver",
    "watch.escalate": "Transmettre",
    "watch.reason": "Motif de la décision",
    "watch.decided": "Décision enregistrée.",
    "watch.second_opinion": "Décision contraire à l'évaluation : un second avis est requis.",
    "watch.order": "Envoyer à la plateforme",
    "watch.ordered": "Injonction émise.",
    "watch.legal_basis": "Base légale",
    "watch.emergency": "Urgence (sans préavis de 12 h, art. 3(2))",
    "watch.overdue": "EN RETARD",
    "watch.deadline": "échéance",
    "watch.minutes_left": "min restantes",
    "watch.why": "Pourquoi :",
    "watch.stage2": "confirmé par le second étage",
    "watch.quote": "« {text} »",
    "watch.reason.slur": "mot : {q} (injure discriminatoire)",
    "watch.reason.insult": "mot : {q} (insulte)",
    "watch.reason.dehumanise": "mot : {q} (déshumanisation)",
    "watch.reason.violence": "mot : {q} (violence)",
    "watch.reason.glorify": "mot : {q} (glorification)",
    "watch.reason.negation": "négation : {q}",
    "watch.reason.condemn": "cadre : condamnation ({q})",
    "watch.reason.report_act": "cadre : signalement ({q})",
    "watch.reason.news": "cadre : information ({q})",
    "watch.reason.quote": "cadre : citation ({q})",
    "watch.reason.solidarity": "cadre : solidarité ({q})",
    "watch.reason.expression": "expression : {q}",
    "watch.signed_in": "Connecté(e) :",
    "watch.role.moderator": "modération",
    "watch.role.analyst": "analyse",
    "watch.report_one": "signalement",
    "watch.orders_done": "Terminées : contenu retiré, proposition abandonnée, suivie d'effet "
                         "ou refusée",
    "watch.col.order": "N° · plateforme",
    "watch.col.url": "Contenu (URL)",
    "watch.col.status": "État",
    "watch.col.deadline": "Échéance",
    "watch.status.issued": "émise",
    "watch.status.received": "reçue",
    "watch.status.removed": "retiré",
    "watch.status.contested": "contestée",
    "watch.instrument": "Instrument",
    "watch.instrument.order": "Injonction de retrait (contenu terroriste, retrait en 1 h)",
    "watch.instrument.notice": "Notification DSA (art. 16, contenu illicite)",
    "watch.basis.order": "Règlement (UE) 2021/784, art. 3",
    "watch.basis.notice": "Règlement (UE) 2022/2065 (DSA), art. 16",
    "watch.content_category": "Nature du contenu",
    "watch.as_classified": "selon le classifieur",
    "watch.proposed": "Proposée : un second modérateur doit l'approuver avant l'envoi.",
    "watch.notice_sent": "Notification envoyée.",
    "watch.approve": "Approuver et envoyer",
    "watch.withdraw": "Retirer la proposition",
    "watch.withdraw_reason": "Motif du retrait",
    "watch.approved": "Approuvée et envoyée.",
    "watch.withdrawn": "Proposition retirée.",
    "watch.proposed_by": "proposée par",
    "watch.approved_by": "approuvée par",
    "watch.no_clock": "sans délai d'une heure",
    "watch.status.proposed": "à approuver",
    "watch.status.withdrawn": "retirée",
    "watch.status.sent": "envoyée",
    "watch.status.actioned": "suivie d'effet",
    "watch.status.declined": "refusée par la plateforme",
    "watch.cat.terrorism_apology": "apologie du terrorisme",
    "watch.cat.call_to_violence": "appel à la violence",
    "watch.cat.hate": "haine",
    "watch.cat.other": "autre",
    "watch.cat.none": "rien à signaler",
    "watch.item.pending": "à examiner",
    "watch.item.second_opinion": "second avis requis",
    "watch.item.escalated": "transmis",
    "watch.item.removed": "retiré",
    "watch.item.kept": "conservé",
    "report.title": "Signaler un contenu",
    "report.lead": "Vous avez vu en ligne une apologie du terrorisme, un appel à la violence ou "
                   "à la haine ? Signalez-le. Aucun compte n'est demandé et rien ne vous "
                   "identifie. En cas de danger immédiat, appelez le 17.",
    "report.url": "Adresse (URL) du contenu",
    "report.platform": "Plateforme",
    "report.category": "Nature du contenu",
    "report.excerpt": "Extrait du texte",
    "report.screenshot": "Capture d'écran (facultatif, 900 Ko au plus)",
    "report.submit": "Envoyer le signalement",
    "report.sent": "Merci, votre signalement a été transmis.",
    "report.grouped": "Merci : ce contenu était déjà signalé, votre signalement s'y ajoute.",
    "report.error": "Le signalement n'a pas pu être envoyé",
    "report.privacy": "Ne partagez pas ce contenu : le signaler suffit. La capture est "
                      "réencodée et ses métadonnées (position, appareil) supprimées.",
}
_EN = {
    "watch.title": "Content watch",
    "watch.lead": "Prioritised review queue, reasoned decisions, removal orders for "
                  "terrorist content (Regulation (EU) 2021/784: removal within one hour) and "
                  "DSA notices for other illegal content.",
    "watch.login_title": "Moderator or analyst sign-in",
    "watch.wrong_role": "This account is neither a moderator nor an analyst.",
    "watch.logout": "Sign out",
    "watch.queue": "Review queue",
    "watch.orders": "Removal orders and notices",
    "watch.refresh": "Refresh",
    "watch.error": "Error",
    "watch.empty": "Nothing to review.",
    "watch.no_orders": "No orders or notices.",
    "watch.score": "score",
    "watch.reports": "reports",
    "watch.priority": "priority",
    "watch.show_image": "Show image (viewing is logged)",
    "watch.remove": "Remove",
    "watch.keep": "Keep",
    "watch.escalate": "Escalate",
    "watch.reason": "Reason for the decision",
    "watch.decided": "Decision recorded.",
    "watch.second_opinion": "Decision against the assessment: a second opinion is required.",
    "watch.order": "Send to the platform",
    "watch.ordered": "Order issued.",
    "watch.legal_basis": "Legal basis",
    "watch.emergency": "Emergency (no 12-hour notice, Art. 3(2))",
    "watch.overdue": "OVERDUE",
    "watch.deadline": "deadline",
    "watch.minutes_left": "min left",
    "watch.why": "Why:",
    "watch.stage2": "checked by the second stage",
    "watch.quote": "“{text}”",
    "watch.reason.slur": "word: {q} (discriminatory slur)",
    "watch.reason.insult": "word: {q} (insult)",
    "watch.reason.dehumanise": "word: {q} (dehumanising)",
    "watch.reason.violence": "word: {q} (violence)",
    "watch.reason.glorify": "word: {q} (glorification)",
    "watch.reason.negation": "negation: {q}",
    "watch.reason.condemn": "frame: condemnation ({q})",
    "watch.reason.report_act": "frame: reporting ({q})",
    "watch.reason.news": "frame: news ({q})",
    "watch.reason.quote": "frame: quotation ({q})",
    "watch.reason.solidarity": "frame: solidarity ({q})",
    "watch.reason.expression": "phrase: {q}",
    "watch.signed_in": "Signed in:",
    "watch.role.moderator": "moderation",
    "watch.role.analyst": "analysis",
    "watch.report_one": "report",
    "watch.orders_done": "Finished: content removed, proposal withdrawn, acted upon or "
                         "declined",
    "watch.col.order": "No. · platform",
    "watch.col.url": "Content (URL)",
    "watch.col.status": "Status",
    "watch.col.deadline": "Deadline",
    "watch.status.issued": "issued",
    "watch.status.received": "received",
    "watch.status.removed": "removed",
    "watch.status.contested": "contested",
    "watch.instrument": "Instrument",
    "watch.instrument.order": "Removal order (terrorist content, removal within 1 h)",
    "watch.instrument.notice": "DSA notice (Art. 16, illegal content)",
    "watch.basis.order": "Regulation (EU) 2021/784, Art. 3",
    "watch.basis.notice": "Regulation (EU) 2022/2065 (DSA), Art. 16",
    "watch.content_category": "Kind of content",
    "watch.as_classified": "as classified",
    "watch.proposed": "Proposed: a second moderator must approve it before it is sent.",
    "watch.notice_sent": "Notice sent.",
    "watch.approve": "Approve and send",
    "watch.withdraw": "Withdraw the proposal",
    "watch.withdraw_reason": "Reason for withdrawing",
    "watch.approved": "Approved and sent.",
    "watch.withdrawn": "Proposal withdrawn.",
    "watch.proposed_by": "proposed by",
    "watch.approved_by": "approved by",
    "watch.no_clock": "no one-hour clock",
    "watch.status.proposed": "awaiting approval",
    "watch.status.withdrawn": "withdrawn",
    "watch.status.sent": "sent",
    "watch.status.actioned": "acted upon",
    "watch.status.declined": "declined by the platform",
    "watch.cat.terrorism_apology": "terrorism apology",
    "watch.cat.call_to_violence": "call to violence",
    "watch.cat.hate": "hate",
    "watch.cat.other": "other",
    "watch.cat.none": "nothing to flag",
    "watch.item.pending": "to review",
    "watch.item.second_opinion": "second opinion needed",
    "watch.item.escalated": "escalated",
    "watch.item.removed": "removed",
    "watch.item.kept": "kept",
    "report.title": "Report content",
    "report.lead": "Seen terrorism apology, a call to violence or to hatred online? Report "
                   "it. No account is needed and nothing identifies you. In immediate danger, "
                   "call 17 (112).",
    "report.url": "Address (URL) of the content",
    "report.platform": "Platform",
    "report.category": "Kind of content",
    "report.excerpt": "Excerpt of the text",
    "report.screenshot": "Screenshot (optional, at most 900 kB)",
    "report.submit": "Send the report",
    "report.sent": "Thank you, your report was sent.",
    "report.grouped": "Thank you: this content was already reported, your report was added.",
    "report.error": "The report could not be sent",
    "report.privacy": "Do not share the content: reporting it is enough. The screenshot is "
                      "re-encoded and its metadata (position, device) removed.",
}
i18n.register_messages({"fr": _FR, "en": _EN})


@router.get("/watch", response_class=HTMLResponse, dependencies=[Depends(public())])
def watch_page(request: Request) -> Response:
    """Show the moderators' console shell (data comes from the role-protected API)."""
    return render_page(request, "watch.html", entry="watch",
                       context={"script_keys": WATCH_KEYS})


@router.get("/report", response_class=HTMLResponse, dependencies=[Depends(public())])
def report_page(request: Request) -> Response:
    """Show the public report form."""
    return render_page(request, "report.html", entry="report",
                       context={"script_keys": REPORT_KEYS, "categories": CATEGORIES})
