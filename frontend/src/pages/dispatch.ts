/**
 * The dispatcher's console: live map and queue of incidents, units, the detail of an incident
 * with its proposed units, and the silent chat with each caller.
 *
 * Live updates come over Server-Sent Events. EventSource cannot send an Authorization header,
 * so the page first asks for a one-time ticket (valid 60 s, for this stream only) and opens the
 * stream with it; on an error it closes the stream and asks for a new ticket. The server ends
 * the stream with a `closed` event once the session no longer admits it (logged out elsewhere,
 * revoked, 2FA now required): the page says why, and the next ticket request signs it out on a
 * 401 or shows the refusal. Every event triggers a (debounced) reload of the queue from the
 * API, so the page never drifts from the server's truth.
 */
import "leaflet/dist/leaflet.css";
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/dispatch.css";
import * as L from "leaflet";
import { formatTime, messagesFrom } from "../lib/i18n";
import { mapText } from "../lib/map-text";
import { ApiFailure, api, currentToken, mountStaffLogin } from "../lib/staff";

interface Assignment {
  id: string;
  unit_id: string;
  status: string;
  distance_m: number;
  eta_s: number;
}
interface Incident {
  id: string;
  status: string;
  priority: number;
  situation: string;
  sos_count: number;
  lat: number;
  lon: number;
  opened_at: string;
  assignments: Assignment[];
}
interface IncidentSos {
  sos_id: string;
  lat: number;
  lon: number;
  situation: string;
  people: number | null;
  received_at: string;
}
interface IncidentDetail extends Incident {
  sos: IncidentSos[];
}
interface Unit {
  id: string;
  callsign: string;
  status: string;
  lat: number | null;
  lon: number | null;
}
interface Proposal {
  unit_id: string;
  callsign: string;
  distance_m: number;
  eta_s: number;
}
interface SosDetail {
  id: string;
  text: string | null;
  trail: { lat: number; lon: number; at: string }[];
  messages: { sender: string; text: string; at: string }[];
}
interface BusEvent {
  subject: string;
  data: Record<string, unknown>;
}

const root = document.getElementById("dispatch-app") as HTMLElement;
const t = messagesFrom(root);
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
const PARIS: L.LatLngTuple = [48.8566, 2.3522];
const UNIT_COLOURS: Record<string, string> = {
  available: "#1a7f37",
  offered: "#b35900",
  assigned: "#0b5cad",
  on_scene: "#6639ba",
  off_duty: "#6e7781",
};

let map: L.Map | null = null;
const sosLayer = L.layerGroup();
const incidentLayer = L.layerGroup();
const unitLayer = L.layerGroup();
let trailLayer: L.Polyline | null = null;
const sosMarkers = new Map<string, L.CircleMarker>();
const unitMarkers = new Map<string, L.CircleMarker>();
const unitNames = new Map<string, string>();
let selected: string | null = null;
let selectedSos: string | null = null;
let stream: EventSource | null = null;
let reloadTimer: number | undefined;

function say(where: string, text: string): void {
  $<HTMLElement>(`[data-message="${where}"]`).textContent = text;
}

function failure(error: unknown): string {
  return error instanceof ApiFailure ? error.error.message : String(error);
}

function situation(code: string): string {
  return t(`dispatch.situation.${code}`);
}

function status(code: string): string {
  return t(`dispatch.status.${code}`);
}

function minutes(seconds: number): string {
  return `${Math.max(1, Math.round(seconds / 60))} min`;
}

