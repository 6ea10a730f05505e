/**
 * The public report form: no account, nothing about the reporter is kept. The screenshot is
 * sent as is and re-encoded by the server, which strips its metadata.
 */
import "../styles/base.css";
import "../styles/staff.css";
import { messagesFrom } from "../lib/i18n";

const root = document.getElementById("report-app") as HTMLElement;
const t = messagesFrom(root);
const form = root.querySelector('[data-form="report"]') as HTMLFormElement;
const message = root.querySelector('[data-message="report"]') as HTMLElement;
const platforms = root.querySelector("[data-platforms]") as HTMLSelectElement;

function say(text: string, ok: boolean): void {
  message.textContent = text;
  message.classList.toggle("is-error", !ok);
  message.classList.toggle("is-ok", ok);
}

async function loadPlatforms(): Promise<void> {
  const response = await fetch("/api/v1/watch/platforms");
  if (!response.ok) return;
  const names = (await response.json()) as string[];
  platforms.replaceChildren(...names.map((name) => new Option(name, name)));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const file = data.get("screenshot");
  if (file instanceof File && file.size === 0) data.delete("screenshot");
  void fetch("/api/v1/watch/reports", { method: "POST", body: data }).then(async (response) => {
    const body = (await response.json()) as { grouped?: boolean; error?: { message?: string } };
    if (!response.ok) {
      say(`${t("report.error")}: ${body.error?.message ?? response.statusText}`, false);
      return;
    }
    form.reset();
    say(body.grouped ? t("report.grouped") : t("report.sent"), true);
  }, (error: unknown) => say(`${t("report.error")}: ${String(error)}`, false));
});

void loadPlatforms();
