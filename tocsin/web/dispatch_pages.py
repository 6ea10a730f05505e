"""``/dispatch`` (the dispatcher's console) and ``/unit`` (the patrol's page).

Both are public HTML shells: everything they show comes from role-protected dispatch and sos
routes, called with the bearer token of whoever logs in on the page, so the shells reveal
nothing. The console follows the SSE stream (with a one-time ticket, see
``tocsin.dispatch.stream``); the unit page polls its own state every two seconds, which a
patchy mobile network survives better than a long-lived stream.
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

SITUATIONS = ("attack", "armed_person", "hostage", "hidden", "injured", "fire", "other")
STATUSES = ("available", "offered", "assigned", "on_scene", "off_duty",
            "accepted", "declined", "expired", "cancelled", "closed", "open", "merged")

# Keys handed to the browser scripts through data-i18n-* attributes.
DISPATCH_KEYS = (
    "dispatch.wrong_role", "dispatch.live", "dispatch.reconnecting", "dispatch.stream_closed",
    "dispatch.empty_queue", "dispatch.sos_count", "dispatch.priority", "dispatch.opened",
    "dispatch.no_unit", "dispatch.assign", "dispatch.read", "dispatch.reply_sent",
    "dispatch.reason", "dispatch.trail", "dispatch.no_text", "dispatch.eta", "dispatch.distance",
    "dispatch.you", "dispatch.citizen", "dispatch.action_failed", "dispatch.unassigned",
    *(f"dispatch.situation.{s}" for s in SITUATIONS),
    *(f"dispatch.status.{s}" for s in STATUSES),
)
UNIT_KEYS = (
    "unit.wrong_role", "unit.no_offer", "unit.offer_title",
    "unit.mission_title", "unit.deadline", "unit.position_sent", "unit.no_geolocation",
    "dispatch.sos_count", "dispatch.eta", "dispatch.distance", "dispatch.action_failed",
    "unit.not_linked", "unit.on_duty", "unit.off_duty",
    *(f"dispatch.situation.{s}" for s in SITUATIONS),
    *(f"dispatch.status.{s}" for s in STATUSES),
)

_FR = {
    "dispatch.title": "Régulation",
    "dispatch.lead": "Carte et file des SOS, unités proposées, échange silencieux.",
    "dispatch.login_title": "Connexion opérateur",
    "dispatch.logout": "Se déconnecter",
    "dispatch.wrong_role": "Ce compte n'est pas un compte d'opérateur.",
    "dispatch.live": "En direct",
    "dispatch.reconnecting": "Reconnexion au flux…",
    "dispatch.stream_closed": "Le serveur a fermé le flux :",
    "dispatch.map": "Carte des SOS, incidents et unités",
    "dispatch.queue": "File des incidents",
    "dispatch.empty_queue": "Aucun incident ouvert.",
    "dispatch.sos_count": "SOS",
    "dispatch.priority": "Priorité",
    "dispatch.opened": "Ouvert à",
    "dispatch.detail": "Détail de l'incident",
    "dispatch.pick": "Choisissez un incident dans la file.",
    "dispatch.proposals": "Unités proposées",
    "dispatch.no_unit": "Aucune unité disponible.",
    "dispatch.assign": "Engager",
    "dispatch.reassign": "Réaffecter",
    "dispatch.close": "Clore l'incident",
    "dispatch.read": "Lire (consultation journalisée)",
    "dispatch.reason": "consultation par l'opérateur pour traiter l'alerte",
    "dispatch.trail": "Trajet",
    "dispatch.no_text": "(pas de texte)",
    "dispatch.chat": "Échange silencieux",
    "dispatch.reply": "Répondre",
    "dispatch.reply_placeholder": "Message discret à l'appelant",
    "dispatch.reply_sent": "Message envoyé",
    "dispatch.eta": "arrivée estimée",
    "dispatch.distance": "distance",
    "dispatch.you": "Opérateur",
    "dispatch.citizen": "Appelant",
    "dispatch.action_failed": "Action refusée :",
    "dispatch.unassigned": "sans unité",
    "dispatch.units": "Unités",
    "dispatch.situation.attack": "Attaque",
    "dispatch.situation.armed_person": "Personne armée",
    "dispatch.situation.hostage": "Otages",
    "dispatch.situation.hidden": "Personnes cachées",
    "dispatch.situation.injured": "Blessés",
    "dispatch.situation.fire": "Incendie",
    "dispatch.situation.other": "Autre",
    "dispatch.status.available": "disponible",
    "dispatch.status.offered": "sollicitée",
    "dispatch.status.assigned": "engagée",
    "dispatch.status.on_scene": "sur place",
    "dispatch.status.off_duty": "hors service",
    "dispatch.status.accepted": "acceptée",
    "dispatch.status.declined": "refusée",
    "dispatch.status.expired": "sans réponse",
    "dispatch.status.cancelled": "annulée",
    "dispatch.status.closed": "terminée",
    "dispatch.status.open": "ouvert",
    "dispatch.status.merged": "fusionné",
    "unit.title": "Unité sur le terrain",
    "unit.lead": "Position, missions reçues, prise en charge et clôture.",
    "unit.login_title": "Connexion de l'unité",
    "unit.wrong_role": "Ce compte n'est pas un compte d'unité.",
    "unit.not_linked": "Aucune unité n'est rattachée à ce compte.",
    "unit.status": "État",
    "unit.on_duty": "Prendre le service",
    "unit.off_duty": "Quitter le service",
    "unit.no_offer": "Aucune mission pour l'instant.",
    "unit.offer_title": "Mission proposée",
    "unit.mission_title": "Mission en cours",
    "unit.deadline": "Réponse attendue avant",
    "unit.accept": "Accepter",
    "unit.decline": "Refuser",
    "unit.on_scene": "Sur place",
    "unit.finish": "Terminer la mission",
    "unit.position_sent": "Position envoyée à",
    "unit.no_geolocation": "Géolocalisation indisponible.",
}
_EN = {
    "dispatch.title": "Dispatch",
    "dispatch.lead": "Map and queue of SOS, proposed units, silent messaging.",
    "dispatch.login_title": "Dispatcher login",
    "dispatch.logout": "Log out",
    "dispatch.wrong_role": "This is not a dispatcher account.",
    "dispatch.live": "Live",
    "dispatch.reconnecting": "Reconnecting to the stream…",
    "dispatch.stream_closed": "The server closed the stream:",
    "dispatch.map": "Map of SOS, incidents and units",
    "dispatch.queue": "Incident queue",
    "dispatch.empty_queue": "No open incident.",
    "dispatch.sos_count": "SOS",
    "dispatch.priority": "Priority",
    "dispatch.opened": "Opened at",
    "dispatch.detail": "Incident detail",
    "dispatch.pick": "Pick an incident in the queue.",
    "dispatch.proposals": "Proposed units",
    "dispatch.no_unit": "No unit available.",
    "dispatch.assign": "Assign",
    "dispatch.reassign": "Reassign",
    "dispatch.close": "Close the incident",
    "dispatch.read": "Read (the read is logged)",
    "dispatch.reason": "read by the dispatcher to handle the alert",
    "dispatch.trail": "Trail",
    "dispatch.no_text": "(no text)",
    "dispatch.chat": "Silent chat",
    "dispatch.reply": "Reply",
    "dispatch.reply_placeholder": "Discreet message to the caller",
    "dispatch.reply_sent": "Message sent",
    "dispatch.eta": "estimated arrival",
    "dispatch.distance": "distance",
    "dispatch.you": "Dispatcher",
    "dispatch.citizen": "Caller",
    "dispatch.action_failed": "Action refused:",
    "dispatch.unassigned": "no unit",
    "dispatch.units": "Units",
    "dispatch.situation.attack": "Attack",
    "dispatch.situation.armed_person": "Armed person",
    "dispatch.situation.hostage": "Hostages",
    "dispatch.situation.hidden": "People hiding",
    "dispatch.situation.injured": "Injured",
    "dispatch.situation.fire": "Fire",
    "dispatch.situation.other": "Other",
    "dispatch.status.available": "available",
    "dispatch.status.offered": "offered",
    "dispatch.status.assigned": "assigned",
    "dispatch.status.on_scene": "on scene",
    "dispatch.status.off_duty": "off duty",
    "dispatch.status.accepted": "accepted",
    "dispatch.status.declined": "declined",
    "dispatch.status.expired": "no answer",
    "dispatch.status.cancelled": "cancelled",
    "dispatch.status.closed": "closed",
    "dispatch.status.open": "open",
    "dispatch.status.merged": "merged",
    "unit.title": "Field unit",
    "unit.lead": "Position, assignments received, accept, on scene and close.",
    "unit.login_title": "Unit login",
    "unit.wrong_role": "This is not a unit account.",
    "unit.not_linked": "No unit is linked to this account.",
    "unit.status": "Status",
    "unit.on_duty": "Go on duty",
    "unit.off_duty": "Go off duty",
    "unit.no_offer": "No mission for now.",
    "unit.offer_title": "Mission offered",
    "unit.mission_title": "Current mission",
    "unit.deadline": "Answer expected before",
    "unit.accept": "Accept",
    "unit.decline": "Decline",
    "unit.on_scene": "On scene",
    "unit.finish": "Finish the mission",
    "unit.position_sent": "Position sent at",
    "unit.no_geolocation": "Geolocation unavailable.",
}
i18n.register_messages({"fr": _FR, "en": _EN})


@router.get("/dispatch", response_class=HTMLResponse, dependencies=[Depends(public())])
def dispatch_page(request: Request) -> Response:
    """Show the dispatcher's console (data comes from dispatcher-only routes)."""
    return render_page(
        request, "dispatch.html", entry="dispatch",
        context={"script_keys": DISPATCH_KEYS,
                 "tiles_url": request.app.state.runtime.settings.map_tiles_url},
    )


@router.get("/unit", response_class=HTMLResponse, dependencies=[Depends(public())])
def unit_page(request: Request) -> Response:
    """Show the field unit's page (data comes from unit-only routes)."""
    return render_page(request, "unit.html", entry="unit", context={"script_keys": UNIT_KEYS})
