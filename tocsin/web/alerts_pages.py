"""``/alerts`` (citizens: active official alerts on a map, live) and ``/authority`` (prefecture).

Both are HTML shells: the citizen page reads the public alerts API and its SSE stream; the
authority page logs in with the OAuth2 password flow and calls authority-only routes with the
bearer token, so the page itself reveals nothing. French first, English on request.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.web import i18n
from tocsin.web import staff_login as _staff_login  # noqa: F401  (registers the sign-in texts)
from tocsin.web.cap_labels import CAP_SCRIPT_KEYS
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

_FR = {
    "alerts.title": "Alertes officielles",
    "alerts.lead": "Les messages de la préfecture en cours, sur la carte. La page se met à jour "
    "d'elle-même.",
    "alerts.active": "Alertes en cours",
    "alerts.none": "Aucune alerte en cours.",
    "alerts.map_label": "Carte des zones d'alerte",
    "alerts.live_on": "Mise à jour en direct.",
    "alerts.live_off": "Connexion perdue ; nouvelle tentative…",
    "alerts.until": "Jusqu'à",
    "alerts.area": "Zone",
    "alerts.instruction": "Consigne",
    "alerts.cap": "Message CAP",
    "alerts.feed": "Flux Atom des alertes en cours",
    "alerts.exercise": "EXERCICE",
    "alerts.update": "MISE À JOUR",
    "alerts.subscribe_title": "Recevoir les alertes sur cet appareil",
    "alerts.subscribe_lead": "Votre position est arrondie à 100 m environ et ne sert qu'à "
    "choisir les alertes de votre zone. Aucun compte n'est nécessaire.",
    "alerts.subscribe": "Activer les notifications",
    "alerts.subscribed": "Notifications activées pour votre zone.",
    "alerts.subscribe_failed": "Impossible d'activer les notifications sur ce navigateur.",
    "alerts.noscript": "Activez JavaScript pour voir la carte, ou ouvrez le flux Atom.",
    "severity.extreme": "Extrême",
    "severity.severe": "Grave",
    "severity.moderate": "Modérée",
    "severity.minor": "Mineure",
    "severity.unknown": "Inconnue",
    "authority.title": "Préfecture : alertes officielles",
    "authority.lead": "Rédiger, faire valider par une seconde autorité, publier, mettre à jour "
    "et lever les alertes. Chaque action est journalisée.",
    "authority.login_title": "Connexion autorité",
    "authority.logout": "Se déconnecter",
    "authority.wrong_role": "Ce compte n'a pas le rôle autorité.",
    "authority.compose": "Nouvelle alerte",
    "authority.updating": "Mise à jour de l'alerte",
    "authority.status": "Statut",
    "authority.status_help": "Réel, exercice ou test : une seconde autorité doit valider "
    "avant toute diffusion.",
    "authority.category": "Catégorie",
    "authority.urgency": "Urgence",
    "authority.severity": "Gravité",
    "authority.certainty": "Certitude",
    "authority.response": "Conduite à tenir",
    "authority.expires": "Fin de validité",
    "authority.fr": "Texte en français",
    "authority.en": "Texte en anglais (facultatif)",
    "authority.event": "Événement",
    "authority.headline": "Titre",
    "authority.description": "Description",
    "authority.instruction": "Consignes",
    "authority.area": "Zone",
    "authority.area_desc": "Description de la zone",
    "authority.draw_polygon": "Tracer un polygone",
    "authority.draw_circle": "Tracer un cercle",
    "authority.finish": "Fermer le polygone",
    "authority.clear": "Effacer",
    "authority.draw_help": "Polygone : cliquez chaque sommet sur la carte puis « Fermer le "
    "polygone ». Cercle : cliquez le centre puis un point du bord.",
    "authority.area_none": "Aucune zone tracée.",
    "authority.area_polygon_one": "Polygone de {n} sommet.",
    "authority.area_polygon_other": "Polygone de {n} sommets.",
    "authority.area_circle": "Cercle de {r} km.",
    "authority.submit": "Soumettre",
    "authority.submit_update": "Soumettre la mise à jour",
    "authority.cancel_edit": "Abandonner",
    "authority.submitted": "Alerte soumise ; en attente de validation par une seconde autorité.",
    "authority.published": "Alerte publiée.",
    "authority.queue": "À valider",
    "authority.queue_empty": "Rien à valider.",
    "authority.approve": "Valider et publier",
    "authority.reject": "Refuser",
    "authority.reject_reason": "Motif du refus",
    "authority.by": "par",
    "authority.live": "Alertes en cours",
    "authority.live_empty": "Aucune alerte en cours.",
    "authority.do_update": "Mettre à jour",
    "authority.do_cancel": "Lever l'alerte",
    "authority.cancel_note": "Message de fin d'alerte",
    "authority.deliveries": "Envois : {sent}, {pending}, {failed}",
    "authority.sent_one": "{n} fait",
    "authority.sent_other": "{n} faits",
    "authority.pending_one": "{n} en cours",
    "authority.pending_other": "{n} en cours",
    "authority.failed_one": "{n} en échec",
    "authority.failed_other": "{n} en échec",
    "authority.issued": "Émise le {date}",
    "authority.written": "Rédigée le {date}",
    "authority.expires_on": "Expire le {date}",
    "authority.cap_value": "Valeur CAP",
    "authority.own": "Vous êtes l'auteur : une autre autorité doit valider.",
    "authority.error": "Refusé",
    "safety_panel.title": "Point sécurité",
    "safety_panel.lead": "Ouvrir un point sécurité sur une zone : les personnes présentes "
    "signalent qu'elles sont en sécurité ou ont besoin d'aide. Une seconde autorité doit le "
    "valider avant qu'il soit ouvert au public.",
    "safety_panel.empty": "Aucun point sécurité en attente ni ouvert.",
    "safety_panel.new": "Proposer un point sécurité",
    "safety_panel.name": "Nom (affiché au public)",
    "safety_panel.ends": "Fermeture prévue",
    "safety_panel.submit": "Proposer le point sécurité",
    "safety_panel.proposed": "Point sécurité proposé ; en attente de validation par une "
    "seconde autorité.",
    "safety_panel.need_area": "Tracez la zone sur la carte (cercle ou polygone).",
    "safety_panel.area_ok": "Zone tracée.",
    "safety_panel.pending": "En attente de validation",
    "safety_panel.pending_help": "Une autre autorité que l'auteur doit le valider.",
    "safety_panel.open": "Ouvert",
    "safety_panel.window": "Du {start} au {end}",
    "safety_panel.approve": "Valider et ouvrir",
    "safety_panel.end": "Clore maintenant",
}

_EN = {
    "alerts.title": "Official alerts",
    "alerts.lead": "The prefecture's current messages, on the map. The page updates itself.",
    "alerts.active": "Current alerts",
    "alerts.none": "No alert at the moment.",
    "alerts.map_label": "Map of the alert areas",
    "alerts.live_on": "Live updates.",
    "alerts.live_off": "Connection lost; retrying…",
    "alerts.until": "Until",
    "alerts.area": "Area",
    "alerts.instruction": "What to do",
    "alerts.cap": "CAP message",
    "alerts.feed": "Atom feed of current alerts",
    "alerts.exercise": "EXERCISE",
    "alerts.update": "UPDATE",
    "alerts.subscribe_title": "Get alerts on this device",
    "alerts.subscribe_lead": "Your position is rounded to about 100 m and only used to pick the "
    "alerts for your area. No account needed.",
    "alerts.subscribe": "Turn on notifications",
    "alerts.subscribed": "Notifications are on for your area.",
    "alerts.subscribe_failed": "Notifications cannot be turned on in this browser.",
    "alerts.noscript": "Turn on JavaScript to see the map, or open the Atom feed.",
    "severity.extreme": "Extreme",
    "severity.severe": "Severe",
    "severity.moderate": "Moderate",
    "severity.minor": "Minor",
    "severity.unknown": "Unknown",
    "authority.title": "Prefecture: official alerts",
    "authority.lead": "Compose, have a second authority approve, publish, update and cancel "
    "alerts. Every action is logged.",
    "authority.login_title": "Authority sign-in",
    "authority.logout": "Sign out",
    "authority.wrong_role": "This account does not have the authority role.",
    "authority.compose": "New alert",
    "authority.updating": "Updating alert",
    "authority.status": "Status",
    "authority.status_help": "Actual, exercise or test: a second authority must approve "
    "before anything is sent.",
    "authority.category": "Category",
    "authority.urgency": "Urgency",
    "authority.severity": "Severity",
    "authority.certainty": "Certainty",
    "authority.response": "Response",
    "authority.expires": "Expires",
    "authority.fr": "French text",
    "authority.en": "English text (optional)",
    "authority.event": "Event",
    "authority.headline": "Headline",
    "authority.description": "Description",
    "authority.instruction": "Instructions",
    "authority.area": "Area",
    "authority.area_desc": "Area description",
    "authority.draw_polygon": "Draw a polygon",
    "authority.draw_circle": "Draw a circle",
    "authority.finish": "Close the polygon",
    "authority.clear": "Clear",
    "authority.draw_help": "Polygon: click each vertex on the map, then “Close the polygon”. "
    "Circle: click the centre, then a point on the edge.",
    "authority.area_none": "No area drawn.",
    "authority.area_polygon_one": "Polygon of {n} vertex.",
    "authority.area_polygon_other": "Polygon of {n} vertices.",
    "authority.area_circle": "Circle of {r} km.",
    "authority.submit": "Submit",
    "authority.submit_update": "Submit the update",
    "authority.cancel_edit": "Discard",
    "authority.submitted": "Alert submitted; waiting for a second authority to approve it.",
    "authority.published": "Alert published.",
    "authority.queue": "To approve",
    "authority.queue_empty": "Nothing to approve.",
    "authority.approve": "Approve and publish",
    "authority.reject": "Reject",
    "authority.reject_reason": "Reason for rejecting",
    "authority.by": "by",
    "authority.live": "Current alerts",
    "authority.live_empty": "No alert at the moment.",
    "authority.do_update": "Update",
    "authority.do_cancel": "Cancel the alert",
    "authority.cancel_note": "End-of-alert message",
    "authority.deliveries": "Deliveries: {sent}, {pending}, {failed}",
    "authority.sent_one": "{n} sent",
    "authority.sent_other": "{n} sent",
    "authority.pending_one": "{n} pending",
    "authority.pending_other": "{n} pending",
    "authority.failed_one": "{n} failed",
    "authority.failed_other": "{n} failed",
    "authority.issued": "Issued {date}",
    "authority.written": "Written {date}",
    "authority.expires_on": "Expires {date}",
    "authority.cap_value": "CAP value",
    "authority.own": "You wrote it: another authority must approve.",
    "authority.error": "Refused",
    "safety_panel.title": "Safety check",
    "safety_panel.lead": "Open a safety check over an area: people there say they are safe or "
    "need help. A second authority must approve it before the public sees it.",
    "safety_panel.empty": "No safety check pending or open.",
    "safety_panel.new": "Propose a safety check",
    "safety_panel.name": "Name (shown to the public)",
    "safety_panel.ends": "Closes at",
    "safety_panel.submit": "Propose the safety check",
    "safety_panel.proposed": "Safety check proposed; waiting for a second authority to approve it.",
    "safety_panel.need_area": "Draw the area on the map (circle or polygon).",
    "safety_panel.area_ok": "Area drawn.",
    "safety_panel.pending": "Waiting for approval",
    "safety_panel.pending_help": "An authority other than its author must approve it.",
    "safety_panel.open": "Open",
    "safety_panel.window": "From {start} to {end}",
    "safety_panel.approve": "Approve and open",
    "safety_panel.end": "Close now",
}

i18n.register_messages({"fr": _FR, "en": _EN})

ALERTS_SCRIPT_KEYS = tuple(k for k in _FR if k.startswith(("alerts.", "severity.")))
AUTHORITY_SCRIPT_KEYS = (*_FR, *CAP_SCRIPT_KEYS)


def _tiles(request: Request) -> str:
    return str(request.app.state.runtime.settings.map_tiles_url)


@router.get("/alerts", response_class=HTMLResponse, dependencies=[Depends(public())])
def alerts_page(request: Request) -> Response:
    """Show the active official alerts on a map, updated live."""
    return render_page(
        request,
        "alerts.html",
        entry="alerts",
        context={"tiles": _tiles(request), "script_keys": ALERTS_SCRIPT_KEYS},
    )


@router.get("/authority", response_class=HTMLResponse, dependencies=[Depends(public())])
def authority_page(request: Request) -> Response:
    """Show the prefecture's console (its data needs an authority token)."""
    return render_page(
        request,
        "authority.html",
        entry="authority",
        context={"tiles": _tiles(request), "script_keys": AUTHORITY_SCRIPT_KEYS},
    )
