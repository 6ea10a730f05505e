/**
 * The dispatcher's console, built for the night of an attack (~300 SOS in one incident): a
 * full-height map beside a fixed side panel (queue, incident detail, silent chat) whose lists
 * scroll inside it, so the page never grows with the number of SOS.
 *
 * This module holds the console's state and wires its parts: live updates come over Server-Sent
 * Events opened with a one-time ticket (`lib/dispatch-stream.ts`); the map is
 * `lib/dispatch-map.ts`, the queue `lib/dispatch-queue.ts`, the SOS store and its chat marks
 * `lib/dispatch-store.ts`, the SOS rows `lib/dispatch-rows.ts`, the chat pane
 * `lib/dispatch-chat.ts`, the incident detail `lib/dispatch-detail.ts`, merge and split `lib/dispatch-merge.ts`, the priorities
 * `lib/dispatch-priority.ts`, the API's shapes and refusals in words `lib/dispatch-types.ts`.
 *
 * Staying responsive under a burst: events only update an in-memory store and mark what is
 * stale; one animation frame then redraws what changed (the queue, the rows of the SOS list in
 * view — a virtualised list —, markers added to the cluster layer in one batch). The queue and
 * SOS positions are re-read from the API on a debounce, so the page never drifts from the
 * server's truth.
 */
import "leaflet/dist/leaflet.css";
import "leaflet.markercluster/dist/MarkerCluster.css";
import "leaflet.markercluster/dist/MarkerCluster.Default.css";
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/dispatch.css";
import { showSos } from "../lib/dispatch-chat";
import { showDetail, showProposals } from "../lib/dispatch-detail";
import { virtualList } from "../lib/dispatch-list";
import { ConsoleMap } from "../lib/dispatch-map";
import { MergeSplit } from "../lib/dispatch-merge";
import { scoreSos } from "../lib/dispatch-priority";
import { drawQueue } from "../lib/dispatch-queue";
import { type Row, arrange, element, renderRow } from "../lib/dispatch-rows";
import { type ChatState, SosStore } from "../lib/dispatch-store";
import { followStream } from "../lib/dispatch-stream";
import {
  type Incident, type IncidentDetail, type Proposal, type SosDetail, type SosPoint, type Unit,
  type Unlocated, consoleCtx, refusal,
} from "../lib/dispatch-types";
import { messagesFrom } from "../lib/i18n";
import { api, mountStaffLogin } from "../lib/staff";

const root = document.getElementById("dispatch-app") as HTMLElement;
const t = messagesFrom(root);
const ctx = consoleCtx(root, t);
const { $, say } = ctx;
const consoleMap = new ConsoleMap($<HTMLElement>("[data-map]"), root.dataset.tilesUrl ?? "",
  () => schedule());
const unitNames = new Map<string, string>();
const store = new SosStore();
let incidents: Incident[] = [];
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

const mergeSplit = new MergeSplit({
  ctx, store, unitNames,
  detail: () => selectedDetail,
  incidents: () => incidents,
  score: (incident) => store.incidentScore(incident),
  changed: () => reload(),
  redraw: () => schedule(),
  select: (id) => select(id),
  showOnMap: (target, picked) => consoleMap.showMerge(target, picked),
});

function upsertSos(p: SosPoint): void {
  const sos = store.upsert(p);
  if (sos) consoleMap.addSos(sos.id, p.lat, p.lon, () => void openSos(sos.id));
}

function removeSos(id: string): void {
  consoleMap.removeSos(id);
  store.delete(id);
}

// --- drawing, once per animation frame ------------------------------------------------------

function schedule(): void {
  if (frame === 0) frame = window.requestAnimationFrame(draw);
}

function draw(): void {
  frame = 0;
  consoleMap.flush();
  store.scoreAll(Date.now());
  consoleMap.declutter();
  drawQueue(ctx, { incidents, unlocated: unlocatedSos, store, selected, unitNames,
    select: (id) => void select(id), openSos: (id) => void openSos(id) });
  drawSosRows();
  mergeSplit.refresh();
  const { written, unread } = store.counts();
  $<HTMLElement>("[data-counts]").textContent = t("dispatch.counts")
    .replace("{incidents}", String(incidents.length)).replace("{sos}", String(store.size))
    .replace("{written}", String(written)).replace("{unread}", String(unread));
  root.dataset.drawn = String(Date.now());
}

const filter = <E extends HTMLInputElement | HTMLSelectElement>(name: string): E =>
  $<E>(`[data-filter="${name}"]`);

