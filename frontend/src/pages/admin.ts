/**
 * The administrator's page: sign in, manage accounts, read the audit log.
 * All text comes from the server (data-i18n-*); all data from admin-only API routes.
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/admin.css";
import { messagesFrom, pageLang } from "../lib/i18n";
import { ApiFailure, api, currentRole, currentUser, mountStaffLogin } from "../lib/staff";

interface User {
  username: string;
  role: string;
  is_active: boolean;
  created_at: string;
}

interface AuditEntry {
  at: string;
  actor: string;
  role: string;
  action: string;
  object_type: string;
  object_id: string;
  reason: string;
}

const root = document.getElementById("admin-app") as HTMLElement;
const t = messagesFrom(root);
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
/** The log's codes in words (roles, actions, the platform's own reasons): see admin_text.py. */
const words = JSON.parse(root.dataset.auditWords ?? "{}") as {
  roles?: Record<string, string>; actions?: Record<string, string>; objects?: Record<string, string>;
  reasons?: [string, string][];
};
const reasonPatterns = (words.reasons ?? []).map(([p, text]) => [new RegExp(`^${p}$`), text] as const);
const roleName = (code: string): string => words.roles?.[code] ?? code;
const actionName = (code: string): string => words.actions?.[code] ?? code;
const objectName = (code: string): string => words.objects?.[code] ?? code;

/** A reason the platform wrote, in words; a reason typed by a person is shown as typed. */
function reasonText(reason: string): string {
  for (const [pattern, text] of reasonPatterns) {
    const match = pattern.exec(reason);
    if (!match) continue;
    return text.replace(/\{(role:)?(\w+)\}/g, (_all, role: string | undefined, name: string) => {
      const value = match.groups?.[name] ?? "";
      return role ? roleName(value) : value;
    });
  }
  return reason;
}

const PAGE = 50;
let auditOffset = 0;

const dateFormat = new Intl.DateTimeFormat(pageLang() === "en" ? "en-GB" : "fr-FR", {
  dateStyle: "short",
  timeStyle: "medium",
});

function cell(row: HTMLTableRowElement, text: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  // Each cell carries its column's name: on a phone the rows become cards that say it.
  const head = row.closest("table")?.querySelectorAll("thead th")[td.cellIndex];
  if (head?.textContent) td.dataset.label = head.textContent;
  return td;
}

function say(name: string, text: string, ok: boolean): void {
  const el = $<HTMLElement>(`[data-message="${name}"]`);
  el.textContent = text;
  el.classList.toggle("is-error", !ok);
  el.classList.toggle("is-ok", ok);
}

function failureText(error: unknown): string {
  return error instanceof ApiFailure ? error.message : String(error);
}

async function loadUsers(): Promise<void> {
  const users = await api<User[]>("/api/v1/users");
  const body = $<HTMLTableSectionElement>('[data-table="users"]');
  body.replaceChildren();
  for (const user of users) {
    const row = body.insertRow();
    row.dataset.username = user.username;
    cell(row, user.username);
    cell(row, roleName(user.role));
    const status = cell(row, "");
    const pill = document.createElement("span");
    pill.className = `status-pill ${user.is_active ? "is-ok" : "is-off"}`;
    pill.textContent = user.is_active ? t("admin.active") : t("admin.inactive");
    status.append(pill);
    cell(row, dateFormat.format(new Date(user.created_at)));
    const name = encodeURIComponent(user.username);
    const toggle = button(
      user.is_active ? t("admin.deactivate") : t("admin.activate"),
      user.is_active ? "btn btn-danger" : "btn btn-secondary",
      () => api(`/api/v1/users/${name}`, {
        method: "PATCH",
        body: JSON.stringify({ is_active: !user.is_active }),
      }).then(loadUsers),
    );
    const revoke = button(t("admin.revoke_sessions"), "btn btn-secondary", () =>
      api<{ revoked: number }>(`/api/v1/users/${name}/sessions/revoke`, { method: "POST" })
        .then((r) => say("create", `${t("admin.revoked")} : ${user.username} (${r.revoked})`, true)));
    const reset = button(t("admin.reset_mfa"), "btn btn-secondary", () =>
      api(`/api/v1/users/${name}/mfa/reset`, { method: "POST" }).then(() => loadAudit()));
    const activation = button(t("admin.mfa_code"), "btn btn-secondary", () =>
      api<{ activation_code: string; expires_at: string }>(
        `/api/v1/users/${name}/mfa/activation`, { method: "POST" })
        .then((r) => showCode(t("admin.mfa_code_for"), user.username, r.activation_code,
                              r.expires_at))
        .then(() => loadAudit()));
    const password = button(t("admin.reset_password"), "btn btn-secondary", () =>
      api<{ reset_code: string; expires_at: string }>(
        `/api/v1/users/${name}/password/reset`, { method: "POST" })
        .then((r) => showCode(t("admin.reset_code_for"), user.username, r.reset_code,
                              r.expires_at))
        .then(() => loadAudit()));
    cell(row, "").append(toggle, " ", revoke, " ", reset, " ", activation, " ", password);
  }
}

