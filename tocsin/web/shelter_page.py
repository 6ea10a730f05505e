"""``/shelter``: the #portesouvertes page for hosts and seekers (public, no account).

The page never receives a host's place: it draws the coarse H3 cells the API gives, and shows
an address only to the seeker whose request the host accepted. Secrets (management and request
tokens) stay in the browser's storage and in links whose fragment never reaches a server.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.shelter.geo import BANDS
from tocsin.web import i18n
from tocsin.web.render import render_page
from tocsin.web.shelter_text import LANGUAGES, SHELTER_EXTRA_KEYS

router = APIRouter(tags=["pages"], include_in_schema=False)

ACCESS = ("stairs", "lift", "wheelchair")
NEEDS = ("any", "lift", "wheelchair")
STATUSES = ("open", "asked", "accepted", "declined", "cancelled", "expired", "paused", "closed")
# Keys the browser script needs, handed over as data-i18n-* attributes (no inline script).
SCRIPT_KEYS = (
    "shelter.error",
    "shelter.saved",
    "shelter.people",
    "shelter.pets",
    "shelter.no_pets",
    "shelter.languages",
    "shelter.until",
    "shelter.area",
    "shelter.host.accept",
    "shelter.host.decline",
    "shelter.host.report",
    "shelter.host.none",
    "shelter.host.summary",
    "shelter.host.hidden",
    "shelter.seek.ask",
    "shelter.seek.none",
    "shelter.seek.open",
    "shelter.seek.asked",
    "shelter.seek.accepted",
    "shelter.seek.declined",
    "shelter.seek.report",
    "shelter.seek.reported",
    "shelter.map.too_wide",
    "shelter.geo.failed",
    "shelter.pick.hint",
    "shelter.position.set",
    *(f"shelter.band.{code}" for _, code in BANDS),
    "shelter.band.beyond50km",
    *(f"shelter.access.{code}" for code in ACCESS),
    *(f"shelter.need.{code}" for code in NEEDS),
    *(f"shelter.status.{code}" for code in STATUSES),
    "shelter.need",
    *SHELTER_EXTRA_KEYS,
)

_FR = {
    "shelter.title": "Hébergement d'urgence",
    "shelter.lead": (
        "Proposez un toit pour la nuit ou demandez-en un près de vous. "
        "Personne ne voit votre adresse tant que vous n'avez pas accepté quelqu'un."
    ),
    "shelter.privacy_title": "Votre adresse reste privée",
    "shelter.privacy": (
        "Les autres ne voient qu'une zone d'environ 1 km (un hexagone sur la carte) et une "
        "distance approximative. L'adresse est chiffrée ; elle n'est montrée qu'à la personne "
        "que l'hôte accepte, et chaque consultation est journalisée."
    ),
    "shelter.host.title": "Je propose un hébergement",
    "shelter.host.submit": "Publier mon offre",
    "shelter.host.keep_link": "Gardez ce lien secret pour gérer votre offre :",
    "shelter.host.requests": "Demandes reçues",
    "shelter.host.pause": "Mettre en pause",
    "shelter.host.resume": "Reprendre",
    "shelter.host.close": "Clore l'offre",
    "shelter.host.accept": "Accepter",
    "shelter.host.decline": "Refuser",
    "shelter.host.report": "Signaler",
    "shelter.host.none": "Aucune demande pour l'instant.",
    "shelter.host.summary": "Votre offre",
    "shelter.host.hidden": "Masquée en attendant l'examen d'un modérateur.",
    "shelter.seek.title": "Je cherche un abri",
    "shelter.seek.submit": "Chercher",
    "shelter.seek.proposals": "Hébergements proposés",
    "shelter.seek.ask": "Demander à cet hôte",
    "shelter.seek.none": "Aucune offre adaptée près de vous pour l'instant.",
    "shelter.seek.open": "Choisissez un hébergement ci-dessous et demandez à l'hôte.",
    "shelter.seek.asked": "Demande envoyée ; l'hôte va répondre.",
    "shelter.seek.accepted": "L'hôte a accepté. Voici l'adresse :",
    "shelter.seek.declined": "L'hôte ne peut pas vous recevoir ; demandez à un autre.",
    "shelter.seek.report": "Signaler cet hôte",
    "shelter.seek.reported": "Signalement envoyé.",
    "shelter.seek.route": "Itinéraire à pied",
    "shelter.address": "Adresse",
    "shelter.directions": "Indications d'accès (code, étage)",
    "shelter.lat": "Latitude",
    "shelter.lon": "Longitude",
    "shelter.locate": "Ma position",
    "shelter.pick": "Choisir sur la carte",
    "shelter.pick.hint": "Touchez la carte à l'endroit voulu.",
    "shelter.position.set": "Position choisie",
    "shelter.geo.failed": "Position indisponible : choisissez-la sur la carte.",
    "shelter.capacity": "Places",
    "shelter.ends_at": "Jusqu'à",
    "shelter.access": "Accès",
    "shelter.need": "Besoin d'accès",
    "shelter.pets": "Animaux acceptés",
    "shelter.no_pets": "Pas d'animaux",
    "shelter.with_pets": "J'ai un animal",
    "shelter.languages": "Langues",
    "shelter.note": "Note (courte)",
    "shelter.people": "Personnes",
    "shelter.until": "jusqu'à",
    "shelter.area": "Zone",
    "shelter.error": "Refusé :",
    "shelter.saved": "Enregistré.",
    "shelter.map.title": "Zones où des hôtes proposent un abri",
    "shelter.map.lead": "Chaque hexagone couvre environ 0,7 km² ; aucun point exact n'est montré.",
    "shelter.map.too_wide": "Rapprochez la carte pour voir les zones.",
    "shelter.band.under1km": "à moins de 1 km",
    "shelter.band.from1to2km": "entre 1 et 2 km",
    "shelter.band.from2to5km": "entre 2 et 5 km",
    "shelter.band.from5to10km": "entre 5 et 10 km",
    "shelter.band.from10to25km": "entre 10 et 25 km",
    "shelter.band.from25to50km": "entre 25 et 50 km",
    "shelter.band.beyond50km": "à plus de 50 km",
    "shelter.access.stairs": "escaliers seulement",
    "shelter.access.lift": "ascenseur",
    "shelter.access.wheelchair": "accessible en fauteuil",
    "shelter.need.any": "aucun",
    "shelter.need.lift": "pas d'escaliers (ascenseur)",
    "shelter.need.wheelchair": "fauteuil roulant",
    "shelter.status.open": "ouverte",
    "shelter.status.asked": "en attente de réponse",
    "shelter.status.accepted": "acceptée",
    "shelter.status.declined": "refusée",
    "shelter.status.cancelled": "annulée",
    "shelter.status.expired": "expirée",
    "shelter.status.paused": "en pause",
    "shelter.status.closed": "close",
}
_EN = {
    "shelter.title": "Emergency shelter",
    "shelter.lead": (
        "Offer a roof for the night or ask for one near you. "
        "Nobody sees your address until you have accepted someone."
    ),
    "shelter.privacy_title": "Your address stays private",
    "shelter.privacy": (
        "Others see only an area of about 1 km (a hexagon on the map) and a rough distance. "
        "The address is encrypted; it is shown only to the person the host accepts, and every "
        "read is logged."
    ),
    "shelter.host.title": "I offer shelter",
    "shelter.host.submit": "Publish my offer",
    "shelter.host.keep_link": "Keep this link secret to manage your offer:",
    "shelter.host.requests": "Requests received",
    "shelter.host.pause": "Pause",
    "shelter.host.resume": "Resume",
    "shelter.host.close": "Close the offer",
    "shelter.host.accept": "Accept",
    "shelter.host.decline": "Decline",
    "shelter.host.report": "Report",
    "shelter.host.none": "No request yet.",
    "shelter.host.summary": "Your offer",
    "shelter.host.hidden": "Hidden until a moderator has reviewed it.",
    "shelter.seek.title": "I need shelter",
    "shelter.seek.submit": "Search",
    "shelter.seek.proposals": "Shelter offered",
    "shelter.seek.ask": "Ask this host",
    "shelter.seek.none": "No suitable offer near you yet.",
    "shelter.seek.open": "Choose a place below and ask its host.",
    "shelter.seek.asked": "Request sent; the host will answer.",
    "shelter.seek.accepted": "The host accepted. Here is the address:",
    "shelter.seek.declined": "The host cannot take you in; ask another one.",
    "shelter.seek.report": "Report this host",
    "shelter.seek.reported": "Report sent.",
    "shelter.seek.route": "Walking route",
    "shelter.address": "Address",
    "shelter.directions": "How to get in (door code, floor)",
    "shelter.lat": "Latitude",
    "shelter.lon": "Longitude",
    "shelter.locate": "My position",
    "shelter.pick": "Pick on the map",
    "shelter.pick.hint": "Tap the map at the place you mean.",
    "shelter.position.set": "Position chosen",
    "shelter.geo.failed": "Position unavailable: pick it on the map.",
    "shelter.capacity": "Places",
    "shelter.ends_at": "Until",
    "shelter.access": "Access",
    "shelter.need": "Access need",
    "shelter.pets": "Pets welcome",
    "shelter.no_pets": "No pets",
    "shelter.with_pets": "I have a pet",
    "shelter.languages": "Languages",
    "shelter.note": "Note (short)",
    "shelter.people": "People",
    "shelter.until": "until",
    "shelter.area": "Area",
    "shelter.error": "Refused:",
    "shelter.saved": "Saved.",
    "shelter.map.title": "Areas where hosts offer shelter",
    "shelter.map.lead": "Each hexagon covers about 0.7 km²; no exact point is shown.",
    "shelter.map.too_wide": "Zoom in to see the areas.",
    "shelter.band.under1km": "less than 1 km away",
    "shelter.band.from1to2km": "1 to 2 km away",
    "shelter.band.from2to5km": "2 to 5 km away",
    "shelter.band.from5to10km": "5 to 10 km away",
    "shelter.band.from10to25km": "10 to 25 km away",
    "shelter.band.from25to50km": "25 to 50 km away",
    "shelter.band.beyond50km": "more than 50 km away",
    "shelter.access.stairs": "stairs only",
    "shelter.access.lift": "lift",
    "shelter.access.wheelchair": "wheelchair accessible",
    "shelter.need.any": "none",
    "shelter.need.lift": "no stairs (lift)",
    "shelter.need.wheelchair": "wheelchair",
    "shelter.status.open": "open",
    "shelter.status.asked": "waiting for an answer",
    "shelter.status.accepted": "accepted",
    "shelter.status.declined": "declined",
    "shelter.status.cancelled": "cancelled",
    "shelter.status.expired": "expired",
    "shelter.status.paused": "paused",
    "shelter.status.closed": "closed",
}
i18n.register_messages({"fr": _FR, "en": _EN})


@router.get("/shelter", response_class=HTMLResponse, dependencies=[Depends(public())])
def shelter_page(request: Request) -> Response:
    """Show the shelter page: offer a place, or ask for one, on a map of coarse areas."""
    settings = request.app.state.runtime.settings
    return render_page(
        request,
        "shelter.html",
        entry="shelter",
        context={
            "script_keys": SCRIPT_KEYS,
            "tiles_url": settings.map_tiles_url,
            "access_levels": ACCESS,
            "needs": NEEDS,
            "languages": tuple(LANGUAGES),
        },
    )
