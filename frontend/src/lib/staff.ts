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

const TOKEN_KEY = "tocsin.token";
const ROLE_KEY = "tocsin.role";
const SCOPE_KEY = "tocsin.scope";
const USER_KEY = "tocsin.user";

export interface ApiError {
  status: number;
  code: string;
  message: string;
}

export class ApiFailure extends Error {
  constructor(public readonly error: ApiError) {
    super(error.message);
  }
}

export function currentToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The username this tab signed in with (pages compare it with authors, e.g. two-person rule). */
export function currentUser(): string | null {
  return sessionStorage.getItem(USER_KEY);
}

export function currentRole(): string | null {
  return sessionStorage.getItem(ROLE_KEY);
}

/** "full", or "mfa_enrolment" for a token that may only turn on two-factor authentication. */
export function currentScope(): string | null {
  return sessionStorage.getItem(SCOPE_KEY);
}

export function logout(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
  sessionStorage.removeItem(SCOPE_KEY);
  sessionStorage.removeItem(USER_KEY);
}

async function toFailure(response: Response): Promise<ApiFailure> {
  let code = "error";
  let message = response.statusText;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    /* not JSON: keep the status text */
  }
  return new ApiFailure({ status: response.status, code, message });
}

/**
 * Log in; resolve to the account's role, or reject with the server's error (code
 * `mfa_required` when the account has 2FA and no `otp` was given).
 */
export async function login(username: string, password: string, otp?: string): Promise<string> {
  const form = new URLSearchParams({ username, password });
  if (otp) form.set("otp", otp);
  const response = await fetch("/api/v1/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  if (!response.ok) throw await toFailure(response);
  const body = (await response.json()) as { access_token: string; role: string; scope?: string };
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  sessionStorage.setItem(ROLE_KEY, body.role);
  sessionStorage.setItem(SCOPE_KEY, body.scope ?? "full");
  sessionStorage.setItem(USER_KEY, username);
  return body.role;
}

/** Call the API with the session's token; JSON in and out. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) logout();
  if (!response.ok) throw await toFailure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

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
        sessionStorage.setItem(SCOPE_KEY, "full");
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

interface Session {
  id: string;
  issued_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  ip: string | null;
  mfa: boolean;
  current: boolean;
}

/** The "my account" panel: 2FA status (turn it on), own sessions (revoke any), and a change
 * of password (the server closes every other session). */
function mountAccount(panel: HTMLDetailsElement, enrol: () => void, ended: () => void): void {
  const t = messagesFrom(panel);
  const $ = <E extends Element>(selector: string): E => panel.querySelector(selector) as E;
  const when = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-GB" : "fr-FR",
    { dateStyle: "short", timeStyle: "short" });
  const say = (text: string, ok: boolean): void => {
    const el = $<HTMLElement>('[data-message="account"]');
    el.textContent = text;
    el.classList.toggle("is-error", !ok);
  };

  const load = async (): Promise<void> => {
    const status = await api<{ enabled: boolean; required: boolean; available: boolean }>(
      "/api/v1/auth/mfa");
    $<HTMLElement>("[data-account-mfa]").textContent = [
      status.enabled ? t("staff.mfa_on") : t("staff.mfa_off"),
      status.required ? t("staff.mfa_required") : "",
    ].filter(Boolean).join(" ");
    $<HTMLButtonElement>('[data-action="account-enrol"]').hidden =
      status.enabled || !status.available;
    // The code is asked for only where the account has one.
    $<HTMLElement>("[data-password-otp]").hidden = !status.enabled;
    const sessions = await api<Session[]>("/api/v1/auth/sessions");
    const body = $<HTMLTableSectionElement>('[data-table="sessions"]');
    body.replaceChildren();
    for (const s of sessions) {
      const row = body.insertRow();
      row.dataset.session = s.id;
      row.insertCell().textContent = when.format(new Date(s.issued_at));
      row.insertCell().textContent =
        s.last_used_at ? when.format(new Date(s.last_used_at)) : t("staff.never");
      const notes = [s.current ? t("staff.this_session") : "", s.mfa ? t("staff.with_mfa") : ""];
      row.insertCell().textContent =
        [s.user_agent ?? "", s.ip ?? "", ...notes].filter(Boolean).join(" · ");
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "btn btn-secondary";
      revoke.textContent = t("staff.revoke");
      revoke.addEventListener("click", () => {
        api(`/api/v1/auth/sessions/${s.id}`, { method: "DELETE" }).then(
          () => {
            if (!s.current) return load();
            logout();
            ended();
            return undefined;
          },
          (e: unknown) => say(e instanceof ApiFailure ? e.message : String(e), false),
        );
      });
      row.insertCell().append(revoke);
    }
  };

  panel.addEventListener("toggle", () => {
    if (panel.open) load().catch((e: unknown) => say(String(e), false));
  });
  $<HTMLButtonElement>('[data-action="account-enrol"]').addEventListener("click", () => {
    panel.open = false;
    enrol();
  });

  const passwordForm = $<HTMLFormElement>('[data-form="password"]');
  const sayPassword = (text: string, ok: boolean): void => {
    const el = $<HTMLElement>('[data-message="password"]');
    el.textContent = text;
    el.classList.toggle("is-error", !ok);
    el.classList.toggle("is-ok", ok);
  };
  passwordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(passwordForm);
    const otp = String(data.get("otp") ?? "").trim();
    const body = {
      current_password: String(data.get("current_password") ?? ""),
      new_password: String(data.get("new_password") ?? ""),
      ...(otp ? { otp } : {}),
    };
    api("/api/v1/auth/password", { method: "POST", body: JSON.stringify(body) }).then(
      () => {
        passwordForm.reset();
        sayPassword(t("staff.password_changed"), true);
        return load();
      },
      (e: unknown) => sayPassword(e instanceof ApiFailure ? e.message : String(e), false),
    );
  });
}
