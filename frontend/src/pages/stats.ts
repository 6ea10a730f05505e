/**
 * The analysts' observatory: sign in (lib/staff.ts), choose a period, an area and a category,
 * and read the figures every domain contributes as uPlot time series, a Leaflet map of H3
 * hexagons (drawn from the server's GeoJSON) and anomaly notices. Every chart exports its data
 * as CSV (the API's own CSV of the same query).
 */
import "../styles/base.css";
import "../styles/staff.css";
import "leaflet/dist/leaflet.css";
import "uplot/dist/uPlot.min.css";
import "../styles/stats.css";
import * as L from "leaflet";
import uPlot from "uplot";
import { addBaseMap } from "../lib/basemap";
import { el } from "../lib/dom";
import { messagesFrom, pageLang } from "../lib/i18n";
import { mapText } from "../lib/map-text";
import { showNotices } from "../lib/stats-notices";
import { type Series, drawSeries, grainWord, isEmpty } from "../lib/stats-chart";
import { Places, fittedStart } from "../lib/stats-places";
import { ApiFailure, api, currentToken, currentUser, mountStaffLogin } from "../lib/staff";
import { frenchDateTimes } from "../lib/datetime-field";

interface Figure {
  name: string; fr: string; en: string; categories: string[]; unit: string; mapped: boolean;
  details: string;
}
interface Breakdown { counts: Record<string, number> }

const API = "/api/v1/stats";
const root = document.getElementById("stats-app") as HTMLElement;
// Date and time fields in French, 24 h, whatever the browser's locale (lib/datetime-field).
frenchDateTimes(root);
const t = messagesFrom(root);
const lang = pageLang();
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
/** Overview charts: each draws one or more figures; one figure alone is split by category. */
const OVERVIEW: string[][] = [
  ["sos.created"], ["dispatch.assigned", "dispatch.on_scene"],
  ["alerts.targeted", "alerts.delivered", "alerts.failed"], ["safety.mark"],
  ["persons.reported", "persons.found"], ["watch.report"],
  ["watch.order_issued", "watch.order_removed", "watch.order_contested"],
];

/** Category values in words (« attentat », not ``attack``), given by the page's server. */
const categoryNames = JSON.parse(root.dataset.categories ?? "{}") as Record<string, string>;
const catLabel = (value: string): string => categoryNames[value] ?? value;
const number = new Intl.NumberFormat(lang === "en" ? "en-GB" : "fr-FR", { maximumFractionDigits: 1 });
const places = new Places(t("stats.near"), t("stats.area_set"), lang);
/** The figures that say whether anything happened at all (to fit the default period). */
const PROBES = ["sos.created", "alerts.targeted", "safety.mark", "watch.report", "cyber.incident",
  "persons.reported"];

let figures: Record<string, Figure> = {};
let map: L.Map | null = null;
let hexes: L.GeoJSON | null = null;
const charts: uPlot[] = [];

function label(name: string): string {
  const figure = figures[name];
  return figure ? (lang === "en" ? figure.en : figure.fr) : name;
}

function say(name: string, text: string, ok: boolean): void {
  const node = $<HTMLElement>(`[data-message="${name}"]`);
  node.textContent = text;
  node.classList.toggle("is-error", !ok);
}

function failureText(error: unknown): string {
  return error instanceof ApiFailure ? `${t("stats.error")}: ${error.message}` : String(error);
}

