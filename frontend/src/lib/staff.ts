/**
 * Staff session in the browser: log in with the OAuth2 password flow (plus the two-factor code
 * when the account has one), keep the bearer token for this tab only (sessionStorage: it dies
 * with the tab, so an unattended console does not stay logged in forever), and call the API
 * with it. A 401 ends the session.
 *
 * `mountStaffLogin` drives the one sign-in partial every staff page renders
 * (templates/_staff_login.html): password, then the code if the server answers
 * `mfa_required`, then TOTP enrolment if 2FA is required for the role and not set up yet.
 * Enrolment starts with the one-time activation code an administrator issued (the password
 * alone must not let someone tie the account to their phone). The partial also redeems a
 * password reset code; the "my account" panel changes the password.
 */
import "../styles/staff.css";
import { messagesFrom } from "./i18n";
import { mountAccount } from "./staff-account";
import {
  ApiFailure, api, currentRole, currentScope, currentToken, login, logout, markFullScope,
} from "./staff-api";

export { ApiFailure, api, currentRole, currentScope, currentToken, currentUser, login, logout }
  from "./staff-api";
export type { ApiError } from "./staff-api";

export interface StaffLoginOptions {
  /** The page's app element; it holds the sign-in partial and a `[data-view="console"]`. */
  root: HTMLElement;
  /** Roles the page serves; another account is signed out with the page's message. */
  roles: readonly string[];
  /** Open the console (after sign-in, or at load when this tab is still signed in). */
  onSignedIn: (role: string) => void | Promise<void>;
  /** Stop what the console runs (streams, timers) when its person signs out. */
  onSignedOut?: () => void;
}

export interface StaffLogin {
  /** Revoke the token on the server, forget it here, show the sign-in form. */
  signOut(): Promise<void>;
  /** Show the sign-in form (with a message, e.g. after the session ended). */
  showLogin(message?: string): void;
  /** Turn on 2FA for the signed-in account (the console comes back when it is done). */
  enrol(): Promise<void>;
}

