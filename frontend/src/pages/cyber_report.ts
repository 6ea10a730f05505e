/**
 * The incident report form: anonymous (a contact is then required) or signed in with an
 * organisation account through the shared staff session. Sent as multipart: the report as JSON
 * in a `report` field, evidence files beside it; the server checks every file's real type.
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/cyber.css";
import { say } from "../lib/cyber";
import { messagesFrom } from "../lib/i18n";
import { currentRole, currentToken, currentUser, mountStaffLogin } from "../lib/staff";

const root = document.getElementById("cyber-report-app") as HTMLElement;
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

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData();
  data.set("report", JSON.stringify(report()));
  const files = $<HTMLInputElement>("#r-evidence").files;
  for (const file of Array.from(files ?? [])) data.append("evidence", file);
  const headers: Record<string, string> = {};
  const token = currentToken();
  if (signedIn() && token) headers.Authorization = `Bearer ${token}`;
  void fetch("/api/v1/cyber/incidents", { method: "POST", body: data, headers }).then(
    async (response) => {
      const body = (await response.json()) as { id?: string; error?: { message?: string } };
      if (!response.ok) {
        say(message, `${t("cyber.error")}: ${body.error?.message ?? response.statusText}`, false);
        return;
      }
      form.reset();
      say(message, `${t("cyber.sent")} ${body.id ?? ""}`, true);
    },
    (error: unknown) => say(message, `${t("cyber.error")}: ${String(error)}`, false),
  );
});

showSession();