function sosRows(): Row[] {
  if (selected === null) return [];
  const closed = selectedDetail !== null && selectedDetail.status !== "open";
  const list = closed && selectedDetail
    ? selectedDetail.sos.map((p) => {
      const sos = store.make(p);
      sos.score = scoreSos(sos, Date.now());
      return sos;
    })
    : store.of(selected);
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
  renderRow: (row) => renderRow(row, { selectedSos, t, open: (id) => void openSos(id),
    picking: mergeSplit.picking() }),
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

async function loadChatState(): Promise<void> {
  store.mergeChatState(await api<ChatState[]>("/api/v1/dispatch/sos/chat"));
  schedule();
}

function scheduleReload(delay = 250): void {
  window.clearTimeout(reloadTimer);
  reloadTimer = window.setTimeout(() => void reload().then(loadUnits).catch(() => undefined), delay);
}

let detailAsked = 0; // the latest detail request's ticket

async function loadDetail(): Promise<void> {
  if (selected === null) return;
  const ticket = (detailAsked += 1);
  const detail = await api<IncidentDetail>(`/api/v1/dispatch/incidents/${selected}`);
  // A slower answer for an earlier request (a reload for the incident shown before a click)
  // must not overwrite the incident the dispatcher is now looking at.
  if (ticket !== detailAsked) return;
  selectedDetail = detail;
  if (detail.status !== "open") mergeSplit.reset();
  showDetail(ctx, detail, unitNames, (id) => void select(id));
}

async function select(incidentId: string): Promise<void> {
  if (selected !== incidentId) {
    pendingAction = null;
    mergeSplit.reset();
    $<HTMLFormElement>('[data-form="reason"]').hidden = true;
    $<HTMLElement>("[data-proposals]").hidden = true;
    $<HTMLElement>("[data-sos-scroll]").scrollTop = 0;
    say("detail", "");
  }
  selected = incidentId;
  $<HTMLElement>("[data-detail-empty]").hidden = true;
  $<HTMLElement>("[data-detail]").hidden = false;
  await loadDetail().catch((e: unknown) => say("detail", refusal(e, t)));
  if (selectedDetail) consoleMap.focus(selectedDetail.lat, selectedDetail.lon);
  schedule();
}

async function toggleProposals(): Promise<void> {
  const list = $<HTMLUListElement>("[data-proposals]");
  const toggle = $<HTMLButtonElement>('[data-action="proposals"]');
  if (!list.hidden) { list.hidden = true; toggle.setAttribute("aria-expanded", "false"); return; }
  const asked = selected;
  const proposals = await api<Proposal[]>(`/api/v1/dispatch/incidents/${asked}/proposals`);
  // Another incident opened meanwhile: these units were ranked for the one before, and a click
  // on one would assign it to the incident now shown.
  if (selected !== asked) return;
  showProposals(ctx, proposals, (unitId) => void act(
    `/api/v1/dispatch/incidents/${selected}/assign`, { unit_id: unitId }, "assign"));
  list.hidden = false;
  toggle.setAttribute("aria-expanded", "true");
}

let sosAsked = 0; // the latest SOS read's ticket

async function openSos(sosId: string): Promise<void> {
  const sos = store.get(sosId);
  if (sos && sos.incident !== null && sos.incident !== selected) await select(sos.incident);
  selectedSos = sosId;
  const reason = encodeURIComponent(t("dispatch.reason"));
  const ticket = (sosAsked += 1);
  try {
    const detail = await api<SosDetail>(`/api/v1/sos/${sosId}?reason=${reason}`);
    // Another SOS opened meanwhile: its chat is the one in view, and the reply box writes to
    // it; this caller's conversation must not be drawn under it.
    if (ticket !== sosAsked) return;
    showSos(ctx, sos, detail, store);
    consoleMap.showTrail(detail.trail);
  } catch (error) {
    say("detail", refusal(error, t));
  }
  schedule();
}

async function act(path: string, body: unknown, action: string): Promise<boolean> {
  try {
    await api(path, { method: "POST", body: JSON.stringify(body) });
    say("detail", "");
    return true;
  } catch (error) {
    say("detail", refusal(error, t, action));
    return false;
  } finally {
    await reload().catch(() => undefined);
  }
}

function askReason(action: "reassign" | "close"): void {
  pendingAction = action;
  mergeSplit.reset();
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
    if (sos) store.save(sos);
    if (id === selectedSos) void openSos(id);
  } else if (subject === "sos.closed") {
    removeSos(id);
  } else {
    // incident.updated (a merge or split by any dispatcher included), assignment.*: re-read.
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
    () => void toggleProposals().catch((e: unknown) => say("detail", refusal(e, t))));
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
    void act(`/api/v1/dispatch/incidents/${selected}/${pendingAction}`, { reason },
      pendingAction).then((ok) => {
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
      .catch((error: unknown) => say("chat", refusal(error, t, "reply")));
  });
  // On a phone the filters would push the SOS list below the fold: folded there, one tap away.
  const filters = root.querySelector<HTMLDetailsElement>("[data-filters-box]");
  if (filters !== null && window.matchMedia("(max-width: 60rem)").matches) filters.open = false;
  mountStaffLogin({ root, roles: ["dispatcher"], onSignedIn: startConsole,
    onSignedOut: () => stream?.close() });
  root.dataset.ready = "true"; // the sign-in form is the script's from here on (tests wait)
}

start();
