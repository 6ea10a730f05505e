"""CAP 1.2 code values in words a prefect reads (« Réel », « Mise à l'abri »), French and English.

The authority console shows each value translated with the CAP code beside it, so the author
knows both what the message says to people and what the feed carries. The texts are registered
as ``cap.<field>.<value in lower case>`` (lower case because the browser receives them as
``data-i18n-*`` attributes, whose names HTML folds to lower case).
"""

from __future__ import annotations

from tocsin.web import i18n

# field -> CAP value -> (French, English)
CAP_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "Actual": ("Réel", "Real"),
        "Exercise": ("Exercice", "Exercise"),
        "System": ("Système", "System"),
        "Test": ("Test", "Test"),
        "Draft": ("Brouillon", "Draft"),
    },
    "msgtype": {
        "Alert": ("Alerte", "Alert"),
        "Update": ("Mise à jour", "Update"),
        "Cancel": ("Levée", "Cancellation"),
        "Ack": ("Accusé de réception", "Acknowledgement"),
        "Error": ("Erreur", "Error"),
    },
    "category": {
        "Security": ("Sécurité", "Security"),
        "Safety": ("Sécurité civile", "Public safety"),
        "Rescue": ("Secours", "Rescue"),
        "Fire": ("Incendie", "Fire"),
        "Health": ("Santé", "Health"),
        "CBRNE": ("NRBC-E", "CBRNE"),
        "Infra": ("Infrastructures", "Infrastructure"),
        "Transport": ("Transports", "Transport"),
        "Met": ("Météo", "Weather"),
        "Geo": ("Géophysique", "Geophysical"),
        "Env": ("Environnement", "Environment"),
        "Other": ("Autre", "Other"),
    },
    "urgency": {
        "Immediate": ("Immédiate", "Immediate"),
        "Expected": ("Attendue", "Expected"),
        "Future": ("Future", "Future"),
        "Past": ("Passée", "Past"),
        "Unknown": ("Inconnue", "Unknown"),
    },
    "severity": {
        "Extreme": ("Extrême", "Extreme"),
        "Severe": ("Grave", "Severe"),
        "Moderate": ("Modérée", "Moderate"),
        "Minor": ("Mineure", "Minor"),
        "Unknown": ("Inconnue", "Unknown"),
    },
    "certainty": {
        "Observed": ("Observée", "Observed"),
        "Likely": ("Probable", "Likely"),
        "Possible": ("Possible", "Possible"),
        "Unlikely": ("Peu probable", "Unlikely"),
        "Unknown": ("Inconnue", "Unknown"),
    },
    "response": {
        "Shelter": ("Mise à l'abri", "Take shelter"),
        "Evacuate": ("Évacuation", "Evacuate"),
        "Avoid": ("Éviter la zone", "Avoid the area"),
        "Prepare": ("Se préparer", "Prepare"),
        "Execute": ("Appliquer les consignes", "Execute the plan"),
        "Monitor": ("Suivre l'information", "Monitor"),
        "Assess": ("Évaluer", "Assess"),
        "AllClear": ("Fin de l'alerte", "All clear"),
        "None": ("Aucune", "None"),
    },
}


def cap_key(field: str, value: str) -> str:
    """The message key of a CAP value (``cap.status.actual``)."""
    return f"cap.{field}.{value.lower()}"


def _catalogue(index: int) -> dict[str, str]:
    return {
        cap_key(field, value): texts[index]
        for field, values in CAP_LABELS.items()
        for value, texts in values.items()
    }


i18n.register_messages({"fr": _catalogue(0), "en": _catalogue(1)})

CAP_SCRIPT_KEYS = tuple(cap_key(f, v) for f, values in CAP_LABELS.items() for v in values)