/** `datetime-local` value (local time) for a Date, and back to ISO 8601 with its zone. */
function localValue(date: Date): string {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function filters(): URLSearchParams {
  const form = new FormData($<HTMLFormElement>('[data-form="filters"]'));
  const params = new URLSearchParams();
  params.set("from", new Date(String(form.get("from"))).toISOString());
  params.set("to", new Date(String(form.get("to"))).toISOString());
  return params;
}

function query(figure: string, extra: Record<string, string> = {}): URLSearchParams {
  const params = filters();
  params.set("figure", figure);
  const grain = $<HTMLSelectElement>("#f-grain").value;
  if (grain && !("by" in extra)) params.set("grain", grain);
  const area = ($<HTMLInputElement>("#f-area").value || "").trim();
  if (area && figures[figure]?.mapped) params.set("area", area);
  for (const [key, value] of Object.entries(extra)) if (value) params.set(key, value);
  return params;
}

async function downloadCsv(path: string, params: URLSearchParams, name: string): Promise<void> {
  params.set("format", "csv");
  const response = await fetch(`${path}?${params.toString()}`, {
    headers: { Authorization: `Bearer ${currentToken() ?? ""}` },
  });
  if (!response.ok) throw new Error(`${response.status}`);
  const link = el("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${name}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

/** Draw one chart from several series responses (same buckets: same period and grain). */
function drawChart(holder: HTMLElement, title: string, parts: Series[], split: boolean): void {
  holder.replaceChildren();
  const first = parts[0];
  const head = el("div", "stats-chart-head");
  head.append(el("h3", "", `${title} · ${first ? grainWord(first.grain, t) : ""}`));
  const csv = el("button", "btn btn-secondary btn-small", t("stats.csv"));
  csv.type = "button";
  csv.addEventListener("click", () => {
    for (const part of parts) {
      void downloadCsv(`${API}/series`, query(part.figure, { category: split ? category() : "" }),
        `${part.figure}-series`).catch((e: unknown) => say("console", failureText(e), false));
    }
  });
  head.append(csv);
  holder.append(head);
  if (isEmpty(parts)) {
    holder.append(el("p", "stats-empty", t("stats.no_data")));
    return;
  }
  const plotBox = el("div", "stats-plot");
  holder.append(plotBox);
  charts.push(drawSeries(plotBox, Math.max(280, holder.clientWidth - 24), parts, split,
    { t, label, catLabel, number, lang }));
}

function category(): string {
  return $<HTMLSelectElement>("#f-category").value;
}

async function loadSeries(figure: string, withCategory: boolean): Promise<Series> {
  return api<Series>(`${API}/series?${query(figure, { category: withCategory ? category() : "" })}`);
}

/** Whether the filters drawn are still the latest asked (see refresh). */
type Current = () => boolean;

async function drawMain(current: Current): Promise<void> {
  const figure = $<HTMLSelectElement>("#f-figure").value;
  const holder = $<HTMLElement>("[data-main-chart]");
  const series = await loadSeries(figure, true);
  if (current()) drawChart(holder, label(figure), [series], true);
}

function ensureMap(): L.Map {
  if (map) return map;
  map = L.map($<HTMLElement>("[data-map]"), { zoomControl: true }).setView([48.8566, 2.3522], 11);
  addBaseMap(map, root.dataset.tilesUrl ?? "");
  return map;
}

function mapFigure(): string {
  const figure = $<HTMLSelectElement>("#f-figure").value;
  return figures[figure]?.mapped ? figure : "sos.created";
}

async function drawMap(current: Current): Promise<void> {
  const m = ensureMap();
  const figure = mapFigure();
  const cat = figures[figure]?.categories.includes(category()) ? category() : "";
  const geo = await api<GeoJSON.FeatureCollection>(`${API}/map?${query(figure, { category: cat })}`);
  if (!current()) return;
  hexes?.remove();
  places.remember(geo);
  const counts = geo.features.map((f) => Number(f.properties?.count ?? 0));
  const top = Math.max(1, ...counts);
  hexes = L.geoJSON(geo, {
    style: (feature) => {
      const share = Number(feature?.properties?.count ?? 0) / top;
      return { color: "#7a1f1f", weight: 1, fillColor: "#c0392b", fillOpacity: 0.15 + 0.7 * share };
    },
    onEachFeature: (feature, layer) => {
      const props = feature.properties as { cell: string; count: number };
      layer.bindTooltip(mapText(`${label(figure)} : ${props.count} · ${places.name(props.cell)}`));
      layer.on("click", () => {
        $<HTMLInputElement>("#f-area").value = props.cell;
        showArea();
        void refresh();
      });
    },
  }).addTo(m);
  if (geo.features.length > 0) m.fitBounds(hexes.getBounds(), { maxZoom: 13, padding: [20, 20] });
  m.invalidateSize();
  // The legend gives the values the shades stand for: the lightest and the darkest hexagon.
  const low = Math.min(...counts.filter((n) => n > 0), top);
  const legend = $<HTMLElement>("[data-map-legend]");
  legend.replaceChildren();
  if (geo.features.length > 0) {
    legend.append(`${label(figure)} ${t("stats.per_area")} : `, el("span", "stats-swatch is-low"),
      `${number.format(low)} … `, el("span", "stats-swatch is-high"), number.format(top));
  } else {
    legend.textContent = t("stats.no_data");
  }
}

function showArea(): void {
  const cell = $<HTMLInputElement>("#f-area").value.trim();
  $<HTMLElement>("[data-area-label]").textContent = cell ? places.name(cell) : t("stats.area_all");
  $<HTMLButtonElement>('[data-action="area-clear"]').hidden = !cell;
}

async function drawOverview(current: Current): Promise<void> {
  const grid = $<HTMLElement>("[data-charts]");
  grid.replaceChildren();
  // Figures that no fixed chart shows (a domain added later, e.g. cyber) get their own chart.
  const shown = new Set(OVERVIEW.flat());
  const groups = [...OVERVIEW, ...Object.keys(figures).filter((n) => !shown.has(n)).sort()
    .map((n) => [n])].map((names) => names.filter((name) => figures[name]))
    .filter((names) => names.length > 0);
  // Panels first, charts after: each chart takes its panel's width once the grid is laid out.
  const panels = groups.map(() => grid.appendChild(el("section", "panel stats-chart-panel")));
  const loaded = await Promise.all(groups.map((names) =>
    Promise.all(names.map((name) => loadSeries(name, false)))));
  if (!current()) return;
  groups.forEach((names, i) => {
    const panel = panels[i];
    const parts = loaded[i];
    if (panel && parts) drawChart(panel, names.map(label).join(" · "), parts, names.length === 1);
  });
  await drawBreakdowns(grid, current);
}

async function drawBreakdowns(grid: HTMLElement, current: Current): Promise<void> {
  const tables: [string, string, string][] = [
    ["watch.report", "detail", ""], ["watch.item", "category", ""],
    ["watch.decision", "category", "precision"],
  ];
  for (const [figure, by, extra] of tables) {
    if (!figures[figure]) continue;
    const params = query(figure, { by });
    const data = await api<Breakdown>(`${API}/breakdown?${params}`);
    if (!current()) return;
    const panel = el("section", "panel stats-chart-panel");
    const head = el("div", "stats-chart-head");
    const details = figures[figure]?.details ?? by;
    const byWord = by === "detail" ? (categoryNames[`detail:${details}`] ?? details) : t("stats.category");
    head.append(el("h3", "", `${label(figure)} · ${byWord}`));
    const csv = el("button", "btn btn-secondary btn-small", t("stats.csv"));
    csv.type = "button";
    csv.addEventListener("click", () => void downloadCsv(`${API}/breakdown`, query(figure, { by }),
      `${figure}-by-${by}`).catch((e: unknown) => say("console", failureText(e), false)));
    head.append(csv);
    panel.append(head);
    const table = el("table", "data-table");
    const columns = table.createTHead().insertRow();
    for (const word of [byWord, t("stats.count")]) {
      const th = el("th", "", word);
      th.scope = "col";
      columns.append(th);
    }
    const body = table.createTBody();
    for (const [key, n] of Object.entries(data.counts)) {
      const row = body.insertRow();
      row.insertCell().textContent = catLabel(key);
      row.insertCell().textContent = number.format(n);
    }
    if (extra === "precision") {
      const tp = data.counts.true_positive ?? 0;
      const fp = data.counts.false_positive ?? 0;
      const row = body.insertRow();
      row.insertCell().textContent = t("stats.precision");
      row.insertCell().textContent = tp + fp > 0 ? `${((100 * tp) / (tp + fp)).toFixed(1)} %` : "—";
    }
    if (Object.keys(data.counts).length === 0) panel.append(el("p", "stats-empty", t("stats.no_data")));
    else panel.append(table);
    grid.append(panel);
  }
}

/** The anomaly notices, said in words (lib/stats-notices.ts). */
async function drawNotices(): Promise<void> {
  await showNotices($<HTMLUListElement>("[data-notices]"), {
    api, t, label, catLabel, places, number, lang,
    mapped: (kind) => Boolean(figures[kind]?.mapped),
    onError: (e) => say("console", failureText(e), false),
  });
}

function fillCategories(): void {
  const figure = figures[$<HTMLSelectElement>("#f-figure").value];
  const select = $<HTMLSelectElement>("#f-category");
  const keep = select.value;
  select.replaceChildren(new Option(t("stats.all"), ""));
  for (const cat of figure?.categories ?? []) select.append(new Option(catLabel(cat), cat));
  select.value = figure?.categories.includes(keep) ? keep : "";
}

function updateReportLink(): void {
  const params = filters();
  params.set("lang", lang);
  $<HTMLAnchorElement>("[data-report-link]").href = `/stats/report?${params}`;
}

let drawn = 0; // the latest refresh's ticket

async function refresh(): Promise<void> {
  say("console", t("stats.loading"), true);
  root.dataset.ready = "false";
  for (const chart of charts.splice(0)) chart.destroy();
  updateReportLink();
  // A period or filter chosen while the charts load starts another refresh: a late answer of
  // this one must not draw the old period over it (the page would show figures it does not say).
  const ticket = (drawn += 1);
  const current = (): boolean => ticket === drawn;
  await drawNotices();
  await drawMain(current);
  await drawMap(current);
  await drawOverview(current);
  if (!current()) return;
  say("console", "", true);
  root.dataset.ready = "true";
}

function setPeriod(hours: number): void {
  const end = new Date();
  end.setSeconds(0, 0);
  end.setMinutes(end.getMinutes() + 1);
  $<HTMLInputElement>("#f-to").value = localValue(end);
  $<HTMLInputElement>("#f-from").value = localValue(new Date(end.getTime() - hours * 3600000));
}

/** The first bucket (seconds) with anything counted in the probe figures, or null. */
async function firstActivity(from: Date, to: Date, grain: string): Promise<number | null> {
  const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), grain });
  const found = await Promise.all(PROBES.filter((name) => figures[name]).map(async (name) => {
    params.set("figure", name);
    const s = await api<Series>(`${API}/series?${params}`);
    const counts = Object.values(s.counts);
    const at = s.buckets.findIndex((_b, i) => counts.some((c) => (c[i] ?? 0) > 0));
    return at >= 0 ? (s.buckets[at] ?? null) : null;
  }));
  const seen = found.filter((v): v is number => v !== null);
  return seen.length ? Math.min(...seen) : null;
}

