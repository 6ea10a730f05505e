"""Language choice and message catalogue of the web pages: French first, English switchable.

The pages are French by default (the service answers a French city), English on request for
visitors, press and foreign partners. The choice is made, in order, from ``?lang=``, then the
``lang`` cookie (set whenever ``?lang=`` is given, so the choice sticks across pages), then the
``Accept-Language`` header (RFC 9110 §12.5.4), then French.

Messages are plain Python dicts so they are reviewed like code; a domain adds its own with
:func:`register_messages`. Browser code gets the strings it needs through ``data-i18n-*``
attributes written by the templates (see ``frontend/src/lib/i18n.ts``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, TypeGuard

from starlette.requests import Request
from starlette.responses import Response

Lang = Literal["fr", "en"]
SUPPORTED: tuple[Lang, ...] = ("fr", "en")
DEFAULT_LANG: Lang = "fr"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

Translator = Callable[[str], str]

CATALOGUE: dict[Lang, dict[str, str]] = {
    "fr": {
        "lang.name": "Français",
        "lang.switch_label": "Read this page in English",
        "lang.nav_label": "Langue",
        "site.name": "Tocsin",
        "site.tagline": "Plateforme d'alerte, de secours et de veille",
        "site.skip": "Aller au contenu",
        "site.home": "Accueil de Tocsin",
        "footer.api_docs": "Description de l'API (OpenAPI)",
        "footer.health": "État du service (JSON)",
        "footer.privacy": (
            "Respect des libertés individuelles : Tocsin collecte le minimum, chiffre les données "
            "sensibles, les efface à échéance et journalise chaque consultation."
        ),
        "footer.licence": "Tocsin est un logiciel libre.",
        "assets.missing_title": "Interface incomplète",
        "assets.missing": (
            "Les fichiers de l'interface (scripts et styles) n'ont pas été construits. "
            "Lancez « make frontend » puis rechargez la page."
        ),
        "home.title": "Tocsin, l'alerte et l'entraide en situation d'attaque",
        "home.intro": (
            "Alerter sans bruit, recevoir les consignes officielles, rassurer ses proches, "
            "retrouver une personne, trouver un abri : un seul service, pour les citoyens "
            "comme pour les équipes de secours."
        ),
        "home.sos_button": "SOS silencieux : alerter la police sans un bruit",
        "home.alert_title": "Alerte officielle en cours",
        "home.alert_more": "Toutes les alertes, la carte et les consignes",
        "home.emergency_title": "En cas d'urgence",
        "home.emergency_call": "Appelez le 17 (police) ou le 112.",
        "home.emergency_sms": "Si vous ne pouvez pas parler, envoyez un SMS au 114.",
        "home.citizens": "Pour les citoyens",
        "home.citizens_lead": "Sans compte, depuis n'importe quel téléphone.",
        "home.staff": "Pour les professionnels",
        "home.staff_lead": "Accès réservé aux comptes habilités ; chaque accès est journalisé.",
        "home.soon": "Bientôt",
        "status.title": "État du service",
        "status.checking": "Vérification en cours…",
        "status.ok": "Tous les services fonctionnent.",
        "status.degraded": "Service dégradé : certaines fonctions peuvent être indisponibles.",
        "status.unreachable": "Impossible de joindre le serveur.",
        "status.unknown": "inconnu",
        "status.checked": "Dernière vérification :",
        "status.noscript": "Activez JavaScript pour voir l'état en direct, ou ouvrez /healthz.",
        "status.service": "Service",
        "status.database": "Base de données",
        "status.bus": "Bus de messages",
        "role.citizen": "Citoyen",
        "role.dispatcher": "Opérateur",
        "role.unit": "Unité",
        "role.authority": "Autorité",
        "role.moderator_analyst": "Modérateur / analyste",
        "role.analyst": "Analyste",
        "role.cyber": "Organisations et partenaires",
        "role.admin": "Administrateur",
        "page.sos": "SOS silencieux",
        "page.sos.desc": "Alerter la police sans un bruit, d'un seul geste.",
        "page.safety": "Je suis en sécurité",
        "page.safety.desc": "Dire à vos proches que tout va bien, ou demander de l'aide.",
        "page.persons": "Personnes recherchées",
        "page.persons.desc": "Chercher un proche ou signaler une personne disparue.",
        "page.shelter": "Hébergement",
        "page.shelter.desc": "Proposer ou demander un abri près de vous.",
        "page.alerts": "Alertes officielles",
        "page.alerts.desc": "Les consignes de la préfecture pour votre zone.",
        "page.report": "Signaler un contenu",
        "page.report.desc": "Signaler un appel à la haine ou une apologie du terrorisme en ligne.",
        "page.dispatch": "Régulation",
        "page.dispatch.desc": "Carte et file des SOS, unités proposées, échange silencieux.",
        "page.unit": "Unité sur le terrain",
        "page.unit.desc": "Position, missions reçues, prise en charge et clôture.",
        "page.authority": "Préfecture",
        "page.authority.desc": "Rédiger, valider, publier les alertes ; activer un point sécurité.",
        "page.watch": "Veille des contenus",
        "page.watch.desc": "File de revue priorisée, décisions et injonctions de retrait.",
        "page.stats": "Observatoire",
        "page.stats.desc": "Statistiques en direct, tendances et rapport de transparence.",
        "page.cyber": "Cellule cyber",
        "page.cyber.desc": "Incidents signalés, indicateurs de menace et avis de sécurité.",
        "page.admin": "Administration",
        "page.admin.desc": "Comptes, rôles, durées de conservation et journal d'audit.",
    },
    "en": {
        "lang.name": "English",
        "lang.switch_label": "Lire cette page en français",
        "lang.nav_label": "Language",
        "site.name": "Tocsin",
        "site.tagline": "Alert, rescue and watch platform",
        "site.skip": "Skip to content",
        "site.home": "Tocsin home",
        "footer.api_docs": "API description (OpenAPI)",
        "footer.health": "Service status (JSON)",
        "footer.privacy": (
            "Respect for individual liberties: Tocsin collects the minimum, encrypts sensitive "
            "data, deletes it when it expires and logs every read."
        ),
        "footer.licence": "Tocsin is free software.",
        "assets.missing_title": "Interface incomplete",
        "assets.missing": (
            "The interface files (scripts and styles) have not been built. "
            "Run “make frontend”, then reload the page."
        ),
        "home.title": "Tocsin, alert and mutual aid when a city is under attack",
        "home.intro": (
            "Raise the alarm silently, get official instructions, reassure your loved ones, "
            "find a person, find shelter: one service, for citizens and emergency teams alike."
        ),
        "home.sos_button": "Silent SOS: alert the police without a sound",
        "home.alert_title": "Official alert in force",
        "home.alert_more": "All alerts, the map and the instructions",
        "home.emergency_title": "In an emergency",
        "home.emergency_call": "Call 17 (police) or 112.",
        "home.emergency_sms": "If you cannot speak, text 114.",
        "home.citizens": "For citizens",
        "home.citizens_lead": "No account needed, from any phone.",
        "home.staff": "For professionals",
        "home.staff_lead": "Authorised accounts only; every access is logged.",
        "home.soon": "Coming soon",
        "status.title": "Service status",
        "status.checking": "Checking…",
        "status.ok": "All services are running.",
        "status.degraded": "Degraded service: some functions may be unavailable.",
        "status.unreachable": "The server cannot be reached.",
        "status.unknown": "unknown",
        "status.checked": "Last checked:",
        "status.noscript": "Turn on JavaScript to see the live status, or open /healthz.",
        "status.service": "Service",
        "status.database": "Database",
        "status.bus": "Message bus",
        "role.citizen": "Citizen",
        "role.dispatcher": "Dispatcher",
        "role.unit": "Unit",
        "role.authority": "Authority",
        "role.moderator_analyst": "Moderator / analyst",
        "role.analyst": "Analyst",
        "role.cyber": "Organisations and partners",
        "role.admin": "Administrator",
        "page.sos": "Silent SOS",
        "page.sos.desc": "Alert the police without a sound, in one tap.",
        "page.safety": "I am safe",
        "page.safety.desc": "Tell your loved ones you are fine, or that you need help.",
        "page.persons": "Missing persons",
        "page.persons.desc": "Look for a loved one or report a missing person.",
        "page.shelter": "Shelter",
        "page.shelter.desc": "Offer or ask for a safe place to stay near you.",
        "page.alerts": "Official alerts",
        "page.alerts.desc": "The prefecture's instructions for your area.",
        "page.report": "Report content",
        "page.report.desc": "Report online calls to hatred or apology of terrorism.",
        "page.dispatch": "Dispatch",
        "page.dispatch.desc": "Map and queue of SOS, proposed units, silent messaging.",
        "page.unit": "Field unit",
        "page.unit.desc": "Position, assignments received, accept, on scene and close.",
        "page.authority": "Prefecture",
        "page.authority.desc": "Compose, approve and publish alerts; activate a safety check.",
        "page.watch": "Content watch",
        "page.watch.desc": "Prioritised review queue, decisions and removal orders.",
        "page.stats": "Observatory",
        "page.stats.desc": "Live statistics, trends and transparency report.",
        "page.cyber": "Cyber desk",
        "page.cyber.desc": "Reported incidents, threat indicators and security advisories.",
        "page.admin": "Administration",
        "page.admin.desc": "Accounts, roles, retention periods and audit log.",
    },
}


def is_supported(value: object) -> TypeGuard[Lang]:
    """Tell whether ``value`` names a language the pages are written in."""
    return value in SUPPORTED


def register_messages(messages: Mapping[Lang, Mapping[str, str]]) -> None:
    """Add a domain's messages to the catalogue; a key defined twice is a bug, so it raises."""
    for lang, entries in messages.items():
        if not is_supported(lang):
            raise ValueError(f"unsupported language {lang!r}")
        clashes = sorted(set(entries) & set(CATALOGUE[lang]))
        if clashes:
            raise ValueError(f"message keys already defined for {lang}: {', '.join(clashes)}")
        CATALOGUE[lang].update(entries)


