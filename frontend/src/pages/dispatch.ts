/**
 * The dispatcher's console, built for the night of an attack (~300 SOS in one incident): a
 * full-height map beside a fixed side panel (queue, incident detail, silent chat) whose lists
 * scroll inside it, so the page never grows with the number of SOS.
 *
 * Live updates come over Server-Sent Events opened with a one-time ticket
 * (`lib/dispatch-stream.ts`); the map is `lib/dispatch-map.ts`, the SOS rows
 * `lib/dispatch-rows.ts`, the priorities `lib/dispatch-priority.ts`.
 *
 * Staying responsive under a burst: events only update an in-memory store and mark what is
 * stale; one animation frame then redraws what changed (the queue, the rows of the SOS list in
 * view — a virtualised list —, markers added to the cluster layer in one batch). The queue and
 * SOS positions are re-read from the API on a debounce, so the page never drifts from the
 * server's truth. Who wrote, and what is unread, is what this console saw on the stream (kept
 * for the browser tab in sessionStorage): the SOS bodies are sealed and read only on demand,
 * each read audited.
 */
import "leaflet/dist/leaflet.css";
import "leaflet.markercluster/dist/MarkerCluster.css";
import "leaflet.markercluster/dist/MarkerCluster.Default.css";
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/dispatch.css";
import { virtualList } from "../lib/dispatch-list";
import { ConsoleMap } from "../lib/dispatch-map";
import { band, scoreIncident, scoreSos } from "../lib/dispatch-priority";
import { type Row, type Sos, arrange, element, renderRow, why } from "../lib/dispatch-rows";
import { formatTime, messagesFrom } from "../lib/i18n";
import { ApiFailure, api, mountStaffLogin } from "../lib/staff";
import { followStream } from "../lib/dispatch-stream";

interface Assignment { id: string; unit_id: string; status: string; distance_m: number; eta_s: number }
interface Incident {
  id: string; status: string; priority: number; situation: string; sos_count: number;
  lat: number; lon: number; opened_at: string; assignments: Assignment[];
}
interface SosPoint {
  sos_id: string; incident_id?: string; lat: number; lon: number; situation: string;
  people: number | null; received_at: string;
}
interface IncidentDetail extends Incident { sos: SosPoint[] }
interface Unit { id: string; callsign: string; status: string; lat: number | null; lon: number | null }
interface Proposal { unit_id: string; callsign: string; distance_m: number; eta_s: number }
interface SosDetail {
  id: string; text: string | null; trail: { lat: number; lon: number; at: string }[];
  messages: { sender: string; text: string; at: string }[];
}
const root = document.getElementById("dispatch-app") as HTMLElement;
const t = messagesFrom(root);
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
const LIVE = ["offered", "accepted", "on_scene"];
const CHAT_STORE = "tocsin.dispatch.chat";
const consoleMap = new ConsoleMap($<HTMLElement>("[data-map]"), root.dataset.tilesUrl ?? "",
  () => schedule());
const unitNames = new Map<string, string>();
const store = new Map<string, Sos>();
let incidents: Incident[] = [];
// SOS sent "position unknown": in no incident until the phone sends a point; ask the caller.
interface Unlocated { sos_id: string; situation: string; people: number | null; received_at: string }
let unlocatedSos: Unlocated[] = [];
let selected: string | null = null;
let selectedDetail: IncidentDetail | null = null;
let selectedSos: string | null = null;
let pendingAction: "reassign" | "close" | null = null;
let stream: { close(): void } | null = null;
let rerank: number | undefined;
let reloadTimer: number | undefined;
let frame = 0;

