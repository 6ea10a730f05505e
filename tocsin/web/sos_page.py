"""``/sos``: the citizen's silent SOS page (public, no account).

Discreet by default: dark screen, no sound, no vibration, one large button, and a one-tap
"hide" that shows a neutral page. The script keeps the SOS on the phone and retries with the
same ``client_id`` until the server acknowledges it, then opens the silent chat.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.sos.schemas import MAX_MESSAGE_CHARS, Situation
from tocsin.web import i18n
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

# Keys handed to the browser script through data-i18n-* attributes.
SCRIPT_KEYS = (
    "sos.locating", "sos.located", "sos.no_position", "sos.manual_set", "sos.sending",
    "sos.retrying", "sos.received", "sos.ref", "sos.refused", "sos.you", "sos.dispatcher",
    "sos.closed", "sos.chat_failed", "sos.position_sent",
    "sos.false_alarm_confirm", "sos.false_alarm_text", "sos.false_alarm_sent",
)

_FR = {
    "sos.title": "SOS silencieux",
    "sos.lead": "Alerte la police sans bruit. Rien ne sonne, rien ne vibre.",
    "sos.send": "SOS",
    "sos.send_hint": "Envoyer l'alerte",
    "sos.situation": "Situation",
    "sos.situation.attack": "Attaque",
    "sos.situation.armed_person": "Personne armée",
    "sos.situation.hostage": "Otages",
    "sos.situation.hidden": "Caché·e",
    "sos.situation.injured": "Blessé·e",
    "sos.situation.fire": "Incendie",
    "sos.situation.other": "Autre",
    "sos.people": "Nombre de personnes avec vous",
    "sos.text": "Message (facultatif)",
    "sos.manual": "Je suis à…",
    "sos.manual_hint": "Touchez la carte à l'endroit où vous êtes.",
    "sos.hide": "Masquer",
    "sos.hide_label": "Masquer immédiatement cette page",
    "sos.locating": "Recherche de votre position…",
    "sos.located": "Position trouvée, précision",
    "sos.no_position": "Position inconnue : indiquez-la sur la carte « Je suis à… ».",
    "sos.manual_set": "Position choisie sur la carte",
    "sos.sending": "Envoi de l'alerte…",
    "sos.retrying": "Réseau indisponible : l'alerte est gardée et renvoyée automatiquement.",
    "sos.received": "Alerte reçue par la police à",
    "sos.ref": "Référence",
    "sos.refused": "Alerte refusée :",
    "sos.chat": "Échange silencieux avec l'opérateur",
    "sos.chat_placeholder": "Écrire à l'opérateur",
    "sos.chat_send": "Envoyer",
    "sos.you": "Vous",
    "sos.dispatcher": "Opérateur",
    "sos.closed": "L'opérateur a clos cette alerte.",
    "sos.chat_failed": "Message non envoyé, nouvel essai…",
    "sos.neutral_title": "Notes",
    "sos.neutral_body": "Acheter du pain. Rappeler Claire. Rendre le livre à la bibliothèque.",
    "sos.neutral_back": "Touchez deux fois le titre pour revenir.",
    "sos.call": "Si vous pouvez parler : 17 ou 112. Par SMS : 114.",
    "sos.position_unknown_sent": "Alerte envoyée sans position : l'opérateur va vous demander "
                                 "où vous êtes. Si vous pouvez, touchez la carte à cet endroit.",
    "sos.position_sent": "Position envoyée à l'opérateur.",
    "sos.false_alarm": "Fausse alerte ? Annuler",
    "sos.false_alarm_confirm": "Confirmer : c'était une fausse alerte",
    "sos.false_alarm_text": "FAUSSE ALERTE : l'appelant annule son alerte.",
    "sos.false_alarm_sent": "Annulation transmise à l'opérateur.",
}
_EN = {
    "sos.title": "Silent SOS",
    "sos.lead": "Alert the police without a sound. Nothing rings, nothing vibrates.",
    "sos.send": "SOS",
    "sos.send_hint": "Send the alert",
    "sos.situation": "Situation",
    "sos.situation.attack": "Attack",
    "sos.situation.armed_person": "Armed person",
    "sos.situation.hostage": "Hostages",
    "sos.situation.hidden": "Hidden",
    "sos.situation.injured": "Injured",
    "sos.situation.fire": "Fire",
    "sos.situation.other": "Other",
    "sos.people": "Number of people with you",
    "sos.text": "Message (optional)",
    "sos.manual": "I am at…",
    "sos.manual_hint": "Tap the map where you are.",
    "sos.hide": "Hide",
    "sos.hide_label": "Hide this page at once",
    "sos.locating": "Finding your position…",
    "sos.located": "Position found, accuracy",
    "sos.no_position": "Position unknown: show it on the “I am at…” map.",
    "sos.manual_set": "Position chosen on the map",
    "sos.sending": "Sending the alert…",
    "sos.retrying": "Network unavailable: the alert is kept and sent again automatically.",
    "sos.received": "Alert received by the police at",
    "sos.ref": "Reference",
    "sos.refused": "Alert refused:",
    "sos.chat": "Silent chat with the dispatcher",
    "sos.chat_placeholder": "Write to the dispatcher",
    "sos.chat_send": "Send",
    "sos.you": "You",
    "sos.dispatcher": "Dispatcher",
    "sos.closed": "The dispatcher has closed this alert.",
    "sos.chat_failed": "Message not sent, trying again…",
    "sos.neutral_title": "Notes",
    "sos.neutral_body": "Buy bread. Call Claire back. Return the book to the library.",
    "sos.neutral_back": "Double-tap the title to come back.",
    "sos.call": "If you can speak: 17 or 112. By text message: 114.",
    "sos.position_unknown_sent": "Alert sent without a position: the dispatcher will ask where "
                                 "you are. If you can, tap the map at that place.",
    "sos.position_sent": "Position sent to the dispatcher.",
    "sos.false_alarm": "False alarm? Cancel",
    "sos.false_alarm_confirm": "Confirm: it was a false alarm",
    "sos.false_alarm_text": "FALSE ALARM: the caller cancels the alert.",
    "sos.false_alarm_sent": "Cancellation passed on to the dispatcher.",
}
i18n.register_messages({"fr": _FR, "en": _EN})


@router.get("/sos", response_class=HTMLResponse, dependencies=[Depends(public())])
def sos_page(request: Request) -> Response:
    """Show the silent SOS page."""
    settings = request.app.state.runtime.settings
    return render_page(
        request,
        "sos.html",
        entry="sos",
        context={
            "situations": [s.value for s in Situation],
            "script_keys": SCRIPT_KEYS,
            "tiles_url": settings.map_tiles_url,
            "max_message": MAX_MESSAGE_CHARS,
        },
    )