/** The default period fits the data (6 hours when nothing was counted in the last 30 days). */
async function fitPeriod(): Promise<void> {
  const end = new Date();
  end.setSeconds(0, 0);
  end.setMinutes(end.getMinutes() + 1);
  const start = await fittedStart(firstActivity, end);
  if (!start) { setPeriod(6); return; }
  $<HTMLInputElement>("#f-to").value = localValue(end);
  $<HTMLInputElement>("#f-from").value = localValue(start);
}

async function openConsole(): Promise<void> {
  $<HTMLElement>("[data-whoami]").textContent = `${t("stats.signed_in")} ${currentUser() ?? ""}`;
  try {
    const list = await api<Figure[]>(`${API}/figures`);
    figures = Object.fromEntries(list.map((f) => [f.name, f]));
    const select = $<HTMLSelectElement>("#f-figure");
    select.replaceChildren(...list.map((f) => new Option(lang === "en" ? f.en : f.fr, f.name)));
    select.value = "sos.created";
    fillCategories();
    if (!$<HTMLInputElement>("#f-from").value) await fitPeriod();
    await refresh();
  } catch (error) {
    if (error instanceof ApiFailure && (error.error.status === 401 || error.error.status === 403)) {
      staff.showLogin(failureText(error));
    } else say("console", failureText(error), false);
  }
}

