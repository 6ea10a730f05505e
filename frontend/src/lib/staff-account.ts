/**
 * The "my account" panel of every staff page: two-factor status (and turning it on), the
 * account's own sessions (revoke any, this one included), and a change of password (the server
 * closes every other session).
 */
import { ApiFailure, api, logout } from "./staff-api";
import { messagesFrom } from "./i18n";

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
export function mountAccount(panel: HTMLDetailsElement, enrol: () => void, ended: () => void): void {
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
