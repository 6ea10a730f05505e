/**
 * The incident report form: anonymous (a contact is then required) or signed in with an
 * organisation account through the shared staff session. Sent as multipart: the report as JSON
 * in a `report` field, evidence files beside it; the server checks every file's real type.
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/cyber.css";
import { fieldError, say } from "../lib/cyber";
import { messagesFrom } from "../lib/i18n";
import { currentRole, currentToken, currentUser, mountStaffLogin } from "../lib/staff";
import { frenchDateTimes } from "../lib/datetime-field";

const root = document.getElementById("cyber-report-app") as HTMLElement;
// Date and time fields in French, 24 h, whatever the browser's locale (lib/datetime-field).
frenchDateTimes(root);
const t = messagesFrom(root);
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
const form = $<HTMLFormElement>('[data-form="report"]');
const message = $<HTMLElement>('[data-message="report"]');

function field(name: string): string {
  const node = form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | null;
  return node?.value.trim() ?? "";
}

function signedIn(): boolean {
  return currentRole() === "organisation" && currentToken() !== null;
}

function showSession(): void {
  const who = $<HTMLElement>("[data-whoami]");
  const org = signedIn();
  who.hidden = !org;
  who.textContent = org ? `${t("cyber.logged_as")} ${currentUser() ?? ""}` : "";
  $<HTMLElement>('[data-view="contact"]').hidden = org;
}

// The optional sign-in is the shared staff partial (collapsible): an organisation's report then
// carries its account instead of a contact.
mountStaffLogin({ root, roles: ["organisation"], onSignedIn: showSession });

function report(): Record<string, unknown> {
  const when = field("occurred_at");
  const body: Record<string, unknown> = {
    incident_type: field("incident_type"), sector: field("sector"), size: field("size"),
    region: field("region"), impact: field("impact"),
    // datetime-local has no zone: the browser's own offset is the reporter's.
    occurred_at: when ? new Date(when).toISOString() : "",
    description: field("description") || null,
    indicators: field("indicators").split("\n").map((s) => s.trim()).filter((s) => s !== ""),
  };
  if (!signedIn()) {
    const contact: Record<string, string> = {};
    for (const key of ["name", "email", "phone"]) {
      const value = field(`contact_${key}`);
      if (value) contact[key] = value;
    }
    body.contact = contact;
  }
  return body;
}

const MAX_FILE_BYTES = 400_000;

function input(name: string): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}

/**
 * What can be checked here is said next to its field before anything is sent: the start
 * time (given, not in the future), a contact when the report is anonymous, each file's size.
 */
function checkFields(): boolean {
  let ok = true;
  const fail = (name: string, key: string): void => {
    if (ok) input(name).focus();
    fieldError(input(name), t(key));
    ok = false;
  };
  const when = field("occurred_at");
  if (!when) fail("occurred_at", "cyber.need_when");
  else if (new Date(when).getTime() > Date.now() + 60000) fail("occurred_at", "cyber.future_when");
  if (!signedIn() && !field("contact_email") && !field("contact_phone")) {
    fail("contact_email", "cyber.need_contact");
  }
  const files = Array.from($<HTMLInputElement>("#r-evidence").files ?? []);
  const big = files.find((f) => f.size > MAX_FILE_BYTES);
  if (big) {
    fieldError(input("evidence"), `${big.name} : ${t("cyber.file_too_big")}`);
    ok = false;
  }
  return ok;
}

/** The field a refusal of the server names (``report.occurred_at``, ``report.contact``...). */
function fieldOf(location: string): string | null {
  const part = location.split(".")[1]?.replace(/\[\d+\]$/, "") ?? "";
  const names: Record<string, string> = {
    occurred_at: "occurred_at", contact: "contact_email", indicators: "indicators",
    description: "description", incident_type: "incident_type", sector: "sector",
  };
  return names[part] ?? null;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  say(message, "", true);
  if (!checkFields()) return;
  const data = new FormData();
  data.set("report", JSON.stringify(report()));
  const files = $<HTMLInputElement>("#r-evidence").files;
  for (const file of Array.from(files ?? [])) data.append("evidence", file);
  const headers: Record<string, string> = {};
  const token = currentToken();
  if (signedIn() && token) headers.Authorization = `Bearer ${token}`;
  void fetch("/api/v1/cyber/incidents", { method: "POST", body: data, headers }).then(
    async (response) => {
      const body = (await response.json()) as {
        id?: string;
        error?: { code?: string; message?: string; details?: { location?: string }[] };
      };
      if (!response.ok) {
        // A refused file or field is said next to it, in the page language; the server's
        // words (which file, what it really is) follow for the record.
        const detail = body.error?.message ?? response.statusText;
        const named = fieldOf(body.error?.details?.[0]?.location ?? "") ?? (
          body.error?.message?.startsWith("indicators[") ? "indicators" : null);
        if (body.error?.code === "invalid_evidence" || response.status === 413) {
          fieldError(input("evidence"), `${t("cyber.bad_file")} (${detail})`);
        } else if (named && form.elements.namedItem(named)) {
          fieldError(form.elements.namedItem(named) as HTMLInputElement,
            `${t("cyber.bad_field")} (${detail})`);
        }
        say(message, t("cyber.not_sent"), false);
        return;
      }
      form.reset();
      say(message, `${t("cyber.sent")} ${body.id ?? ""}`, true);
    },
    (error: unknown) => say(message, `${t("cyber.error")}: ${String(error)}`, false),
  );
});

showSession();
