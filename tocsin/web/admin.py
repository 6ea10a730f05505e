"""``/admin``: the administrator's page — accounts and the audit log.

The page is a public HTML shell; everything it shows comes from admin-only API routes called
with the bearer token of the person who logs in on it, so the page itself reveals nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tocsin.core.auth import Role, public
from tocsin.web import i18n
from tocsin.web import staff_login as _staff_login  # noqa: F401  (registers the sign-in texts)
from tocsin.web.admin_text import ROLES, audit_words
from tocsin.web.render import render_page

router = APIRouter(tags=["pages"], include_in_schema=False)

# Keys handed to the browser script through data-i18n-* attributes.
SCRIPT_KEYS = (
    "admin.created", "admin.active", "admin.inactive",
    "admin.deactivate", "admin.activate", "admin.no_entries", "admin.total",
    "admin.required", "admin.revoke_sessions", "admin.reset_mfa", "admin.revoked",
    "admin.mfa_saved", "admin.mfa_code", "admin.mfa_code_for", "admin.reset_password",
    "admin.reset_code_for", "admin.valid_until", "admin.page_of", "admin.signed_in",
)

i18n.register_messages(
    {
        "fr": {
            "admin.title": "Administration",
            "admin.lead": "Comptes et rôles, journal d'audit. Chaque consultation est journalisée.",
            "admin.login_title": "Connexion administrateur",
            "admin.username": "Identifiant",
            "admin.password": "Mot de passe",
            "admin.logout": "Se déconnecter",
            "admin.mfa": "Double authentification",
            "admin.mfa_lead": "Exiger la double authentification (code TOTP) pour un rôle : "
                              "ses comptes sans 2FA ne peuvent plus que l'activer.",
            "admin.required": "exigée pour",
            "admin.mfa_saved": "Règle enregistrée",
            "admin.revoke_sessions": "Révoquer ses sessions",
            "admin.reset_mfa": "Retirer sa 2FA",
            "admin.mfa_code": "Code d'activation 2FA",
            "admin.mfa_code_for": "Code d'activation 2FA, à usage unique, à remettre à",
            "admin.reset_password": "Réinitialiser le mot de passe",
            "admin.reset_code_for": "Mot de passe réinitialisé (sessions fermées) ; code à "
                                    "usage unique à remettre à",
            "admin.valid_until": "valable jusqu'au",
            "admin.revoked": "Sessions révoquées",
            "admin.wrong_role": "Ce compte n'est pas administrateur.",
            "admin.accounts": "Comptes",
            "admin.new_account": "Nouveau compte",
            "admin.role": "Rôle",
            "admin.create": "Créer le compte",
            "admin.created": "Compte créé",
            "admin.status": "État",
            "admin.created_at": "Créé le",
            "admin.actions": "Actions",
            "admin.active": "actif",
            "admin.inactive": "désactivé",
            "admin.deactivate": "Désactiver",
            "admin.activate": "Réactiver",
            "admin.audit": "Journal d'audit",
            "admin.actor": "Auteur",
            "admin.action": "Action",
            "admin.object": "Objet",
            "admin.reason": "Motif",
            "admin.when": "Date",
            "admin.filter": "Filtrer",
            "admin.no_entries": "Aucune entrée.",
            "admin.total": "entrées",
            "admin.password_rule": "12 caractères au moins, deux types de caractères.",
            "admin.search": "Rechercher (tous les mots)",
            "admin.search_hint": "auteur, action, objet ou motif ; ex. « PS-12 »",
            "admin.previous": "← Plus récentes",
            "admin.next": "Plus anciennes →",
            "admin.page_of": "entrées {from} à {to} sur {total}",
            "admin.signed_in": "Connecté(e) :",
        },
        "en": {
            "admin.title": "Administration",
            "admin.lead": "Accounts and roles, audit log. Every consultation is logged.",
            "admin.login_title": "Administrator sign-in",
            "admin.username": "Username",
            "admin.password": "Password",
            "admin.logout": "Sign out",
            "admin.mfa": "Two-factor authentication",
            "admin.mfa_lead": "Require two-factor authentication (TOTP code) for a role: its "
                              "accounts without 2FA can then only turn it on.",
            "admin.required": "required for",
            "admin.mfa_saved": "Rule saved",
            "admin.revoke_sessions": "Revoke sessions",
            "admin.reset_mfa": "Remove 2FA",
            "admin.mfa_code": "2FA activation code",
            "admin.mfa_code_for": "2FA activation code, single use, to hand to",
            "admin.reset_password": "Reset password",
            "admin.reset_code_for": "Password reset (sessions closed); single-use code to hand "
                                    "to",
            "admin.valid_until": "valid until",
            "admin.revoked": "Sessions revoked",
            "admin.wrong_role": "This account is not an administrator.",
            "admin.accounts": "Accounts",
            "admin.new_account": "New account",
            "admin.role": "Role",
            "admin.create": "Create account",
            "admin.created": "Account created",
            "admin.status": "Status",
            "admin.created_at": "Created",
            "admin.actions": "Actions",
            "admin.active": "active",
            "admin.inactive": "deactivated",
            "admin.deactivate": "Deactivate",
            "admin.activate": "Reactivate",
            "admin.audit": "Audit log",
            "admin.actor": "Actor",
            "admin.action": "Action",
            "admin.object": "Object",
            "admin.reason": "Reason",
            "admin.when": "When",
            "admin.filter": "Filter",
            "admin.no_entries": "No entries.",
            "admin.total": "entries",
            "admin.password_rule": "At least 12 characters, two kinds of characters.",
            "admin.search": "Search (all words)",
            "admin.search_hint": "actor, action, object or reason; e.g. “PS-12”",
            "admin.previous": "← Newer",
            "admin.next": "Older →",
            "admin.page_of": "entries {from} to {to} of {total}",
            "admin.signed_in": "Signed in:",
        },
    }
)


@router.get("/admin", response_class=HTMLResponse, dependencies=[Depends(public())])
def admin_page(request: Request) -> Response:
    """Show the administrator's page (its data needs an admin token)."""
    lang = i18n.negotiate(request)
    at = 1 if lang == "en" else 0
    return render_page(
        request,
        "admin.html",
        entry="admin",
        context={
            "roles": [(role.value, ROLES[role][at]) for role in Role],
            "script_keys": SCRIPT_KEYS,
            "audit_words": audit_words(lang),
        },
    )
