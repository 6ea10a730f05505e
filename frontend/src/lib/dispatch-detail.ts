/**
 * The incident detail's text: its summary, who is on it (distance, ETA), what a closed or merged
 * incident still says, and the list of proposed units with their "Engager" buttons.
 */
import { element } from "./dispatch-rows";
import { type Ctx, type IncidentDetail, LIVE, type Proposal, km, minutes } from "./dispatch-types";

/** Draw the detail; `openTarget` opens the incident a merged one went into. */
export function showDetail(ctx: Ctx, detail: IncidentDetail, unitNames: Map<string, string>,
  openTarget: (id: string) => void): void {
  const { t, $ } = ctx;
  const status = (code: string): string => t(`dispatch.status.${code}`);
  const open = detail.status === "open";
  $<HTMLElement>("[data-detail-summary]").textContent =
    `${t(`dispatch.situation.${detail.situation}`)} · ${detail.sos_count} ` +
    `${t("dispatch.sos_count")} · ${status(detail.status)}`;
  // A closed or merged incident is history: nothing left to decide on it.
  $<HTMLElement>("[data-actions]").hidden = !open;
  const closed = $<HTMLElement>("[data-detail-closed]");
  closed.hidden = open;
  closed.textContent =
    t(detail.status === "merged" ? "dispatch.merged_no_action" : "dispatch.closed_no_action");
  // One SOS cannot be split: the API keeps at least one in the incident.
  $<HTMLButtonElement>('[data-action="split"]').hidden = detail.sos_count < 2;
  const into = $<HTMLButtonElement>("[data-open-target]");
  const target = detail.merged_into;
  into.hidden = !target;
  into.onclick = target ? () => openTarget(target) : null;
  const live = detail.assignments.filter((a) => LIVE.includes(a.status));
  $<HTMLElement>("[data-detail-units]").textContent = live.length
    ? live.map((a) => `${unitNames.get(a.unit_id) ?? "?"} (${status(a.status)}) · ` +
      `${km(a.distance_m)} · ${t("dispatch.eta")} ${minutes(a.eta_s)}`).join(" ; ")
    : t("dispatch.unassigned");
}

/** The nearest available units, each with a button that gives it the incident. */
export function showProposals(ctx: Ctx, proposals: Proposal[], assign: (unitId: string) => void): void {
  const { t, $ } = ctx;
  $<HTMLUListElement>("[data-proposals]").replaceChildren(...(proposals.length === 0
    ? [element("li", t("dispatch.no_unit"))]
    : proposals.map((p) => {
      const item = element("li",
        `${p.callsign} · ${km(p.distance_m)} · ${t("dispatch.eta")} ${minutes(p.eta_s)} `);
      const go = element("button", t("dispatch.assign"), "btn btn-small");
      go.type = "button";
      go.addEventListener("click", () => assign(p.unit_id));
      item.append(go);
      return item;
    })));
}
