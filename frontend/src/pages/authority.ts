/**
 * The prefecture's console: sign in, compose an alert in French and English with its area
 * drawn on the map, approve what another authority wrote (two-person rule), update and cancel
 * live alerts, and follow their delivery counts. Data comes only from authority-only routes
 * called with the bearer token of the person signed in (kept for this tab only).
 */
import "../styles/base.css";
import "../styles/alerts.css";
import L from "leaflet";
import { messagesFrom, pageLang } from "../lib/i18n";
import {
  type Alert,
  capBadge,
  createMap,
  drawAreas,
  el,
  fitWhenSized,
  formatDate,
  infoFor,
  plural,
} from "../lib/alerts";
import { AreaDrawer } from "../lib/area-draw";
import { attachAddressSearch } from "../lib/geo-search";
import { mountSafetyChecks } from "../lib/safety-checks";
import { currentToken, currentUser, logout, mountStaffLogin } from "../lib/staff";
import { frenchDateTimes } from "../lib/datetime-field";

const REFRESH_MS = 3000;

const root = document.getElementById("authority-app") as HTMLElement;
// Date and time fields in French, 24 h, whatever the browser's locale (lib/datetime-field).
frenchDateTimes(root);
const t = messagesFrom(root);
const lang = pageLang();
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;

interface Problem {
  location: string;
  message: string;
}

class Refused extends Error {
  constructor(message: string, public readonly details: Problem[]) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const response = await fetch(path, { ...init, headers, cache: "no-store" });
  if (response.status === 401) {
    logout();
    staff.showLogin();
  }
  if (!response.ok) {
    let message = response.statusText;
    let details: Problem[] = [];
    try {
      const body = (await response.json()) as { error?: { message?: string; details?: unknown } };
      message = body.error?.message ?? message;
      if (Array.isArray(body.error?.details)) details = body.error.details as Problem[];
    } catch {
      /* not JSON */
    }
    throw new Refused(message, details);
  }
  return (await response.json()) as T;
}

function showError(target: HTMLElement, error: unknown): void {
  target.replaceChildren();
  target.classList.add("alert-message-error");
  if (error instanceof Refused) {
    el(target, "p", `${t("authority.error")} : ${error.message}`);
    if (error.details.length) {
      const ul = el(target, "ul");
      for (const d of error.details) el(ul, "li", `${d.location} — ${d.message}`);
    }
  } else {
    el(target, "p", String(error));
  }
}

function showOk(target: HTMLElement, text: string): void {
  target.classList.remove("alert-message-error");
  target.textContent = text;
}

// --- compose / update ----------------------------------------------------------------------

const composeMap = createMap($<HTMLElement>("#compose-map"), root.dataset.tiles ?? "");
const summary = $<HTMLElement>("[data-area-summary]");
const drawer = new AreaDrawer(composeMap, (d) => {
  const area = d.area();
  if (area && "polygon" in area) {
    summary.textContent = plural(t, "authority.area_polygon", area.polygon.length - 1, lang);
  } else if (area && "circle" in area) {
    summary.textContent = t("authority.area_circle").replace("{r}", String(area.circle.radius_km));
  } else if (d.vertexCount) {
    summary.textContent = plural(t, "authority.area_polygon", d.vertexCount, lang);
  } else {
    summary.textContent = t("authority.area_none");
  }
  for (const button of root.querySelectorAll<HTMLButtonElement>("[data-draw=polygon],[data-draw=circle]")) {
    button.setAttribute("aria-pressed", String(button.dataset.draw === d.mode));
  }
});
// "Place d'Italie", typed, found offline, shown, confirmed: the circle starts there.
attachAddressSearch(composeMap, $<HTMLElement>("#compose-map"), (hit) => drawer.centreAt(hit.lat, hit.lon),
  { zoom: 15 });
const form = $<HTMLFormElement>("[data-form=compose]");
let updating: Alert | null = null;

for (const button of root.querySelectorAll<HTMLButtonElement>("[data-draw]")) {
  button.addEventListener("click", () => {
    const action = button.dataset.draw;
    if (action === "polygon" || action === "circle") drawer.start(action);
    else if (action === "finish") drawer.finish();
    else drawer.clear();
  });
}

function field(name: string): string {
  return String(new FormData(form).get(name) ?? "").trim();
}