/** Wire the sign-in partial of a staff page; bind its `[data-action="logout"]` buttons. */
export function mountStaffLogin(options: StaffLoginOptions): StaffLogin {
  const { root, roles } = options;
  const section = root.querySelector("[data-staff-login]") as HTMLElement;
  const t = messagesFrom(section);
  const $ = <E extends Element>(selector: string): E => section.querySelector(selector) as E;
  const form = $<HTMLFormElement>('[data-form="login"]');
  const otpField = $<HTMLElement>("[data-otp]");
  const otpInput = $<HTMLInputElement>("#login-otp");
  const enrol = $<HTMLElement>("[data-enrol]");
  const recovery = $<HTMLElement>("[data-recovery]");

  const say = (where: string, text: string, ok = false): void => {
    const el = $<HTMLElement>(`[data-message="${where}"]`);
    el.textContent = text;
    el.classList.toggle("is-error", !ok && text !== "");
    el.classList.toggle("is-ok", ok);
  };
  const failure = (error: unknown): string =>
    error instanceof ApiFailure ? error.message : String(error);

  const showView = (signedIn: boolean): void => {
    section.hidden = signedIn;
    const consoleView = root.querySelector('[data-view="console"]') as HTMLElement | null;
    if (consoleView) consoleView.hidden = !signedIn;
  };

  const showLogin = (message = ""): void => {
    form.hidden = false;
    $<HTMLElement>("[data-reset]").hidden = false;
    enrol.hidden = true;
    recovery.hidden = true;
    showView(false);
    say("login", message);
  };

  const enter = (): void => {
    form.reset();
    otpField.hidden = true;
    otpInput.required = false;
    enrol.hidden = true;
    recovery.hidden = true;
    form.hidden = false;
    say("login", "");
    showView(true);
    void options.onSignedIn(currentRole() ?? "");
  };

  const activateForm = $<HTMLFormElement>('[data-form="activate"]');
  const activateStep = $<HTMLElement>("[data-activate]");
  const enrolSteps = $<HTMLElement>("[data-enrol-steps]");
  // Kept only in this closure, between the two enrolment steps (the server spends it at the
  // confirmation).
  let activationCode = "";

  const startEnrolment = (required = true): Promise<void> => {
    showView(false);
    form.hidden = true;
    $<HTMLElement>("[data-reset]").hidden = true;
    enrol.hidden = false;
    activateStep.hidden = false;
    activateForm.reset();
    enrolSteps.hidden = true;
    say("enrol", "");
    say("login", required ? t("staff.enrol_needed") : "", true);
    $<HTMLInputElement>("#enrol-activation").focus();
    return Promise.resolve();
  };

  activateForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = String(new FormData(activateForm).get("activation_code") ?? "").trim();
    api<{ secret: string; otpauth_uri: string; qr_svg: string }>("/api/v1/auth/mfa/totp", {
      method: "POST",
      body: JSON.stringify({ activation_code: code }),
    }).then(
      (started) => {
        activationCode = code;
        activateStep.hidden = true;
        enrolSteps.hidden = false;
        say("enrol", "");
        $<HTMLImageElement>("[data-enrol-qr]").src = started.qr_svg;
        $<HTMLElement>("[data-enrol-secret]").textContent = started.secret;
        $<HTMLAnchorElement>("[data-enrol-uri]").href = started.otpauth_uri;
        $<HTMLInputElement>("#enrol-code").focus();
      },
      (error: unknown) => say("enrol", `${t("staff.enrol_failed")} : ${failure(error)}`),
    );
  });

  const resetForm = $<HTMLFormElement>('[data-form="reset"]');
  resetForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(resetForm);
    const body = {
      username: String(data.get("username") ?? ""),
      code: String(data.get("code") ?? "").trim(),
      new_password: String(data.get("new_password") ?? ""),
    };
    api("/api/v1/auth/password/reset", { method: "POST", body: JSON.stringify(body) }).then(
      () => {
        resetForm.reset();
        $<HTMLDetailsElement>("[data-reset]").open = false;
        $<HTMLInputElement>("#login-username").value = body.username;
        say("reset", "");
        say("login", t("staff.reset_done"), true);
      },
      (error: unknown) => say("reset", `${t("staff.reset_failed")} : ${failure(error)}`),
    );
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const otp = String(data.get("otp") ?? "").trim();
    login(String(data.get("username")), String(data.get("password")), otp || undefined).then(
      (role) => {
        if (!roles.includes(role)) {
          logout();
          say("login", section.dataset.wrongRole ?? "");
          return;
        }
        if (currentScope() === "mfa_enrolment") void startEnrolment();
        else enter();
      },
      (error: unknown) => {
        if (error instanceof ApiFailure && error.error.code === "mfa_required") {
          otpField.hidden = false;
          otpInput.required = true;
          otpInput.focus();
          say("login", t("staff.otp_needed"), true);
          return;
        }
        otpInput.value = "";
        say("login", `${t("staff.login_failed")} : ${failure(error)}`);
      },
    );
  });

  $<HTMLFormElement>('[data-form="enrol"]').addEventListener("submit", (event) => {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget as HTMLFormElement).get("code"));
    api<{ recovery_codes: string[] }>("/api/v1/auth/mfa/totp/confirm", {
      method: "POST",
      body: JSON.stringify({ code, activation_code: activationCode }),
    }).then(
      (answer) => {
        activationCode = "";
        // Confirming proved the second factor: the server upgraded this session.
        markFullScope();
        enrol.hidden = true;
        recovery.hidden = false;
        say("login", "");
        const list = $<HTMLOListElement>("[data-recovery-codes]");
        list.replaceChildren(
          ...answer.recovery_codes.map((c) => {
            const li = document.createElement("li");
            li.textContent = c;
            return li;
          }),
        );
      },
      (error: unknown) => say("enrol", `${t("staff.enrol_failed")} : ${failure(error)}`),
    );
  });

  $<HTMLButtonElement>('[data-action="recovery-done"]').addEventListener("click", () => {
    $<HTMLOListElement>("[data-recovery-codes]").replaceChildren();
    enter();
  });

  const signOut = async (): Promise<void> => {
    options.onSignedOut?.();
    try {
      if (currentToken()) await api("/api/v1/auth/logout", { method: "POST" });
    } catch {
      /* the token may already be gone: signing out here is what matters */
    }
    logout();
    showLogin();
  };
  for (const button of root.querySelectorAll<HTMLButtonElement>('[data-action="logout"]')) {
    button.addEventListener("click", () => void signOut());
  }

  const account = root.querySelector<HTMLDetailsElement>("[data-staff-account]");
  if (account) mountAccount(account, () => void startEnrolment(false), showLogin);

  const role = currentRole();
  if (currentToken() && role && roles.includes(role) && currentScope() !== "mfa_enrolment") {
    showView(true);
    // After this function returns, so the page already holds the handle it gets back.
    queueMicrotask(() => void options.onSignedIn(role));
  } else {
    showLogin();
  }
  return { signOut, showLogin, enrol: () => startEnrolment(false) };
}
