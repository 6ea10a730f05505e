"""The audit log in words: role names, actions and the reasons the platform writes itself,
in French and English, for the administrator's page (``/admin``).

The log keeps codes (``dispatch_assign``, ``role dispatcher``): they are stable and searchable.
The page shows them as words through these tables; a reason typed by a person (a moderator's
motive) matches no pattern and is shown as typed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from tocsin.core.auth import Role

# code: (French, English)
ROLES: Mapping[str, tuple[str, str]] = {
    Role.unit: ("unité d'intervention", "response unit"),
    Role.dispatcher: ("opérateur de régulation", "dispatcher"),
    Role.authority: ("autorité (préfecture)", "authority (prefecture)"),
    Role.moderator: ("modérateur", "moderator"),
    Role.analyst: ("analyste", "analyst"),
    Role.platform: ("plateforme en ligne", "online platform"),
    Role.organisation: ("organisation déclarante", "reporting organisation"),
    Role.partner: ("partenaire d'échange", "sharing partner"),
    Role.admin: ("administrateur", "administrator"),
    "system": ("système", "system"),
}

ACTIONS: Mapping[str, tuple[str, str]] = {
    "login": ("connexion", "sign-in"),
    "logout": ("déconnexion", "sign-out"),
    "create_account": ("création de compte", "account created"),
    "activate_account": ("réactivation de compte", "account reactivated"),
    "deactivate_account": ("désactivation de compte", "account deactivated"),
    "password_changed": ("mot de passe changé", "password changed"),
    "password_reset": ("mot de passe réinitialisé", "password reset"),
    "password_reset_issued": ("code de réinitialisation remis", "reset code issued"),
    "mfa_enrol_start": ("2FA : inscription commencée", "2FA: enrolment started"),
    "mfa_enabled": ("2FA activée", "2FA turned on"),
    "mfa_disabled": ("2FA désactivée", "2FA turned off"),
    "mfa_reset": ("2FA retirée par l'administrateur", "2FA removed by the administrator"),
    "mfa_activation_issued": ("code d'activation 2FA remis", "2FA activation code issued"),
    "mfa_recovery_codes": ("codes de secours 2FA", "2FA recovery codes"),
    "mfa_policy": ("règle 2FA d'un rôle", "a role's 2FA rule"),
    "revoke_session": ("session révoquée", "session revoked"),
    "revoke_all_sessions": ("toutes les sessions révoquées", "all sessions revoked"),
    "read_audit": ("lecture du journal d'audit", "audit log read"),
    "read_sensitive": ("lecture de données sensibles", "sensitive data read"),
    "purge": ("purge des données échues", "expired data purged"),
    "sos_reply": ("réponse à un SOS", "reply to an SOS"),
    "sos_close": ("SOS clos", "SOS closed"),
    "dispatch_assign": ("engagement d'une unité", "unit assigned"),
    "dispatch_reassign": ("réaffectation", "reassignment"),
    "dispatch_merge": ("fusion d'incidents", "incidents merged"),
    "dispatch_split": ("scission d'incident", "incident split"),
    "dispatch_close": ("incident clos", "incident closed"),
    "alert.publish": ("alerte publiée", "alert published"),
    "alert.approve": ("alerte approuvée", "alert approved"),
    "alert.approve_refused": ("approbation refusée (même auteur)",
                              "approval refused (same author)"),
    "alert.reject": ("alerte rejetée", "alert rejected"),
    "alert.delivery_retry": ("nouvelle tentative de remise", "delivery retried"),
    "alert.webhook_register": ("webhook d'alerte enregistré", "alert webhook registered"),
    "watch.remove": ("décision : retirer", "decision: remove"),
    "watch.keep": ("décision : conserver", "decision: keep"),
    "watch.escalate": ("décision : transmettre", "decision: escalate"),
    "watch.order_": ("injonction de retrait émise", "removal order issued"),
    "watch.notice_": ("notification DSA envoyée", "DSA notice sent"),
    "watch.order_approve": ("injonction approuvée", "removal order approved"),
    "watch.notice_approve": ("notification approuvée", "notice approved"),
    "watch.order_withdraw": ("proposition d'injonction retirée", "order proposal withdrawn"),
    "watch.notice_withdraw": ("proposition de notification retirée", "notice proposal withdrawn"),
    "watch.order_receive": ("injonction reçue par la plateforme", "order received by platform"),
    "watch.notice_receive": ("notification reçue", "notice received"),
    "watch.order_confirm": ("retrait confirmé par la plateforme", "removal confirmed"),
    "watch.notice_confirm": ("notification traitée", "notice acted upon"),
    "watch.order_contest": ("injonction contestée", "order contested"),
    "watch.notice_contest": ("notification refusée", "notice declined"),
    "watch.prior_notice": ("préavis de 12 h envoyé", "12-hour prior notice sent"),
    "watch.platform_add": ("plateforme ajoutée", "platform added"),
    "watch.hashes_import": ("import d'empreintes", "hashes imported"),
    "cyber.incident_status": ("état d'un signalement cyber", "cyber report status"),
    "cyber.indicator_add": ("indicateur ajouté", "indicator added"),
    "cyber.indicator_review": ("indicateur revu", "indicator reviewed"),
    "cyber.advisory_draft": ("avis : brouillon", "advisory drafted"),
    "cyber.advisory_edit": ("avis modifié", "advisory edited"),
    "cyber.advisory_submit": ("avis soumis à relecture", "advisory submitted for review"),
    "cyber.advisory_send_back": ("avis renvoyé", "advisory sent back"),
    "cyber.advisory_publish": ("avis publié", "advisory published"),
    "cyber.subscribe": ("abonnement aux avis", "advisory subscription"),
    "cyber.stix_export": ("export STIX", "STIX export"),
    "cyber.stix_import": ("import STIX", "STIX import"),
    "shelter_offer_create": ("offre d'hébergement créée", "shelter offer created"),
    "shelter_offer_update": ("offre d'hébergement modifiée", "shelter offer updated"),
    "shelter_request_create": ("demande d'hébergement", "shelter request"),
    "shelter_request_cancel": ("demande d'hébergement annulée", "shelter request cancelled"),
    "shelter_accept": ("hébergement accepté", "shelter accepted"),
    "shelter_decline": ("hébergement refusé", "shelter declined"),
    "shelter_ask": ("demande à un hôte", "host asked"),
    "shelter_report": ("signalement d'une offre", "offer reported"),
    "add_note": ("note ajoutée", "note added"),
}

# (regular expression on the whole reason, French, English); {name} takes the group's text,
# {role:name} the group's role name in words.
REASONS: tuple[tuple[str, str, str], ...] = (
    (r"role (?P<r>\w+)", "rôle {role:r}", "role {role:r}"),
    (r"(?P<n>\d+) sessions", "{n} sessions", "{n} sessions"),
    (r"(?P<n>\d+) other sessions revoked", "{n} autres sessions révoquées",
     "{n} other sessions revoked"),
    (r"2FA required", "2FA exigée", "2FA required"),
    (r"with 2FA", "avec 2FA", "with 2FA"),
    (r"expired", "expiré", "expired"),
    (r"two-person rule: author may not approve",
     "règle des deux personnes : l'auteur ne peut pas approuver",
     "two-person rule: the author may not approve"),
    (r"moderation review", "revue de modération", "moderation review"),
    (r"(?P<n>\d+) records past retention", "{n} enregistrements échus",
     "{n} records past retention"),
    (r"unit (?P<u>.+)", "unité {u}", "unit {u}"),
    (r"version (?P<v>\d+)", "version {v}", "version {v}"),
    (r"merged into (?P<i>.+)", "fusionné dans {i}", "merged into {i}"),
    (r"(?P<n>\d+) SOS to (?P<i>.+)", "{n} SOS vers {i}", "{n} SOS to {i}"),
    (r"(?P<n>\d+) people", "{n} personnes", "{n} people"),
    (r"offer (?P<o>.+)", "offre {o}", "offer {o}"),
    (r"host reads their own offer", "l'hôte lit sa propre offre", "the host reads their offer"),
    (r"address revealed to the accepted seeker of request (?P<r>.+)",
     "adresse révélée au demandeur accepté (demande {r})",
     "address revealed to the accepted seeker (request {r})"),
    (r"webhook 2xx", "webhook accepté (2xx)", "webhook accepted (2xx)"),
    (r"for all partners", "pour tous les partenaires", "for all partners"),
    (r"for (?P<p>.+)", "pour {p}", "for {p}"),
    (r"from (?P<s>.+)", "depuis {s}", "from {s}"),
    (r"note feed: (?P<n>\d+) notes", "flux de notes : {n} notes", "note feed: {n} notes"),
    (r"person feed: (?P<n>\d+) records, (?P<m>\d+) notes",
     "flux de personnes : {n} fiches, {m} notes", "person feed: {n} records, {m} notes"),
    (r"PFIF 1\.4 export \(streamed\)", "export PFIF 1.4 (en flux)", "PFIF 1.4 export (streamed)"),
    (r"TCO Art\. 3\(2\)", "règlement TCO, art. 3(2)", "TCO Regulation, Art. 3(2)"),
    (r"status=(?P<s>\w+) tlp=(?P<t>\w+)", "état {s}, TLP:{t}", "status {s}, TLP:{t}"),
    (r"new", "nouveau", "new"),
    (r"triaged", "qualifié", "triaged"),
    (r"closed", "clos", "closed"),
)


def audit_words(lang: str) -> str:
    """The tables above in ``lang``, as the JSON the page's script reads."""
    at = 1 if lang == "en" else 0
    return json.dumps({
        "roles": {str(code): words[at] for code, words in ROLES.items()},
        "actions": {code: words[at] for code, words in ACTIONS.items()},
        # JavaScript writes a named group (?<name>...), Python (?P<name>...).
        "reasons": [[pattern.replace("(?P<", "(?<"), texts[at]] for pattern, *texts in REASONS],
    }, ensure_ascii=False)
