"""Messages of the shared staff sign-in (``templates/_staff_login.html``, ``lib/staff.ts``).

Imported by every page module that renders the partial, so the keys exist before rendering.
"""

from __future__ import annotations

from tocsin.web import i18n

i18n.register_messages(
    {
        "fr": {
            "staff.username": "Identifiant",
            "staff.password": "Mot de passe",
            "staff.login": "Se connecter",
            "staff.login_failed": "Connexion refusée",
            "staff.otp": "Code à 6 chiffres (double authentification)",
            "staff.otp_hint": "Le code de votre application, ou un code de secours.",
            "staff.otp_needed": "Ce compte a la double authentification : saisissez le code.",
            "staff.enrol_needed": "La double authentification est exigée pour votre rôle : "
                                  "activez-la pour continuer.",
            "staff.enrol_title": "Activer la double authentification",
            "staff.enrol_lead": "Scannez ce code avec votre application d'authentification "
                                "(FreeOTP, Aegis, Google Authenticator…), puis saisissez le "
                                "code qu'elle affiche.",
            "staff.enrol_qr": "Code QR de la clé secrète",
            "staff.enrol_secret": "Clé à saisir à la main :",
            "staff.enrol_open": "ouvrir dans l'application",
            "staff.code": "Code affiché",
            "staff.enrol_confirm": "Activer",
            "staff.enrol_failed": "Activation refusée",
            "staff.recovery_title": "Codes de secours",
            "staff.recovery_lead": "Notez-les maintenant et gardez-les hors de ce poste : ils "
                                   "ne seront plus affichés. Chacun ouvre une session une fois, "
                                   "si vous perdez votre téléphone.",
            "staff.continue": "Continuer",
            "staff.account": "Mon compte : mot de passe, double authentification, sessions",
            "staff.mfa_on": "Double authentification active.",
            "staff.mfa_off": "Double authentification inactive.",
            "staff.mfa_required": "Elle est exigée pour votre rôle.",
            "staff.sessions": "Mes sessions",
            "staff.session_start": "Ouverte le",
            "staff.session_used": "Dernier usage",
            "staff.session_agent": "Navigateur, adresse",
            "staff.this_session": "cette session",
            "staff.with_mfa": "avec 2FA",
            "staff.revoke": "Révoquer",
            "staff.never": "jamais",
            "staff.activation_lead": "Saisissez d'abord le code d'activation qu'un "
                                     "administrateur vous a remis : il prouve que c'est bien "
                                     "vous qui liez votre téléphone à ce compte.",
            "staff.activation_code": "Code d'activation",
            "staff.reset_title": "J'ai un code de réinitialisation",
            "staff.reset_lead": "Un administrateur a réinitialisé votre mot de passe et vous a "
                                "remis un code : choisissez ici votre nouveau mot de passe.",
            "staff.reset_code": "Code de réinitialisation",
            "staff.new_password": "Nouveau mot de passe",
            "staff.password_rule": "12 caractères au moins, deux types de caractères, sans "
                                   "votre identifiant.",
            "staff.reset_submit": "Choisir ce mot de passe",
            "staff.reset_done": "Mot de passe enregistré : connectez-vous avec lui.",
            "staff.reset_failed": "Réinitialisation refusée",
            "staff.change_password": "Changer mon mot de passe",
            "staff.current_password": "Mot de passe actuel",
            "staff.password_otp": "Code de votre application d'authentification",
            "staff.change_submit": "Changer le mot de passe",
            "staff.password_changed": "Mot de passe changé ; vos autres sessions sont fermées.",
        },
        "en": {
            "staff.username": "Username",
            "staff.password": "Password",
            "staff.login": "Sign in",
            "staff.login_failed": "Sign-in refused",
            "staff.otp": "6-digit code (two-factor authentication)",
            "staff.otp_hint": "The code of your app, or a recovery code.",
            "staff.otp_needed": "This account uses two-factor authentication: enter the code.",
            "staff.enrol_needed": "Two-factor authentication is required for your role: turn it "
                                  "on to continue.",
            "staff.enrol_title": "Turn on two-factor authentication",
            "staff.enrol_lead": "Scan this code with your authenticator app (FreeOTP, Aegis, "
                                "Google Authenticator…), then enter the code it shows.",
            "staff.enrol_qr": "QR code of the secret key",
            "staff.enrol_secret": "Key to type by hand:",
            "staff.enrol_open": "open in the app",
            "staff.code": "Code shown",
            "staff.enrol_confirm": "Turn on",
            "staff.enrol_failed": "Activation refused",
            "staff.recovery_title": "Recovery codes",
            "staff.recovery_lead": "Write them down now and keep them away from this computer: "
                                   "they will not be shown again. Each opens one session, once, "
                                   "if you lose your phone.",
            "staff.continue": "Continue",
            "staff.account": "My account: password, two-factor authentication, sessions",
            "staff.mfa_on": "Two-factor authentication is on.",
            "staff.mfa_off": "Two-factor authentication is off.",
            "staff.mfa_required": "It is required for your role.",
            "staff.sessions": "My sessions",
            "staff.session_start": "Opened",
            "staff.session_used": "Last used",
            "staff.session_agent": "Browser, address",
            "staff.this_session": "this session",
            "staff.with_mfa": "with 2FA",
            "staff.revoke": "Revoke",
            "staff.never": "never",
            "staff.activation_lead": "First enter the activation code an administrator gave "
                                     "you: it proves that it is you who ties your phone to "
                                     "this account.",
            "staff.activation_code": "Activation code",
            "staff.reset_title": "I have a reset code",
            "staff.reset_lead": "An administrator reset your password and gave you a code: "
                                "choose your new password here.",
            "staff.reset_code": "Reset code",
            "staff.new_password": "New password",
            "staff.password_rule": "At least 12 characters, two kinds of characters, not your "
                                   "username.",
            "staff.reset_submit": "Choose this password",
            "staff.reset_done": "Password saved: sign in with it.",
            "staff.reset_failed": "Reset refused",
            "staff.change_password": "Change my password",
            "staff.current_password": "Current password",
            "staff.password_otp": "Code of your authenticator app",
            "staff.change_submit": "Change the password",
            "staff.password_changed": "Password changed; your other sessions are closed.",
        },
    }
)
