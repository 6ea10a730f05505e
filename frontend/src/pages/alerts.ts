/**
 * Citizen page: the active official alerts, on a map and as a list, reloaded whenever the
 * server announces a publication (Server-Sent Events), and an opt-in to Web Push notifications.
 */
import "../styles/base.css";
import "../styles/alerts.css";
import L from "leaflet";
import { messagesFrom, pageLang } from "../lib/i18n";
import { type Alert, createMap, drawAreas, el, formatDate, infoFor } from "../lib/alerts";

const root = document.getElementById("alerts-app") as HTMLElement;
const t = messagesFrom(root);
const lang = pageLang();
const map = createMap(document.getElementById("alerts-map") as HTMLElement, root.dataset.tiles ?? "");
const layer = L.layerGroup().addTo(map);
const list = root.querySelector("[data-alert-list]") as HTMLElement;
const empty = root.querySelector("[data-empty]") as HTMLElement;
const live = root.querySelector("[data-live]") as HTMLElement;

function render(alerts: Alert[]): void {
  layer.clearLayers();
  list.replaceChildren();
  empty.hidden = alerts.length > 0;
  let bounds: L.LatLngBounds | null = null;
  for (const alert of alerts) {
    const info = infoFor(alert, lang);
    const item = el(list, "li", "", `alert-card severity-${info?.severity ?? "Unknown"}`);
    item.id = `alert-${alert.id}`;
    item.dataset.alertId = alert.id;
    const head = el(item, "p", "", "alert-card-tags");
    el(head, "span", t(`severity.${(info?.severity ?? "Unknown").toLowerCase()}`), "alert-badge");
    if (alert.status === "Exercise") el(head, "span", t("alerts.exercise"), "alert-badge");
    if (alert.msg_type === "Update") el(head, "span", t("alerts.update"), "alert-badge");
    el(item, "h3", info?.headline ?? info?.event ?? alert.identifier);
    if (info?.description) el(item, "p", info.description);
    if (info?.instruction) {
      const p = el(item, "p", "", "alert-instruction");
      el(p, "strong", `${t("alerts.instruction")}${lang === "fr" ? " : " : ": "}`);
      p.append(info.instruction);
    }
    const meta = el(item, "p", "", "alert-meta");
    const colon = lang === "fr" ? " : " : ": ";
    meta.append(`${t("alerts.area")}${colon}${alert.areas.map((a) => a.desc).join(", ")}`);
    if (alert.expires_at) meta.append(` · ${t("alerts.until")} ${formatDate(alert.expires_at, lang)}`);
    if (alert.cap_url) {
      meta.append(" · ");
      const link = el(meta, "a", t("alerts.cap"));
      link.href = alert.cap_url;
    }
    const b = drawAreas(layer, alert);
    if (b) bounds = bounds ? bounds.extend(b) : b;
  }
  if (bounds) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
}

let asked = 0; // the latest read's ticket

async function reload(): Promise<void> {
  const ticket = (asked += 1);
  const response = await fetch("/api/v1/alerts", { cache: "no-store" });
  if (!response.ok) return;
  const body = (await response.json()) as { alerts: Alert[] };
  // Two alerts published close together: the read made for the first can answer after the one
  // made for the second, and nothing reads again until the next alert; the late list would hide
  // the newest alert.
  if (ticket !== asked) return;
  render(body.alerts);
}

function listen(): void {
  const source = new EventSource("/api/v1/alerts/stream");
  source.addEventListener("ready", () => {
    live.textContent = t("alerts.live_on");
    void reload();
  });
  source.addEventListener("alerts.published", () => void reload());
  source.addEventListener("lag", () => void reload());
  source.onerror = () => {
    live.textContent = t("alerts.live_off");
  };
}

function b64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const pad = "=".repeat((4 - (text.length % 4)) % 4);
  const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function position(): Promise<[number, number]> {
  return new Promise((resolve) => {
    const centre = map.getCenter();
    if (!("geolocation" in navigator)) return resolve([centre.lat, centre.lng]);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve([p.coords.latitude, p.coords.longitude]),
      () => resolve([centre.lat, centre.lng]),
      { enableHighAccuracy: false, timeout: 10_000, maximumAge: 600_000 },
    );
  });
}

async function subscribe(): Promise<void> {
  const status = root.querySelector("[data-subscribe-status]") as HTMLElement;
  try {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("no push");
    const registration = await navigator.serviceWorker.register("/static/alerts-sw.js");
    const key = (await (await fetch("/api/v1/alerts/push/key")).json()) as { public_key: string };
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: b64ToBytes(key.public_key),
    });
    const [lat, lon] = await position();
    const json = subscription.toJSON();
    const response = await fetch("/api/v1/alerts/subscriptions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ endpoint: json.endpoint, keys: json.keys, lat, lon }),
    });
    if (!response.ok) throw new Error(String(response.status));
    status.textContent = t("alerts.subscribed");
  } catch {
    status.textContent = t("alerts.subscribe_failed");
  }
}

root.querySelector("[data-action=subscribe]")?.addEventListener("click", () => void subscribe());
void reload();
listen();