/**
 * Show a one-time code just issued (activation or reset): the admin hands it to the person,
 * out of band. It is on screen until the next one, never stored by the page.
 */
function showCode(what: string, username: string, code: string, expires: string): void {
  const holder = $<HTMLElement>("[data-issued]");
  const value = document.createElement("code");
  value.dataset.code = "";
  value.textContent = code;
  holder.replaceChildren(
    `${what} ${username} (${t("admin.valid_until")} ${dateFormat.format(new Date(expires))}) : `,
    value,
  );
  holder.hidden = false;
}

/** A button running `action`; its failure is said under the accounts form. */
function button(text: string, className: string, action: () => Promise<unknown>): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  b.addEventListener("click", () => {
    action().catch((e: unknown) => say("create", failureText(e), false));
  });
  return b;
}

async function loadPolicy(): Promise<void> {
  const policy = await api<{ required: Record<string, boolean> }>("/api/v1/auth/mfa/policy");
  const holder = $<HTMLElement>("[data-mfa-policy]");
  holder.replaceChildren();
  for (const [role, required] of Object.entries(policy.required)) {
    const label = document.createElement("label");
    label.className = "check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = role;
    box.checked = required;
    box.addEventListener("change", () => {
      api(`/api/v1/auth/mfa/policy/${role}`, {
        method: "PUT",
        body: JSON.stringify({ required: box.checked }),
      }).then(
        () => say("mfa", `${t("admin.mfa_saved")} : ${roleName(role)}`, true),
        (e: unknown) => {
          box.checked = !box.checked;
          say("mfa", failureText(e), false);
        },
      );
    });
    label.append(box, ` ${t("admin.required")} ${roleName(role)}`);
    holder.append(label);
  }
}

let auditAsked = 0; // the latest read of the log's ticket

/** One page of the log, newest first; the server filters, searches and counts. */
async function loadAudit(offset = 0): Promise<void> {
  const form = new FormData($<HTMLFormElement>('[data-form="audit"]'));
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const [key, value] of form.entries()) {
    if (typeof value === "string" && value.trim()) params.set(key, value.trim());
  }
  const ticket = (auditAsked += 1);
  const page = await api<{ total: number; entries: AuditEntry[] }>(`/api/v1/audit?${params}`);
  // A later search or page was asked meanwhile: a slow answer to this one must not replace it.
  if (ticket !== auditAsked) return;
  auditOffset = offset;
  const last = Math.min(offset + page.entries.length, page.total);
  $<HTMLElement>("[data-audit-total]").textContent = page.total === 0 ? `0 ${t("admin.total")}`
    : t("admin.page_of").replace("{from}", String(offset + 1)).replace("{to}", String(last))
      .replace("{total}", String(page.total));
  $<HTMLButtonElement>('[data-action="newer"]').disabled = offset === 0;
  $<HTMLButtonElement>('[data-action="older"]').disabled = last >= page.total;
  const body = $<HTMLTableSectionElement>('[data-table="audit"]');
  body.replaceChildren();
  if (page.entries.length === 0) {
    const row = body.insertRow();
    const td = cell(row, t("admin.no_entries"));
    td.colSpan = 6;
  }
  for (const entry of page.entries) {
    const row = body.insertRow();
    cell(row, dateFormat.format(new Date(entry.at)));
    cell(row, entry.actor);
    cell(row, roleName(entry.role));
    cell(row, actionName(entry.action)).title = entry.action;
    cell(row, `${objectName(entry.object_type)} ${entry.object_id}`).title = entry.object_type;
    cell(row, reasonText(entry.reason)).title = entry.reason;
  }
}

async function openConsole(): Promise<void> {
  $<HTMLElement>("[data-whoami]").textContent =
    `${t("admin.signed_in")} ${currentUser() ?? ""} · ${roleName(currentRole() ?? "")}`;
  try {
    await loadUsers();
    await loadPolicy();
    await loadAudit();
  } catch (error) {
    staff.showLogin(failureText(error));
  }
}

const staff = mountStaffLogin({ root, roles: ["admin"], onSignedIn: openConsole });

$<HTMLFormElement>('[data-form="create"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const data = new FormData(form);
  const body = {
    username: String(data.get("username")),
    password: String(data.get("password")),
    role: String(data.get("role")),
  };
  api("/api/v1/users", { method: "POST", body: JSON.stringify(body) }).then(
    () => {
      say("create", `${t("admin.created")} : ${body.username}`, true);
      form.reset();
      return loadUsers().then(() => loadAudit());
    },
    (error: unknown) => say("create", failureText(error), false),
  );
});

$<HTMLFormElement>('[data-form="audit"]').addEventListener("submit", (event) => {
  event.preventDefault();
  void loadAudit(0).catch((e: unknown) => say("create", failureText(e), false));
});
$<HTMLButtonElement>('[data-action="newer"]').addEventListener("click", () => {
  void loadAudit(Math.max(0, auditOffset - PAGE)).catch((e: unknown) => say("create", failureText(e), false));
});
$<HTMLButtonElement>('[data-action="older"]').addEventListener("click", () => {
  void loadAudit(auditOffset + PAGE).catch((e: unknown) => say("create", failureText(e), false));
});