const situation = (code: string): string => t(`dispatch.situation.${code}`);
const status = (code: string): string => t(`dispatch.status.${code}`);
const minutes = (s: number): string => `${Math.max(1, Math.round(s / 60))} min`;
const km = (m: number): string => (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`);
const failure = (e: unknown): string => (e instanceof ApiFailure ? e.error.message : String(e));
const say = (where: string, text: string): void => {
  $<HTMLElement>(`[data-message="${where}"]`).textContent = text;
};

// --- the store: what the stream and the API say about each SOS -----------------------------

type ChatMeta = Record<string, [number | null, number | null, number]>;
function loadChat(): ChatMeta {
  try { return JSON.parse(sessionStorage.getItem(CHAT_STORE) ?? "{}") as ChatMeta; } catch { return {}; }
}
const chatMeta = loadChat();
function saveChat(sos: Sos): void {
  chatMeta[sos.id] = [sos.lastCitizenAt, sos.lastDispatcherAt, sos.unread];
  sessionStorage.setItem(CHAT_STORE, JSON.stringify(chatMeta));
}

function makeSos(p: SosPoint): Sos {
  const [citizen, dispatcher, unread] = chatMeta[p.sos_id] ?? [null, null, 0];
  return {
    id: p.sos_id, incident: p.incident_id ?? null, lat: p.lat, lon: p.lon,
    situation: p.situation, people: p.people, receivedAt: Date.parse(p.received_at),
    lastCitizenAt: citizen, lastDispatcherAt: dispatcher, unread,
    score: { points: 0, band: 3, reasons: [] },
  };
}

function upsertSos(p: SosPoint): void {
  const known = store.get(p.sos_id);
  if (known) {
    if (p.incident_id) known.incident = p.incident_id;
    return;
  }
  const sos = makeSos(p);
  store.set(sos.id, sos);
  consoleMap.addSos(sos.id, p.lat, p.lon, () => void openSos(sos.id));
}

function removeSos(id: string): void {
  consoleMap.removeSos(id);
  store.delete(id);
}

function scoreAll(now: number): void {
  for (const sos of store.values()) sos.score = scoreSos(sos, now);
}

function incidentScore(incident: Incident): number {
  const scores: number[] = [];
  for (const sos of store.values()) if (sos.incident === incident.id) scores.push(sos.score.points);
  return scoreIncident(scores, incident.priority);
}

// --- drawing, once per animation frame ------------------------------------------------------

function schedule(): void {
  if (frame === 0) frame = window.requestAnimationFrame(draw);
}

function draw(): void {
  frame = 0;
  consoleMap.flush();
  scoreAll(Date.now());
  consoleMap.declutter();
  drawQueue();
  drawSosRows();
  let written = 0;
  let unread = 0;
  for (const sos of store.values()) {
    if (sos.lastCitizenAt !== null) written += 1;
    unread += sos.unread;
  }
  $<HTMLElement>("[data-counts]").textContent = t("dispatch.counts")
    .replace("{incidents}", String(incidents.length)).replace("{sos}", String(store.size))
    .replace("{written}", String(written)).replace("{unread}", String(unread));
  root.dataset.drawn = String(Date.now());
}

function drawQueue(): void {
  const queue = $<HTMLOListElement>("[data-queue]");
  const ranked = incidents.map((i) => ({ i, score: incidentScore(i) }))
    .sort((a, b) => b.score - a.score || a.i.opened_at.localeCompare(b.i.opened_at));
  const items: HTMLElement[] = [];
  for (const { i: incident, score } of ranked) {
    const live = incident.assignments.filter((a) => LIVE.includes(a.status));
    const who = live.length
      ? live.map((a) => `${unitNames.get(a.unit_id) ?? "?"} (${status(a.status)})`).join(", ")
      : t("dispatch.unassigned");
    let written = 0;
    let unread = 0;
    for (const sos of store.values()) {
      if (sos.incident !== incident.id) continue;
      if (sos.lastCitizenAt !== null) written += 1;
      unread += sos.unread;
    }
    const item = element("li", "", `queue-item band-${band(score)}`);
    item.dataset.incidentId = incident.id;
    item.dataset.score = String(score);
    item.tabIndex = 0;
    item.setAttribute("aria-current", String(incident.id === selected));
    const head = element("strong",
      `P${band(score)} · ${situation(incident.situation)} · ${incident.sos_count} ${t("dispatch.sos_count")}`);
    const line = element("span", `${t("dispatch.opened")} ${formatTime(new Date(incident.opened_at))}` +
      ` · ${who}`, "queue-line");
    item.append(head, line);
    if (written > 0) item.append(element("span", `✉ ${written}`, "badge badge-written"));
    if (unread > 0) item.append(element("span", `${unread} ${t("dispatch.unread")}`, "badge badge-unread"));
    item.addEventListener("click", () => void select(incident.id));
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") void select(incident.id); });
    items.push(item);
  }
  for (const sos of unlocatedSos) {
    // First: a caller nobody can find yet is the one to ask, before any map work.
    const item = element("li", "", "queue-item queue-unlocated band-1");
    item.dataset.unlocated = sos.sos_id;
    item.tabIndex = 0;
    item.append(
      element("strong", `${t("dispatch.unlocated")} · ${situation(sos.situation)}` +
        `${sos.people ? ` · ${sos.people} ${t("dispatch.persons")}` : ""}`),
      element("span", `${t("dispatch.received")} ${formatTime(new Date(sos.received_at))} · ` +
        t("dispatch.ask_where"), "queue-line"),
    );
    item.addEventListener("click", () => void openSos(sos.sos_id));
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") void openSos(sos.sos_id); });
    items.unshift(item);
  }
  if (items.length === 0) items.push(element("li", t("dispatch.empty_queue"), "queue-empty"));
  queue.replaceChildren(...items);
}

const filter = <E extends HTMLInputElement | HTMLSelectElement>(name: string): E =>
  $<E>(`[data-filter="${name}"]`);

function sosRows(): Row[] {
  if (selected === null) return [];
  const closed = selectedDetail !== null && selectedDetail.status !== "open";
  const list = closed && selectedDetail
    ? selectedDetail.sos.map((p) => {
      const sos = makeSos(p);
      sos.score = scoreSos(sos, Date.now());
      return sos;
    })
    : [...store.values()].filter((s) => s.incident === selected);
  const { rows, shown } = arrange(list, {
    situation: filter<HTMLSelectElement>("situation").value,
    written: filter<HTMLInputElement>("written").checked,
    unread: filter<HTMLInputElement>("unread").checked,
    sort: filter<HTMLSelectElement>("sort").value,
    group: filter<HTMLSelectElement>("group").value,
  }, t);
  $<HTMLElement>("[data-sos-shown]").textContent = t("dispatch.shown").replace("{n}", String(shown));
  return rows;
}

const sosList = virtualList<Row>({
  scroller: $<HTMLElement>("[data-sos-scroll]"),
  spacer: $<HTMLElement>("[data-sos-spacer]"),
  list: $<HTMLElement>("[data-sos-list]"),
  rowHeight: 36,
  renderRow: (row) => renderRow(row, { selectedSos, t, open: (id) => void openSos(id) }),
});

function drawSosRows(): void {
  sosList.setItems(sosRows());
}

// --- map -----------------------------------------------------------------------------------

function placeUnit(unit: Unit): void {
  unitNames.set(unit.id, unit.callsign);
  consoleMap.placeUnit(unit, `${unit.callsign} · ${status(unit.status)}`);
}

function drawIncidents(): void {
  consoleMap.drawIncidents(incidents.map((i) => ({ id: i.id, lat: i.lat, lon: i.lon,
    label: `${situation(i.situation)} · ${i.sos_count} SOS` })), (id) => void select(id));
}

// --- the API -------------------------------------------------------------------------------

async function loadUnits(): Promise<void> {
  const units = await api<Unit[]>("/api/v1/dispatch/units");
  const list = $<HTMLUListElement>("[data-units]");
  list.replaceChildren(...units.map((unit) => {
    placeUnit(unit);
    const item = element("li", `${unit.callsign} · ${status(unit.status)}`);
    item.dataset.unitId = unit.id;
    item.dataset.status = unit.status;
    return item;
  }));
}

async function reload(): Promise<void> {
  const [queue, points, unplaced] = await Promise.all([
    api<Incident[]>("/api/v1/dispatch/incidents"),
    api<SosPoint[]>("/api/v1/dispatch/sos"),
    api<Unlocated[]>("/api/v1/dispatch/sos/unlocated"),
  ]);
  incidents = queue;
  unlocatedSos = unplaced;
  const open = new Set(points.map((p) => p.sos_id));
  // An SOS just announced may not be attached yet: keep it until it has had time to be.
  const now = Date.now();
  for (const sos of [...store.values()]) {
    if (!open.has(sos.id) && (sos.incident !== null || now - sos.receivedAt > 60_000)) {
      removeSos(sos.id);
    }
  }
  for (const p of points) upsertSos(p);
  drawIncidents();
  if (selected !== null) await loadDetail();
  schedule();
}

interface ChatState {
  sos_id: string; citizen_messages: number; last_citizen_at: string | null;
  last_dispatcher_at: string | null;
}

/** Who wrote before this console was open: an unanswered caller counts as one unread. */
async function loadChatState(): Promise<void> {
  for (const row of await api<ChatState[]>("/api/v1/dispatch/sos/chat")) {
    const sos = store.get(row.sos_id);
    if (!sos) continue;
    const citizen = row.last_citizen_at ? Date.parse(row.last_citizen_at) : null;
    const mine = row.last_dispatcher_at ? Date.parse(row.last_dispatcher_at) : null;
    if (citizen !== null && (sos.lastCitizenAt === null || citizen > sos.lastCitizenAt)) {
      const seen = chatMeta[sos.id] !== undefined;
      sos.lastCitizenAt = citizen;
      if (!seen && (mine === null || mine < citizen)) sos.unread = Math.max(sos.unread, 1);
    }
    if (mine !== null && (sos.lastDispatcherAt === null || mine > sos.lastDispatcherAt)) {
      sos.lastDispatcherAt = mine;
    }
    saveChat(sos);
  }
  schedule();
}

function scheduleReload(delay = 250): void {
  window.clearTimeout(reloadTimer);
  reloadTimer = window.setTimeout(() => void reload().then(loadUnits).catch(() => undefined), delay);
}

async function loadDetail(): Promise<void> {
  if (selected === null) return;
  const detail = await api<IncidentDetail>(`/api/v1/dispatch/incidents/${selected}`);
  selectedDetail = detail;
  const open = detail.status === "open";
  $<HTMLElement>("[data-detail-summary]").textContent =
    `${situation(detail.situation)} · ${detail.sos_count} ${t("dispatch.sos_count")} · ${status(detail.status)}`;
  // A closed or merged incident is history: nothing left to decide on it.
  $<HTMLElement>("[data-actions]").hidden = !open;
  $<HTMLElement>("[data-detail-closed]").hidden = open;
  const live = detail.assignments.filter((a) => LIVE.includes(a.status));
  $<HTMLElement>("[data-detail-units]").textContent = live.length
    ? live.map((a) => `${unitNames.get(a.unit_id) ?? "?"} (${status(a.status)}) · ` +
      `${km(a.distance_m)} · ${t("dispatch.eta")} ${minutes(a.eta_s)}`).join(" ; ")
    : t("dispatch.unassigned");
}

async function select(incidentId: string): Promise<void> {
  if (selected !== incidentId) {
    pendingAction = null;
    $<HTMLFormElement>('[data-form="reason"]').hidden = true;
    $<HTMLElement>("[data-proposals]").hidden = true;
    $<HTMLElement>("[data-sos-scroll]").scrollTop = 0;
  }
  selected = incidentId;
  $<HTMLElement>("[data-detail-empty]").hidden = true;
  $<HTMLElement>("[data-detail]").hidden = false;
  say("detail", "");
  await loadDetail().catch((e: unknown) => say("detail", `${t("dispatch.action_failed")} ${failure(e)}`));
  if (selectedDetail) consoleMap.focus(selectedDetail.lat, selectedDetail.lon);
  schedule();
}

async function showProposals(): Promise<void> {
  const list = $<HTMLUListElement>("[data-proposals]");
  const toggle = $<HTMLButtonElement>('[data-action="proposals"]');
  if (!list.hidden) { list.hidden = true; toggle.setAttribute("aria-expanded", "false"); return; }
  const proposals = await api<Proposal[]>(`/api/v1/dispatch/incidents/${selected}/proposals`);
  list.replaceChildren(...(proposals.length === 0 ? [element("li", t("dispatch.no_unit"))] :
    proposals.map((p) => {
      const item = element("li", `${p.callsign} · ${km(p.distance_m)} · ${t("dispatch.eta")} ${minutes(p.eta_s)} `);
      const go = element("button", t("dispatch.assign"), "btn btn-small");
      go.type = "button";
      go.addEventListener("click", () => void act(`/api/v1/dispatch/incidents/${selected}/assign`,
        { unit_id: p.unit_id }));
      item.append(go);
      return item;
    })));
  list.hidden = false;
  toggle.setAttribute("aria-expanded", "true");
}

async function openSos(sosId: string): Promise<void> {
  const sos = store.get(sosId);
  if (sos && sos.incident !== null && sos.incident !== selected) await select(sos.incident);
  selectedSos = sosId;
  const reason = encodeURIComponent(t("dispatch.reason"));
  try {
    const detail = await api<SosDetail>(`/api/v1/sos/${sosId}?reason=${reason}`);
    $<HTMLElement>("[data-chat-empty]").hidden = true;
    $<HTMLElement>("[data-sos-detail]").hidden = false;
    const head = sos ? `${situation(sos.situation)}${sos.people ? ` · ${sos.people} ${t("dispatch.persons")}` : ""}` +
      ` · P${sos.score.band} ${sos.score.points} (${why(sos.score, t)})` : "";
    $<HTMLElement>("[data-chat-head]").textContent = head;
    $<HTMLElement>("[data-sos-text]").textContent = detail.text ?? t("dispatch.no_text");
    // Newest first, right under the reply box: the last thing the caller said is in view.
    const messages = [...detail.messages].reverse();
    $<HTMLUListElement>("[data-chat]").replaceChildren(...messages.map((m) => element("li",
      `${formatTime(new Date(m.at))} ${m.sender === "dispatcher" ? t("dispatch.you") : t("dispatch.citizen")} : ${m.text}`,
      `chat-${m.sender}`)));
    if (sos) {
      const citizen = detail.messages.filter((m) => m.sender === "citizen").map((m) => Date.parse(m.at));
      const mine = detail.messages.filter((m) => m.sender === "dispatcher").map((m) => Date.parse(m.at));
      if (citizen.length) sos.lastCitizenAt = Math.max(...citizen);
      if (mine.length) sos.lastDispatcherAt = Math.max(...mine);
      sos.unread = 0;
      saveChat(sos);
    }
    consoleMap.showTrail(detail.trail);
  } catch (error) {
    say("detail", `${t("dispatch.action_failed")} ${failure(error)}`);
  }
  schedule();
}

async function act(path: string, body: unknown = {}): Promise<boolean> {
  try {
    await api(path, { method: "POST", body: JSON.stringify(body) });
    say("detail", "");
    return true;
  } catch (error) {
    say("detail", `${t("dispatch.action_failed")} ${failure(error)}`);
    return false;
  } finally {
    await reload().catch(() => undefined);
  }
}

function askReason(action: "reassign" | "close"): void {
  pendingAction = action;
  const form = $<HTMLFormElement>('[data-form="reason"]');
  $<HTMLElement>("[data-reason-label]").textContent = t(`dispatch.reason_${action}`);
  $<HTMLElement>("[data-reason-submit]").textContent = t(`dispatch.confirm_${action}`);
  form.hidden = false;
  $<HTMLInputElement>("#reason-text").focus();
}

// --- the stream ----------------------------------------------------------------------------

function live(ok: boolean, reason = ""): void {
  const text = ok ? `● ${t("dispatch.live")}` : t("dispatch.reconnecting");
  const line = $<HTMLElement>("[data-live]");
  line.textContent = reason ? `${text} ${reason}` : text;
  line.dataset.live = String(ok);
}

function onEvent(subject: string, data: Record<string, unknown>): void {
  const id = String(data.sos_id ?? "");
  if (subject === "sos.created" && data.lat === null) {
    scheduleReload(0); // sent "position unknown": listed apart (see reload)
  } else if (subject === "sos.created") {
    upsertSos(data as unknown as SosPoint);
    scheduleReload(400); // which incident it joined: incident.updated follows
  } else if (subject.startsWith("dispatch.unit_")) {
    placeUnit(data as unknown as Unit);
    return;
  } else if (subject === "sos.position") {
    // The caller moved: follow them on the map (the trail itself is read, audited, on demand).
    consoleMap.moveSos(id, Number(data.lat), Number(data.lon));
    return;
  } else if (subject === "sos.message") {
    const sos = store.get(id);
    const at = Date.parse(String(data.at));
    if (sos && data.sender === "citizen") {
      sos.lastCitizenAt = at;
      if (id !== selectedSos) sos.unread += 1;
    } else if (sos) {
      sos.lastDispatcherAt = at;
    }
    if (sos) saveChat(sos);
    if (id === selectedSos) void openSos(id);
  } else if (subject === "sos.closed") {
    removeSos(id);
  } else {
    scheduleReload();
  }
  schedule();
}

async function startConsole(): Promise<void> {
  consoleMap.ensure().invalidateSize();
  await loadUnits();
  await reload();
  stream?.close();
  await loadChatState().catch(() => undefined);
  stream = followStream({ onEvent, onReady: () => scheduleReload(0),
    onLag: () => { scheduleReload(); void loadChatState().catch(() => undefined); },
    live, closedText: t("dispatch.stream_closed") });
  // Ages and silences grow without any event: re-rank every 30 s.
  window.clearInterval(rerank);
  rerank = window.setInterval(schedule, 30_000);
}

function start(): void {
  $<HTMLButtonElement>('[data-action="proposals"]').addEventListener("click",
    () => void showProposals().catch((e: unknown) => say("detail", failure(e))));
  $<HTMLButtonElement>('[data-action="reassign"]').addEventListener("click", () => askReason("reassign"));
  $<HTMLButtonElement>('[data-action="close"]').addEventListener("click", () => askReason("close"));
  $<HTMLButtonElement>('[data-action="reason-cancel"]').addEventListener("click", () => {
    pendingAction = null;
    $<HTMLFormElement>('[data-form="reason"]').hidden = true;
  });
  $<HTMLFormElement>('[data-form="reason"]').addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>("#reason-text");
    const reason = input.value.trim();
    if (selected === null || pendingAction === null || reason.length < 3) return;
    void act(`/api/v1/dispatch/incidents/${selected}/${pendingAction}`, { reason }).then((ok) => {
      if (!ok) return;
      input.value = "";
      pendingAction = null;
      $<HTMLFormElement>('[data-form="reason"]').hidden = true;
    });
  });
  for (const name of ["group", "sort", "situation", "written", "unread"]) {
    filter(name).addEventListener("change", () => {
      $<HTMLElement>("[data-sos-scroll]").scrollTop = 0;
      schedule();
    });
  }
  $<HTMLFormElement>('[data-form="reply"]').addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>("#reply-text");
    if (selectedSos === null || input.value.trim() === "") return;
    api(`/api/v1/sos/${selectedSos}/reply`, { method: "POST",
      body: JSON.stringify({ text: input.value.trim() }) })
      .then(() => { input.value = ""; say("chat", t("dispatch.reply_sent")); })
      .catch((error: unknown) => say("chat", `${t("dispatch.action_failed")} ${failure(error)}`));
  });
  mountStaffLogin({ root, roles: ["dispatcher"], onSignedIn: startConsole,
    onSignedOut: () => stream?.close() });
}

start();