const staff = mountStaffLogin({ root, roles: ["analyst", "admin"], onSignedIn: openConsole });
$<HTMLFormElement>('[data-form="filters"]').addEventListener("submit", (event) => {
  event.preventDefault();
  void refresh().catch((e: unknown) => say("console", failureText(e), false));
});
$<HTMLSelectElement>("#f-figure").addEventListener("change", fillCategories);
for (const button of root.querySelectorAll<HTMLButtonElement>("[data-preset]")) {
  button.addEventListener("click", () => {
    setPeriod(Number(button.dataset.preset));
    void refresh().catch((e: unknown) => say("console", failureText(e), false));
  });
}
$<HTMLButtonElement>('[data-action="fit"]').addEventListener("click", () => {
  void fitPeriod().then(refresh).catch((e: unknown) => say("console", failureText(e), false));
});
$<HTMLButtonElement>('[data-action="area-clear"]').addEventListener("click", () => {
  $<HTMLInputElement>("#f-area").value = "";
  showArea();
  void refresh().catch((e: unknown) => say("console", failureText(e), false));
});
$<HTMLButtonElement>('[data-action="map-csv"]').addEventListener("click", () => {
  void downloadCsv(`${API}/map`, query(mapFigure()), `${mapFigure()}-map`)
    .catch((e: unknown) => say("console", failureText(e), false));
});
// Anomaly notices are checked again every 30 seconds while the page is open.
window.setInterval(() => {
  if (currentToken() && !$<HTMLElement>('[data-view="console"]').hidden) {
    void drawNotices().catch(() => undefined);
  }
}, 30000);