def translator(lang: Lang) -> Translator:
    """Return ``t(key)`` for ``lang``, falling back to French, then to the key itself.

    Falling back instead of raising keeps a page up when a translation lags behind; the
    catalogue test catches the gap.
    """
    primary = CATALOGUE[lang]
    fallback = CATALOGUE[DEFAULT_LANG]

    def t(key: str) -> str:
        return primary.get(key) or fallback.get(key) or key

    return t


def parse_accept_language(header: str) -> Lang | None:
    """Return the supported language the client ranks highest in ``Accept-Language``."""
    ranked: list[tuple[float, int, Lang]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and is_supported(primary):
            # Equal weights keep the client's order: sort on (-q, position).
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def query_lang(request: Request) -> Lang | None:
    """Return the language asked for explicitly with ``?lang=``, if it is a supported one."""
    value = request.query_params.get("lang", "").strip().lower()
    return value if is_supported(value) else None


def negotiate(request: Request) -> Lang:
    """Pick the page language: ``?lang=``, then the cookie, then Accept-Language, then French."""
    asked = query_lang(request)
    if asked is not None:
        return asked
    cookie = request.cookies.get(LANG_COOKIE, "").strip().lower()
    if is_supported(cookie):
        return cookie
    return parse_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANG


def remember_lang(request: Request, response: Response) -> None:
    """Store an explicit ``?lang=`` choice in a cookie and mark the answer as language-dependent."""
    asked = query_lang(request)
    if asked is not None:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=LANG_COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="lax",
        )
    # Shared caches must not hand a French page to an English reader.
    response.headers.append("Vary", "Accept-Language, Cookie")
