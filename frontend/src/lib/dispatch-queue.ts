/**
 * The incident queue of the console: incidents ranked by their computed priority (then age),
 * with who is on them and the callers who wrote; SOS sent "position unknown" first, to ask the
 * caller where they are before any map work.
 */
import { band } from "./dispatch-priority";
import { element } from "./dispatch-rows";
import type { SosStore } from "./dispatch-store";
import { type Ctx, type Incident, LIVE, type Unlocated } from "./dispatch-types";
import { formatTime } from "./i18n";

export interface QueueView {
  incidents: Incident[];
  unlocated: Unlocated[];
  store: SosStore;
  selected: string | null;
  unitNames: Map<string, string>;
  select(id: string): void;
  openSos(id: string): void;
}

/** "PS-75-11 (engagée), BAC-75N (sollicitée)", or "sans unité". */
export function unitsOn(incident: Incident, names: Map<string, string>, t: Ctx["t"]): string {
  const live = incident.assignments.filter((a) => LIVE.includes(a.status));
  return live.length
    ? live.map((a) => `${names.get(a.unit_id) ?? "?"} (${t(`dispatch.status.${a.status}`)})`).join(", ")
    : t("dispatch.unassigned");
}

function onPick(item: HTMLElement, pick: () => void): void {
  item.tabIndex = 0;
  item.addEventListener("click", pick);
  item.addEventListener("keydown", (e) => { if (e.key === "Enter") pick(); });
}

export function drawQueue(ctx: Ctx, view: QueueView): void {
  const { t } = ctx;
  const situation = (code: string): string => t(`dispatch.situation.${code}`);
  const ranked = view.incidents.map((i) => ({ i, score: view.store.incidentScore(i) }))
    .sort((a, b) => b.score - a.score || a.i.opened_at.localeCompare(b.i.opened_at));
  const items: HTMLElement[] = [];
  for (const { i: incident, score } of ranked) {
    const { written, unread } = view.store.counts(incident.id);
    const item = element("li", "", `queue-item band-${band(score)}`);
    item.dataset.incidentId = incident.id;
    item.dataset.score = String(score);
    item.setAttribute("aria-current", String(incident.id === view.selected));
    const head = element("strong",
      `P${band(score)} · ${situation(incident.situation)} · ${incident.sos_count} ${t("dispatch.sos_count")}`);
    const line = element("span", `${t("dispatch.opened")} ${formatTime(new Date(incident.opened_at))}` +
      ` · ${unitsOn(incident, view.unitNames, t)}`, "queue-line");
    item.append(head, line);
    if (written > 0) item.append(element("span", `✉ ${written}`, "badge badge-written"));
    if (unread > 0) item.append(element("span", `${unread} ${t("dispatch.unread")}`, "badge badge-unread"));
    onPick(item, () => view.select(incident.id));
    items.push(item);
  }
  for (const sos of view.unlocated) {
    const item = element("li", "", "queue-item queue-unlocated band-1");
    item.dataset.unlocated = sos.sos_id;
    item.append(
      element("strong", `${t("dispatch.unlocated")} · ${situation(sos.situation)}` +
        `${sos.people ? ` · ${sos.people} ${t("dispatch.persons")}` : ""}`),
      element("span", `${t("dispatch.received")} ${formatTime(new Date(sos.received_at))} · ` +
        t("dispatch.ask_where"), "queue-line"),
    );
    onPick(item, () => view.openSos(sos.sos_id));
    items.unshift(item);
  }
  if (items.length === 0) items.push(element("li", t("dispatch.empty_queue"), "queue-empty"));
  ctx.$<HTMLOListElement>("[data-queue]").replaceChildren(...items);
}
