/**
 * Home page: shows the live service status read from /healthz.
 *
 * The status is given in words (and a symbol), never by colour alone, and the region is
 * `aria-live` so a screen reader hears a change. It is refreshed every 30 seconds.
 */
import "../styles/base.css";
import { formatTime, messagesFrom } from "../lib/i18n";

interface Health {
  status: string;
  database: string;
  bus: string;
}

const REFRESH_MS = 30_000;
const FIELDS = ["status", "database", "bus"] as const;

function isHealth(value: unknown): value is Health {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return FIELDS.every((field) => typeof record[field] === "string");
}

/** Fetch /healthz; a 503 still carries the JSON body that says what is down. */
async function fetchHealth(): Promise<Health> {
  const response = await fetch("/healthz", {
    headers: { Accept: "application/json" },
    cache: "no-store",
  });
  const body: unknown = await response.json();
  if (!isHealth(body)) throw new Error(`unexpected /healthz answer (${response.status})`);
  return body;
}

function setValue(widget: HTMLElement, field: string, value: string): void {
  const cell = widget.querySelector<HTMLElement>(`[data-health="${field}"]`);
  if (cell === null) return;
  const ok = value === "ok";
  cell.textContent = `${ok ? "✓" : "⚠"} ${value}`;
  cell.classList.toggle("health-ok", ok);
  cell.classList.toggle("health-bad", !ok);
}

async function refresh(widget: HTMLElement): Promise<void> {
  const t = messagesFrom(widget);
  const summary = widget.querySelector<HTMLElement>("[data-health-summary]");
  const checked = widget.querySelector<HTMLElement>("[data-health-checked]");
  try {
    const health = await fetchHealth();
    for (const field of FIELDS) setValue(widget, field, health[field]);
    if (summary !== null) {
      summary.textContent = health.status === "ok" ? t("status.ok") : t("status.degraded");
    }
  } catch {
    for (const field of FIELDS) setValue(widget, field, t("status.unknown"));
    if (summary !== null) summary.textContent = t("status.unreachable");
  }
  if (checked !== null) checked.textContent = `${t("status.checked")} ${formatTime(new Date())}`;
  widget.setAttribute("aria-busy", "false");
}

function start(): void {
  const widget = document.querySelector<HTMLElement>("[data-health-widget]");
  if (widget === null) return;
  void refresh(widget);
  window.setInterval(() => void refresh(widget), REFRESH_MS);
}

start();
