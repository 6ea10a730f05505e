/**
 * Safety-check page: "I am safe" / "I need help" in an active check, and a relative's lookup.
 *
 * No account: a random device token kept in this browser lets a second tap update the same
 * mark (same code). The position is sent only when the person ticks the box.
 */
import "../styles/base.css";
import "../styles/persons.css";
import { errorText, formJson, postJson } from "../lib/form-json";
import { formatTime, messagesFrom } from "../lib/i18n";

interface Check {
  id: number;
  name: string;
  active: boolean;
}

const app = document.querySelector<HTMLElement>("[data-safety-app]");
const DEVICE_KEY = "tocsin.safety.device";

function deviceToken(): string {
  let token = localStorage.getItem(DEVICE_KEY);
  if (token === null) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(DEVICE_KEY, token);
  }
  return token;
}

function need<T extends Element>(root: HTMLElement, selector: string): T {
  const el = root.querySelector<T>(selector);
  if (el === null) throw new Error(`missing ${selector}`);
  return el;
}

function formatCode(code: string): string {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

function position(): Promise<GeolocationPosition | null> {
  return new Promise((resolve) => {
    if (!("geolocation" in navigator)) {
      resolve(null);
      return;
    }
    navigator.geolocation.getCurrentPosition(resolve, () => resolve(null), {
      enableHighAccuracy: true, timeout: 10_000, maximumAge: 30_000,
    });
  });
}

async function start(root: HTMLElement): Promise<void> {
  const t = messagesFrom(root);
  const markForm = need<HTMLFormElement>(root, '[data-form="mark"]');
  const select = need<HTMLSelectElement>(root, "#safety-check");
  const markMessage = need<HTMLElement>(root, '[data-message="mark"]');
  const lookup = need<HTMLElement>(root, "[data-lookup]");
  const positionNote = need<HTMLElement>(root, "[data-position]");

  const response = await fetch("/api/v1/safety/checks", { headers: { Accept: "application/json" } });
  const checks = response.ok ? ((await response.json()) as Check[]) : [];
  if (checks.length === 0) {
    need<HTMLElement>(root, "[data-no-check]").hidden = false;
  } else {
    for (const check of checks) {
      const option = document.createElement("option");
      option.value = String(check.id);
      option.textContent = check.name;
      select.append(option);
    }
    markForm.hidden = false;
  }

  markForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    void (async () => {
      const body = formJson(markForm);
      const withPosition = body.with_position === true;
      delete body.with_position;
      body.check_id = Number(body.check_id);
      body.status = submitter?.value ?? "safe";
      if (withPosition || body.status === "need_help") {
        positionNote.textContent = t("safety.locating");
        const fix = await position();
        if (fix !== null) {
          body.lat = fix.coords.latitude;
          body.lon = fix.coords.longitude;
          positionNote.textContent = t("safety.located");
        } else {
          positionNote.textContent = t("safety.no_position");
        }
      }
      const answer = await postJson("/api/v1/safety/marks", body,
        { "X-Device-Token": deviceToken() });
      if (answer.ok) {
        const mark = (await answer.json()) as { code: string };
        need<HTMLElement>(root, "[data-code]").textContent = formatCode(mark.code);
        need<HTMLElement>(root, "[data-code-box]").hidden = false;
        markMessage.textContent = "";
      } else {
        markMessage.textContent = `${t("safety.error")} ${await errorText(answer)}`;
      }
    })();
  });

  function describe(status: string, at: string, message: string | null): string {
    const when = formatTime(new Date(at));
    const base = `${t(`safety.status.${status}`)} ${t("safety.at")} ${when}`;
    return message ? `${base}. ${t("safety.message_left")} ${message}` : base;
  }

  need<HTMLFormElement>(root, '[data-form="code"]').addEventListener("submit", (event) => {
    event.preventDefault();
    const code = (event.currentTarget as HTMLFormElement).elements.namedItem("code") as
      HTMLInputElement;
    void (async () => {
      const params = new URLSearchParams({ code: code.value.trim() });
      const answer = await fetch(`/api/v1/safety/lookup?${params}`,
        { headers: { Accept: "application/json" } });
      if (answer.ok) {
        const mark = (await answer.json()) as { status: string; marked_at: string;
          message: string | null };
        lookup.textContent = describe(mark.status, mark.marked_at, mark.message);
      } else {
        lookup.textContent = answer.status === 404 ? t("safety.not_found")
          : `${t("safety.error")} ${await errorText(answer)}`;
      }
    })();
  });

  need<HTMLFormElement>(root, '[data-form="contact"]').addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      const answer = await postJson("/api/v1/safety/lookup",
        formJson(event.currentTarget as HTMLFormElement));
      if (!answer.ok) {
        lookup.textContent = `${t("safety.error")} ${await errorText(answer)}`;
        return;
      }
      const body = (await answer.json()) as { results: { status: string; marked_at: string }[] };
      lookup.textContent = body.results.length === 0 ? t("safety.nobody")
        : body.results.map((r) => describe(r.status, r.marked_at, null)).join(" ; ");
    })();
  });
}

if (app !== null) void start(app);