function km(metres: number): string {
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(1)} km`;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K, text = "", className = "",
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (text) el.textContent = text;
  if (className) el.className = className;
  return el;
}

function button(label: string, onClick: () => void, secondary = false): HTMLButtonElement {
  const el = element("button", label, secondary ? "btn btn-secondary" : "btn");
  el.type = "button";
  el.addEventListener("click", onClick);
  return el;
}

function ensureMap(): L.Map {
  if (map !== null) return map;
  map = L.map($<HTMLElement>("[data-map]"), { attributionControl: false }).setView(PARIS, 13);
  const tiles = root.dataset.tilesUrl ?? "";
  if (tiles !== "") L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  incidentLayer.addTo(map);
  sosLayer.addTo(map);
  unitLayer.addTo(map);
  return map;
}

function addSos(id: string, lat: number, lon: number): void {
  if (sosMarkers.has(id)) return;
  const marker = L.circleMarker([lat, lon], {
    radius: 5, color: "#b42318", fillOpacity: 0.9, className: "sos-marker",
  }).addTo(sosLayer);
  sosMarkers.set(id, marker);
  $<HTMLElement>("[data-map]").dataset.sosCount = String(sosMarkers.size);
}

function placeUnit(unit: Unit): void {
  unitNames.set(unit.id, unit.callsign);
  const existing = unitMarkers.get(unit.id);
  if (unit.lat === null || unit.lon === null) return;
  const colour = UNIT_COLOURS[unit.status] ?? "#6e7781";
  if (existing) {
    existing.setLatLng([unit.lat, unit.lon]).setStyle({ color: colour, fillColor: colour });
    existing.setTooltipContent(mapText(`${unit.callsign} · ${status(unit.status)}`));
    return;
  }
  const marker = L.circleMarker([unit.lat, unit.lon], {
    radius: 7, color: colour, fillColor: colour, fillOpacity: 0.8, className: "unit-marker",
  }).bindTooltip(mapText(`${unit.callsign} · ${status(unit.status)}`), { permanent: true,
    direction: "right", className: "unit-label" });
  marker.addTo(unitLayer);
  unitMarkers.set(unit.id, marker);
}

async function loadUnits(): Promise<void> {
  const units = await api<Unit[]>("/api/v1/dispatch/units");
  const list = $<HTMLUListElement>("[data-units]");
  list.replaceChildren();
  for (const unit of units) {
    placeUnit(unit);
    const item = element("li", `${unit.callsign} · ${status(unit.status)}`);
    item.dataset.unitId = unit.id;
    item.dataset.status = unit.status;
    list.append(item);
  }
}

async function loadQueue(): Promise<void> {
  const incidents = await api<Incident[]>("/api/v1/dispatch/incidents");
  const queue = $<HTMLOListElement>("[data-queue]");
  queue.replaceChildren();
  incidentLayer.clearLayers();
  if (incidents.length === 0) queue.append(element("li", t("dispatch.empty_queue"), "queue-empty"));
  for (const incident of incidents) {
    const live = incident.assignments.filter((a) =>
      ["offered", "accepted", "on_scene"].includes(a.status));
    const who = live.length
      ? live.map((a) => `${unitNames.get(a.unit_id) ?? "?"} (${status(a.status)})`).join(", ")
      : t("dispatch.unassigned");
    const item = element("li", "", `queue-item priority-${incident.priority}`);
    item.dataset.incidentId = incident.id;
    item.tabIndex = 0;
    item.setAttribute("aria-current", String(incident.id === selected));
    item.append(
      element("strong", `${situation(incident.situation)} · ${incident.sos_count} ${t("dispatch.sos_count")}`),
      element("span", ` · ${t("dispatch.priority")} ${incident.priority} · ` +
        `${t("dispatch.opened")} ${formatTime(new Date(incident.opened_at))} · ${who}`),
    );
    item.addEventListener("click", () => void select(incident.id));
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") void select(incident.id); });
    queue.append(item);
    L.circleMarker([incident.lat, incident.lon], {
      radius: 10 + Math.min(20, Math.sqrt(incident.sos_count) * 2),
      color: "#b42318", weight: 2, fillOpacity: 0.15, className: "incident-marker",
    }).bindTooltip(mapText(incident.sos_count), { permanent: true, direction: "center",
      className: "incident-count" }).addTo(incidentLayer);
  }
}

async function select(incidentId: string): Promise<void> {
  selected = incidentId;
  selectedSos = null;
  $<HTMLElement>("[data-detail-empty]").hidden = true;
  $<HTMLElement>("[data-detail]").hidden = false;
  $<HTMLElement>("[data-sos-detail]").hidden = true;
  say("detail", "");
  await renderDetail();
  void loadQueue();
}

async function renderDetail(): Promise<void> {
  if (selected === null) return;
  const detail = await api<IncidentDetail>(`/api/v1/dispatch/incidents/${selected}`);
  $<HTMLElement>("[data-detail-summary]").textContent =
    `${situation(detail.situation)} · ${detail.sos_count} ${t("dispatch.sos_count")} · ` +
    `${status(detail.status)}`;
  ensureMap().setView([detail.lat, detail.lon], Math.max(ensureMap().getZoom(), 15));
  const proposals = await api<Proposal[]>(`/api/v1/dispatch/incidents/${selected}/proposals`);
  const list = $<HTMLUListElement>("[data-proposals]");
  list.replaceChildren();
  if (proposals.length === 0) list.append(element("li", t("dispatch.no_unit")));
  for (const p of proposals) {
    const item = element("li", `${p.callsign} · ${t("dispatch.distance")} ${km(p.distance_m)} · ` +
      `${t("dispatch.eta")} ${minutes(p.eta_s)} `);
    item.append(button(t("dispatch.assign"), () => void act(
      `/api/v1/dispatch/incidents/${selected}/assign`, { unit_id: p.unit_id })));
    list.append(item);
  }
  const sosList = $<HTMLUListElement>("[data-sos-list]");
  sosList.replaceChildren();
  for (const sos of detail.sos) {
    const item = element("li", `${formatTime(new Date(sos.received_at))} · ` +
      `${situation(sos.situation)}${sos.people ? ` · ${sos.people}` : ""} `);
    item.append(button(t("dispatch.read"), () => void readSos(sos.sos_id), true));
    sosList.append(item);
  }
}

async function readSos(sosId: string): Promise<void> {
  selectedSos = sosId;
  const reason = encodeURIComponent(t("dispatch.reason"));
  try {
    const sos = await api<SosDetail>(`/api/v1/sos/${sosId}?reason=${reason}`);
    $<HTMLElement>("[data-sos-detail]").hidden = false;
    $<HTMLElement>("[data-sos-text]").textContent = sos.text ?? t("dispatch.no_text");
    const chat = $<HTMLUListElement>("[data-chat]");
    chat.replaceChildren();
    for (const m of sos.messages) {
      const who = m.sender === "dispatcher" ? t("dispatch.you") : t("dispatch.citizen");
      chat.append(element("li", `${formatTime(new Date(m.at))} ${who} : ${m.text}`,
        `chat-${m.sender}`));
    }
    trailLayer?.remove();
    if (sos.trail.length > 0) {
      trailLayer = L.polyline(sos.trail.map((p) => [p.lat, p.lon] as L.LatLngTuple),
        { color: "#b42318", dashArray: "4 4" }).addTo(ensureMap());
    }
  } catch (error) {
    say("detail", `${t("dispatch.action_failed")} ${failure(error)}`);
  }
}

async function act(path: string, body: unknown = {}): Promise<void> {
  try {
    await api(path, { method: "POST", body: JSON.stringify(body) });
    say("detail", "");
  } catch (error) {
    say("detail", `${t("dispatch.action_failed")} ${failure(error)}`);
  }
  await refresh();
}

async function loadSos(): Promise<void> {
  for (const sos of await api<IncidentSos[]>("/api/v1/dispatch/sos")) {
    addSos(sos.sos_id, sos.lat, sos.lon);
  }
}

async function refresh(): Promise<void> {
  await loadUnits();
  await loadQueue();
  if (selected !== null) await renderDetail().catch(() => undefined);
}

function scheduleRefresh(): void {
  window.clearTimeout(reloadTimer);
  reloadTimer = window.setTimeout(() => void refresh(), 150);
}

function live(ok: boolean, why = ""): void {
  const text = ok ? `● ${t("dispatch.live")}` : t("dispatch.reconnecting");
  $<HTMLElement>("[data-live]").textContent = why ? `${text} ${why}` : text;
  $<HTMLElement>("[data-live]").dataset.live = String(ok);
}

function onEvent(message: MessageEvent<string>): void {
  const event = JSON.parse(message.data) as BusEvent;
  const data = event.data;
  if (event.subject === "sos.created") {
    addSos(String(data.sos_id), Number(data.lat), Number(data.lon));
  } else if (event.subject.startsWith("dispatch.unit_")) {
    placeUnit(data as unknown as Unit);
    return;
  } else if (event.subject === "sos.position") {
    // The caller moved: follow them on the map (the trail itself is read, audited, on demand).
    sosMarkers.get(String(data.sos_id))?.setLatLng([Number(data.lat), Number(data.lon)]);
    return;
  } else if (event.subject === "sos.message" && data.sos_id === selectedSos) {
    void readSos(String(data.sos_id));
    return;
  }
  scheduleRefresh();
}

async function connect(): Promise<void> {
  stream?.close();
  try {
    const { ticket } = await api<{ ticket: string }>("/api/v1/dispatch/stream/ticket",
      { method: "POST" });
    stream = new EventSource(`/api/v1/dispatch/stream?ticket=${encodeURIComponent(ticket)}`);
  } catch (error: unknown) {
    live(false, error instanceof ApiFailure ? failure(error) : "");
    if (currentToken() !== null) window.setTimeout(() => void connect(), 2000);
    return;
  }
  stream.addEventListener("ready", () => { live(true); scheduleRefresh(); });
  for (const name of ["sos.created", "sos.message", "sos.position", "sos.closed",
    "incident.updated", "assignment.offered", "assignment.accepted", "assignment.declined",
    "assignment.expired", "assignment.cancelled", "assignment.on_scene", "assignment.closed",
    "dispatch.unit_status", "dispatch.unit_position"]) {
    stream.addEventListener(name, onEvent as EventListener);
  }
  stream.addEventListener("lag", () => scheduleRefresh());
  stream.addEventListener("closed", (message: MessageEvent<string>) => {
    // The session no longer admits the stream: say why; a new ticket is refused if it stays so.
    stream?.close();
    const { reason } = JSON.parse(message.data) as { reason: string };
    live(false, `${t("dispatch.stream_closed")} ${reason}`);
    if (currentToken() !== null) window.setTimeout(() => void connect(), 2000);
  });
  stream.onerror = () => {
    // The ticket was single use: a reconnect needs a new one.
    stream?.close();
    live(false);
    if (currentToken() !== null) window.setTimeout(() => void connect(), 2000);
  };
}

async function startConsole(): Promise<void> {
  ensureMap().invalidateSize();
  await loadSos();
  await refresh();
  void connect();
}

function start(): void {
  $<HTMLButtonElement>('[data-action="reassign"]').addEventListener("click", () =>
    void act(`/api/v1/dispatch/incidents/${selected}/reassign`, {}));
  $<HTMLButtonElement>('[data-action="close"]').addEventListener("click", () =>
    void act(`/api/v1/dispatch/incidents/${selected}/close`));
  $<HTMLFormElement>('[data-form="reply"]').addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>("#reply-text");
    if (selectedSos === null || input.value.trim() === "") return;
    api(`/api/v1/sos/${selectedSos}/reply`, { method: "POST",
      body: JSON.stringify({ text: input.value.trim() }) })
      .then(() => { input.value = ""; say("detail", t("dispatch.reply_sent")); })
      .catch((error: unknown) => say("detail", `${t("dispatch.action_failed")} ${failure(error)}`));
  });
  mountStaffLogin({
    root,
    roles: ["dispatcher"],
    onSignedIn: startConsole,
    onSignedOut: () => stream?.close(),
  });
}

start();
