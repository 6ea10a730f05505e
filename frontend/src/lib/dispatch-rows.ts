/**
 * The SOS list of the console: filter, sort and group an incident's SOS into rows, and draw one
 * row. Rows are drawn only when in view (lib/dispatch-list.ts), so a row is small and built from
 * text nodes only.
 */
import type { Score } from "./dispatch-priority";
import { formatTime } from "./i18n";

/** One SOS as the console knows it: its point, and what it saw of the chat. */
export interface Sos {
  id: string; incident: string | null; lat: number; lon: number; situation: string;
  people: number | null; receivedAt: number; lastCitizenAt: number | null;
  lastDispatcherAt: number | null; unread: number; score: Score;
}
export type Row = { kind: "group"; label: string; ids: string[] } | { kind: "sos"; sos: Sos };
export interface View {
  situation: string; written: boolean; unread: boolean; sort: string; group: string;
}
type T = (key: string) => string;

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, text = "", className = ""):
  HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (text) el.textContent = text;
  if (className) el.className = className;
  return el;
}

/** The parts of a score in words: "Otages +50 · 3 personnes +10 · attend depuis 4 min +4". */
export function why(score: Score, t: T): string {
  return score.reasons.map((r) => `${t(r.key).replace("{n}", r.value ?? "")} +${r.points}`)
    .join(" · ");
}

function groupOf(sos: Sos, group: string, t: T): string {
  if (group === "situation") return t(`dispatch.situation.${sos.situation}`);
  if (group === "people") {
    const n = sos.people;
    return t(n === null ? "dispatch.people.unknown" : n >= 10 ? "dispatch.people.many"
      : n >= 2 ? "dispatch.people.some" : "dispatch.people.one");
  }
  return t(sos.lastCitizenAt !== null ? "dispatch.group.has_written" : "dispatch.group.silent");
}

export function arrange(all: Sos[], view: View, t: T): { rows: Row[]; shown: number } {
  let list = all;
  if (view.situation) list = list.filter((s) => s.situation === view.situation);
  if (view.written) list = list.filter((s) => s.lastCitizenAt !== null);
  if (view.unread) list = list.filter((s) => s.unread > 0);
  list.sort(view.sort === "message"
    ? (a, b) => (b.lastCitizenAt ?? 0) - (a.lastCitizenAt ?? 0) || b.score.points - a.score.points
    : view.sort === "newest" ? (a, b) => b.receivedAt - a.receivedAt
      : (a, b) => b.score.points - a.score.points || a.receivedAt - b.receivedAt);
  if (view.group === "none") return { rows: list.map((sos) => ({ kind: "sos", sos })), shown: list.length };
  // Groups come in the order of their first member: the most urgent one, the list being sorted.
  const groups = new Map<string, Sos[]>();
  for (const sos of list) {
    const key = groupOf(sos, view.group, t);
    const members = groups.get(key);
    if (members) members.push(sos);
    else groups.set(key, [sos]);
  }
  const rows: Row[] = [];
  for (const [label, members] of groups) {
    rows.push({ kind: "group", label, ids: members.map((s) => s.id) });
    for (const sos of members) rows.push({ kind: "sos", sos });
  }
  return { rows, shown: list.length };
}

/** SOS being chosen to split off: which are, and how a box changes that. */
export interface Picking {
  has(id: string): boolean;
  set(ids: string[], on: boolean): void;
}

function box(label: string, checked: boolean, change: (on: boolean) => void): HTMLInputElement {
  const input = element("input", "", "row-pick");
  input.type = "checkbox";
  input.checked = checked;
  input.setAttribute("aria-label", label);
  input.addEventListener("change", () => change(input.checked));
  return input;
}

export function renderRow(row: Row, ctx: { selectedSos: string | null; t: T;
  open: (id: string) => void; picking?: Picking | null }): HTMLElement {
  const { t, picking } = ctx;
  if (row.kind === "group") {
    const head = element("li", "", "sos-group");
    const text = element("span", `${row.label} (${row.ids.length})`);
    if (!picking) { head.append(text); return head; }
    // A whole group at once: "the hostages" split off in one tick, not 40.
    const all = row.ids.every((id) => picking.has(id));
    const label = element("label", "", "pick-label");
    label.append(box(t("dispatch.split_pick_group"), all, (on) => picking.set(row.ids, on)), text);
    head.append(label);
    return head;
  }
  const { sos } = row;
  const item = element("li", "", `sos-row band-${sos.score.band}`);
  if (picking) {
    item.classList.add("is-picking");
    item.append(box(t("dispatch.split_pick"), picking.has(sos.id), (on) => picking.set([sos.id], on)));
  }
  item.dataset.sosId = sos.id;
  item.setAttribute("aria-current", String(sos.id === ctx.selectedSos));
  if (sos.unread > 0) item.classList.add("is-unread");
  const open = element("button", "", "sos-row-btn");
  open.type = "button";
  open.title = why(sos.score, t);
  // Unread (●) and "has written" (✉) in front, in words too for screen readers (title).
  const flags = `${sos.unread > 0 ? "● " : ""}${sos.lastCitizenAt !== null ? "✉ " : ""}`;
  open.append(
    element("span", `P${sos.score.band} ${sos.score.points}`, "sos-score"),
    element("span", `${flags}${t(`dispatch.situation.${sos.situation}`)}` +
      `${sos.people ? ` · ${sos.people} ${t("dispatch.persons")}` : ""}`, "sos-what"),
    element("span", formatTime(new Date(sos.lastCitizenAt ?? sos.receivedAt)), "sos-when"),
  );
  open.addEventListener("click", () => ctx.open(sos.id));
  item.append(open);
  return item;
}
