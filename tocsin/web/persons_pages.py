"""``/persons`` (missing persons, PFIF 1.4) and ``/safety`` (safety check): public pages.

French first. The persons page answers the two questions people arrive with: « Je cherche
quelqu'un » (search, and post a record if nobody matches) and « J'ai des informations » (a note
with a PFIF status on a record found by the search). The safety page lets anyone in an active
check say they are safe or need help, without an account, and relatives look a code up. Both
pages only call the public APIs; contact details typed here are sealed server-side and never
shown back.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import public
from tocsin.web import i18n
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

STATUSES = ("information_sought", "is_note_author", "believed_alive", "believed_missing",
            "believed_dead")
PERSONS_SCRIPT_KEYS = (
    "persons.no_results", "persons.score", "persons.searching", "persons.posted",
    "persons.note_posted", "persons.error", "persons.inform", "persons.age", "persons.city",
    "persons.view", *(f"persons.status.{s}" for s in STATUSES),
)
RECORD_SCRIPT_KEYS = (
    "persons.error", "persons.age", "persons.city", "record.not_found", "record.no_notes",
    "record.no_status", "record.linked_one", "record.note_by", "record.note_link",
    "record.no_location", "record.link", "record.dismiss", "record.unlink", "record.score",
    "record.done", "record.no_duplicates", "record.sex.female", "record.sex.male",
    "record.sex.other", "record.source", "record.born", "record.where",
    *(f"persons.status.{s}" for s in STATUSES),
)
SAFETY_SCRIPT_KEYS = (
    "safety.no_check", "safety.your_code", "safety.share", "safety.error", "safety.status.safe",
    "safety.status.need_help", "safety.at", "safety.not_found", "safety.locating",
    "safety.located", "safety.no_position", "safety.nobody", "safety.message_left",
)

_FR = {
    "persons.view": "Voir la fiche",
    "record.title": "Fiche de personne recherchée",
    "record.back": "Retour à la recherche",
    "record.notes": "Informations reçues",
    "record.history": "Historique du statut",
    "record.location": "Dernier lieu connu",
    "record.photo": "Photo",
    "record.linked": "Fiches de la même personne",
    "record.linked_one": "Même personne que",
    "record.review": "Doublons possibles (relecteurs)",
    "record.not_found": "Fiche introuvable ou expirée.",
    "record.no_notes": "Aucune information reçue pour l'instant.",
    "record.no_status": "Aucun statut donné.",
    "record.no_location": "Aucun lieu connu.",
    "record.note_by": "par",
    "record.note_link": "lien vers la fiche",
    "record.link": "Fusionner (même personne)",
    "record.dismiss": "Personnes différentes",
    "record.unlink": "Délier",
    "record.score": "ressemblance",
    "record.done": "Enregistré.",
    "record.no_duplicates": "Aucun doublon proposé.",
    "record.sex.female": "femme",
    "record.sex.male": "homme",
    "record.sex.other": "autre",
    "record.source": "source",
    "record.born": "née ou né en",
    "record.where": "Lieu :",
    "persons.title": "Personnes recherchées",
    "persons.lead": (
        "Cherchez un proche même sans connaître l'orthographe exacte : accents, ordre du nom "
        "et du prénom, fautes de frappe et variantes (Gauthier, Gautier) sont pris en compte."
    ),
    "persons.seek": "Je cherche quelqu'un",
    "persons.search_label": "Nom et prénom",
    "persons.search": "Chercher",
    "persons.searching": "Recherche…",
    "persons.no_results": "Personne ne correspond. Vous pouvez signaler cette personne ci-dessous.",
    "persons.score": "pertinence",
    "persons.age": "âge",
    "persons.city": "ville",
    "persons.inform": "J'ai des informations",
    "persons.report": "Signaler une personne disparue",
    "persons.full_name": "Nom complet de la personne",
    "persons.given_name": "Prénom",
    "persons.family_name": "Nom de famille",
    "persons.age_field": "Âge (ou tranche, ex. 30-40)",
    "persons.home_city": "Ville",
    "persons.description": "Description (vêtements, dernier lieu où elle a été vue…)",
    "persons.author_name": "Votre nom",
    "persons.photo": "Photo (facultatif ; les métadonnées sont effacées)",
    "persons.author_email": "Votre e-mail (facultatif)",
    "persons.author_phone": "Votre téléphone (facultatif)",
    "persons.private": (
        "Vos coordonnées sont chiffrées et ne sont visibles que des services habilités ; "
        "chaque consultation est journalisée. La fiche est effacée après 60 jours."
    ),
    "persons.submit": "Publier la fiche",
    "persons.posted": "Fiche publiée. Référence :",
    "persons.info_title": "J'ai des informations",
    "persons.info_about": "Au sujet de",
    "persons.status": "Ce que vous savez",
    "persons.text": "Votre message",
    "persons.last_known_location": "Dernier lieu connu (facultatif)",
    "persons.made_contact": "J'ai été en contact avec cette personne",
    "persons.phone_of_found_person": "Téléphone de la personne retrouvée (facultatif)",
    "persons.note_submit": "Envoyer l'information",
    "persons.note_posted": "Merci, votre information est enregistrée.",
    "persons.error": "Impossible d'enregistrer :",
    "persons.status.information_sought": "Je cherche des informations",
    "persons.status.is_note_author": "Je suis cette personne",
    "persons.status.believed_alive": "Je pense qu'elle est en vie",
    "persons.status.believed_missing": "Je pense qu'elle est disparue",
    "persons.status.believed_dead": "Je pense qu'elle est décédée",
    "safety.title": "Je suis en sécurité",
    "safety.lead": (
        "Pendant un point sécurité activé par la préfecture, dites à vos proches que vous "
        "allez bien ou demandez de l'aide. Aucun compte n'est nécessaire."
    ),
    "safety.check": "Point sécurité",
    "safety.no_check": "Aucun point sécurité n'est actif en ce moment.",
    "safety.safe": "Je suis en sécurité",
    "safety.need_help": "J'ai besoin d'aide",
    "safety.position": "Joindre ma position",
    "safety.name": "Votre nom (facultatif)",
    "safety.phone": "Votre téléphone (facultatif)",
    "safety.contact_hint": (
        "Nom et téléphone permettent à un proche qui les connaît déjà de vous retrouver ; "
        "ils ne sont conservés que sous forme d'empreinte."
    ),
    "safety.message": "Message pour vos proches (facultatif)",
    "safety.your_code": "Votre code :",
    "safety.share": "Donnez ce code à vos proches : ils verront votre état et l'heure.",
    "safety.error": "Impossible d'enregistrer :",
    "safety.lookup": "Vous cherchez un proche ?",
    "safety.code": "Code reçu",
    "safety.lookup_code": "Voir",
    "safety.or_contact": "Ou avec son nom et son numéro de téléphone",
    "safety.lookup_contact": "Chercher",
    "safety.their_name": "Son nom",
    "safety.their_phone": "Son numéro de téléphone",
    "safety.status.safe": "En sécurité",
    "safety.status.need_help": "A besoin d'aide",
    "safety.at": "à",
    "safety.not_found": "Code inconnu (vérifiez les lettres) ou expiré.",
    "safety.nobody": "Aucune réponse enregistrée sous ce nom et ce numéro.",
    "safety.message_left": "Message :",
    "safety.locating": "Recherche de votre position…",
    "safety.located": "Position jointe.",
    "safety.no_position": "Position indisponible.",
}
_EN = {
    "persons.view": "See the record",
    "record.title": "Missing person record",
    "record.back": "Back to the search",
    "record.notes": "Information received",
    "record.history": "Status history",
    "record.location": "Last known location",
    "record.photo": "Photo",
    "record.linked": "Records of the same person",
    "record.linked_one": "Same person as",
    "record.review": "Possible duplicates (reviewers)",
    "record.not_found": "Record not found or expired.",
    "record.no_notes": "No information received yet.",
    "record.no_status": "No status given.",
    "record.no_location": "No known location.",
    "record.note_by": "by",
    "record.note_link": "link to the record",
    "record.link": "Merge (same person)",
    "record.dismiss": "Different people",
    "record.unlink": "Unlink",
    "record.score": "likeness",
    "record.done": "Recorded.",
    "record.no_duplicates": "No duplicate proposed.",
    "record.sex.female": "female",
    "record.sex.male": "male",
    "record.sex.other": "other",
    "record.source": "source",
    "record.born": "born",
    "record.where": "Place:",
    "persons.title": "Missing persons",
    "persons.lead": (
        "Search for a loved one even without the exact spelling: accents, name order, typos "
        "and spelling variants (Gauthier, Gautier) are taken into account."
    ),
    "persons.seek": "I am looking for someone",
    "persons.search_label": "Name",
    "persons.search": "Search",
    "persons.searching": "Searching…",
    "persons.no_results": "Nobody matches. You can report this person below.",
    "persons.score": "relevance",
    "persons.age": "age",
    "persons.city": "city",
    "persons.inform": "I have information",
    "persons.report": "Report a missing person",
    "persons.full_name": "Full name of the person",
    "persons.given_name": "Given name",
    "persons.family_name": "Family name",
    "persons.age_field": "Age (or range, e.g. 30-40)",
    "persons.home_city": "City",
    "persons.description": "Description (clothes, last place seen…)",
    "persons.author_name": "Your name",
    "persons.photo": "Photo (optional; metadata is removed)",
    "persons.author_email": "Your e-mail (optional)",
    "persons.author_phone": "Your phone (optional)",
    "persons.private": (
        "Your contact details are encrypted and visible only to authorised services; every "
        "read is logged. The record is deleted after 60 days."
    ),
    "persons.submit": "Publish the record",
    "persons.posted": "Record published. Reference:",
    "persons.info_title": "I have information",
    "persons.info_about": "About",
    "persons.status": "What you know",
    "persons.text": "Your message",
    "persons.last_known_location": "Last known location (optional)",
    "persons.made_contact": "I have been in contact with this person",
    "persons.phone_of_found_person": "Phone of the person found (optional)",
    "persons.note_submit": "Send the information",
    "persons.note_posted": "Thank you, your information is recorded.",
    "persons.error": "Could not record:",
    "persons.status.information_sought": "I am seeking information",
    "persons.status.is_note_author": "I am this person",
    "persons.status.believed_alive": "I believe they are alive",
    "persons.status.believed_missing": "I believe they are missing",
    "persons.status.believed_dead": "I believe they have died",
    "safety.title": "I am safe",
    "safety.lead": (
        "During a safety check activated by the prefecture, tell your loved ones you are fine "
        "or ask for help. No account needed."
    ),
    "safety.check": "Safety check",
    "safety.no_check": "No safety check is active right now.",
    "safety.safe": "I am safe",
    "safety.need_help": "I need help",
    "safety.position": "Attach my position",
    "safety.name": "Your name (optional)",
    "safety.phone": "Your phone (optional)",
    "safety.contact_hint": (
        "Name and phone let a relative who already knows them find you; only a fingerprint "
        "of them is kept."
    ),
    "safety.message": "Message for your loved ones (optional)",
    "safety.your_code": "Your code:",
    "safety.share": "Give this code to your loved ones: they will see your status and the time.",
    "safety.error": "Could not record:",
    "safety.lookup": "Looking for a loved one?",
    "safety.code": "Code received",
    "safety.lookup_code": "Show",
    "safety.or_contact": "Or with their name and phone number",
    "safety.lookup_contact": "Search",
    "safety.their_name": "Their name",
    "safety.their_phone": "Their phone number",
    "safety.status.safe": "Safe",
    "safety.status.need_help": "Needs help",
    "safety.at": "at",
    "safety.not_found": "Unknown code (check the letters) or expired.",
    "safety.nobody": "No answer recorded under this name and number.",
    "safety.message_left": "Message:",
    "safety.locating": "Finding your position…",
    "safety.located": "Position attached.",
    "safety.no_position": "Position unavailable.",
}
i18n.register_messages({"fr": _FR, "en": _EN})


@router.get("/persons", response_class=HTMLResponse, dependencies=[Depends(public())])
def persons_page(request: Request) -> Response:
    """Show the missing-persons page: search, report, share information."""
    return render_page(request, "persons.html", entry="persons",
                       context={"script_keys": PERSONS_SCRIPT_KEYS, "statuses": STATUSES})


@router.get("/persons/record", response_class=HTMLResponse, dependencies=[Depends(public())])
def person_record_page(request: Request) -> Response:
    """Show one record (``?id=<person_record_id>``): the person, notes, status history, last
    known location, photo, linked records; reviewers also link, dismiss and unlink. The data
    comes from the public view API; the reviewer actions from the reviewer routes."""
    return render_page(request, "person_record.html", entry="person_record", context={
        "script_keys": RECORD_SCRIPT_KEYS,
        "tiles_url": request.app.state.runtime.settings.map_tiles_url})


@router.get("/safety", response_class=HTMLResponse, dependencies=[Depends(public())])
def safety_page(request: Request) -> Response:
    """Show the safety-check page: mark yourself safe or in need, look a relative up."""
    return render_page(request, "safety.html", entry="safety",
                       context={"script_keys": SAFETY_SCRIPT_KEYS})