function defaultExpiry(): string {
  const d = new Date(Date.now() + 2 * 3600_000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function resetForm(): void {
  form.reset();
  updating = null;
  drawer.clear();
  (form.elements.namedItem("expires") as HTMLInputElement).value = defaultExpiry();
  $<HTMLElement>("[data-compose-title]").textContent = t("authority.compose");
  $<HTMLElement>("[data-submit]").textContent = t("authority.submit");
  $<HTMLElement>("[data-action=discard]").hidden = true;
}

function body(): Record<string, unknown> {
  const infos = [];
  for (const [code, language] of [["fr", "fr-FR"], ["en", "en-GB"]] as const) {
    const headline = field(`${code}-headline`);
    if (code === "en" && !headline) continue;
    const info: Record<string, string> = {
      language,
      event: field(`${code}-event`),
      headline,
      description: field(`${code}-description`),
    };
    const instruction = field(`${code}-instruction`);
    if (instruction) info.instruction = instruction;
    infos.push(info);
  }
  const response = field("response");
  return {
    status: field("status"),
    categories: [field("category")],
    urgency: field("urgency"),
    severity: field("severity"),
    certainty: field("certainty"),
    response_types: response ? [response] : [],
    expires: new Date(field("expires")).toISOString(),
    infos,
    area: { desc: field("area-desc"), ...(drawer.area() ?? {}) },
  };
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const message = $<HTMLElement>("[data-message=compose]");
  void (async () => {
    try {
      const path = updating ? `/api/v1/alerts/${updating.id}/update` : "/api/v1/alerts";
      const alert = await call<Alert>(path, { method: "POST", body: JSON.stringify(body()) });
      showOk(message, alert.state === "pending" ? t("authority.submitted") : t("authority.published"));
      resetForm();
      await refresh();
    } catch (error) {
      showError(message, error);
    }
  })();
});

$<HTMLElement>("[data-action=discard]").addEventListener("click", resetForm);

function edit(alert: Alert): void {
  resetForm();
  updating = alert;
  const set = (name: string, value: string | null | undefined): void => {
    const input = form.elements.namedItem(name) as HTMLInputElement | null;
    if (input && value) input.value = value;
  };
  set("status", alert.status);
  for (const info of alert.infos) {
    const code = (info.language ?? "fr").slice(0, 2);
    set(`${code}-event`, info.event);
    set(`${code}-headline`, info.headline);
    set(`${code}-description`, info.description);
    set(`${code}-instruction`, info.instruction);
    set("category", info.categories[0]);
    set("urgency", info.urgency);
    set("severity", info.severity);
    set("certainty", info.certainty);
  }
  const area = alert.areas[0];
  set("area-desc", area?.desc);
  drawer.load(area?.polygons[0] ?? null, area?.circles[0] ?? null);
  $<HTMLElement>("[data-compose-title]").textContent = `${t("authority.updating")} ${alert.identifier}`;
  $<HTMLElement>("[data-submit]").textContent = t("authority.submit_update");
  $<HTMLElement>("[data-action=discard]").hidden = false;
  form.scrollIntoView({ behavior: "smooth" });
}

// --- queue and live alerts -----------------------------------------------------------------

function card(list: HTMLElement, alert: Alert): HTMLElement {
  const info = infoFor(alert, lang);
  const item = el(list, "li", "", `alert-card severity-${info?.severity ?? "Unknown"}`);
  item.dataset.alertId = alert.id;
  const tags = el(item, "p", "", "alert-card-tags");
  capBadge(tags, t, "status", alert.status);
  capBadge(tags, t, "msgtype", alert.msg_type);
  if (info) {
    for (const category of info.categories) capBadge(tags, t, "category", category);
    capBadge(tags, t, "urgency", info.urgency);
    capBadge(tags, t, "severity", info.severity);
    capBadge(tags, t, "certainty", info.certainty);
  }
  el(item, "h3", info?.headline ?? alert.note ?? alert.identifier);
  if (info?.description) el(item, "p", info.description);
  const meta = el(item, "p", "", "alert-meta");
  meta.append(`${alert.areas.map((a) => a.desc).join(", ")} · ${t("authority.by")} ${alert.author}`);
  const times = el(item, "p", "", "alert-meta");
  const issued = alert.published_at ?? alert.created_at;
  // Not yet published: the time shown is when it was written, and said so.
  const issuedKey = alert.published_at ? "authority.issued" : "authority.written";
  if (issued) el(times, "span", t(issuedKey).replace("{date}", formatDate(issued, lang)));
  if (issued && alert.expires_at) times.append(" · ");
  if (alert.expires_at) {
    el(times, "span", t("authority.expires_on").replace("{date}", formatDate(alert.expires_at, lang)));
  }
  const mini = el(item, "div", "", "alert-map alert-map-mini");
  const map = createMap(mini, root.dataset.tiles ?? "");
  const bounds = drawAreas(L.layerGroup().addTo(map), alert);
  if (bounds) fitWhenSized(map, mini, bounds, 14);
  return item;
}

function button(parent: HTMLElement, text: string, action: () => Promise<void>, secondary = false): void {
  const b = el(parent, "button", text, secondary ? "alert-btn alert-btn-secondary" : "alert-btn");
  b.type = "button";
  b.addEventListener("click", () => {
    b.disabled = true;
    void action().finally(() => {
      b.disabled = false;
    });
  });
}

const safety = mountSafetyChecks($<HTMLElement>("[data-safety]"), t, lang, root.dataset.tiles ?? "", call,
  showError);

let lastQueue = "";
let lastLive = "";

let refreshed = 0; // the latest read's ticket

async function refresh(): Promise<void> {
  if (currentToken() === null) return;
  const me = currentUser();
  const ticket = (refreshed += 1);
  const [queue, live] = await Promise.all([
    call<{ alerts: Alert[] }>("/api/v1/alerts/queue"),
    call<{ alerts: Alert[] }>("/api/v1/alerts/live"),
    safety.refresh(),
  ]);
  // A timer or stream read started before an approval can answer after it: it would put the
  // approved alert back in the queue, its buttons live again.
  if (ticket !== refreshed) return;
  const queueKey = JSON.stringify(queue.alerts.map((a) => a.id));
  if (queueKey !== lastQueue) {
    lastQueue = queueKey;
    const list = $<HTMLElement>("[data-queue]");
    list.replaceChildren();
    $<HTMLElement>("[data-queue-empty]").hidden = queue.alerts.length > 0;
    for (const alert of queue.alerts) {
      const item = card(list, alert);
      const actions = el(item, "div", "", "alert-toolbar");
      const message = el(item, "div", "", "alert-message");
      message.setAttribute("role", "alert");
      if (alert.author === me) {
        el(actions, "p", t("authority.own"), "alert-help");
      } else {
        button(actions, t("authority.approve"), async () => {
          try {
            await call(`/api/v1/alerts/${alert.id}/approve`, { method: "POST" });
            await refresh();
          } catch (error) {
            showError(message, error);
          }
        });
      }
      button(actions, t("authority.reject"), async () => {
        const reason = window.prompt(t("authority.reject_reason"));
        if (!reason) return;
        try {
          await call(`/api/v1/alerts/${alert.id}/reject`, {
            method: "POST",
            body: JSON.stringify({ reason }),
          });
          await refresh();
        } catch (error) {
          showError(message, error);
        }
      }, true);
    }
  }
  const liveKey = JSON.stringify(live.alerts.map((a) => a.id));
  if (liveKey !== lastLive) {
    lastLive = liveKey;
    const list = $<HTMLElement>("[data-live-list]");
    list.replaceChildren();
    $<HTMLElement>("[data-live-empty]").hidden = live.alerts.length > 0;
    for (const alert of live.alerts) {
      const item = card(list, alert);
      el(item, "p", "", "alert-meta").dataset.deliveries = alert.id;
      const actions = el(item, "div", "", "alert-toolbar");
      const message = el(item, "div", "", "alert-message");
      button(actions, t("authority.do_update"), async () => edit(alert), true);
      button(actions, t("authority.do_cancel"), async () => {
        const note = window.prompt(t("authority.cancel_note"), "Fin de l'alerte");
        if (!note) return;
        try {
          const sent = await call<Alert>(`/api/v1/alerts/${alert.id}/cancel`, {
            method: "POST",
            body: JSON.stringify({ note }),
          });
          showOk(message, sent.state === "pending" ? t("authority.submitted") : t("authority.published"));
          await refresh();
        } catch (error) {
          showError(message, error);
        }
      }, true);
    }
  }
  for (const alert of live.alerts) {
    const target = root.querySelector<HTMLElement>(`[data-deliveries="${alert.id}"]`);
    if (!target) continue;
    const c = await call<{ sent: number; pending: number; failed: number }>(
      `/api/v1/alerts/${alert.id}/deliveries`,
    );
    target.textContent = t("authority.deliveries")
      .replace("{sent}", plural(t, "authority.sent", c.sent, lang))
      .replace("{pending}", plural(t, "authority.pending", c.pending, lang))
      .replace("{failed}", plural(t, "authority.failed", c.failed, lang));
  }
}

const source = new EventSource("/api/v1/alerts/stream");
source.addEventListener("alerts.published", () => void refresh().catch(() => undefined));
window.setInterval(() => void refresh().catch(() => undefined), REFRESH_MS);
resetForm();
const staff = mountStaffLogin({
  root,
  roles: ["authority"],
  onSignedIn: () => {
    $<HTMLElement>("[data-whoami]").textContent = currentUser() ?? "";
    composeMap.invalidateSize();
    safety.resize();
    void refresh();
  },
});
