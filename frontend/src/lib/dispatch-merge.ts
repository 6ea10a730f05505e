/**
 * Merge and split in the console.
 *
 * Merge: from an open incident's detail, "Fusionner avec…" lists the other open incidents,
 * nearest first (two groups of calls 150 m apart are usually one event), each with its priority,
 * size and units; the dispatcher ticks one or more, confirms in a second step (their units are
 * released, which is not undone by a split), and the picked incidents fold into this one.
 *
 * Split: "Séparer des SOS…" puts a box on each SOS row and group header of this incident; the
 * ticked SOS become a new incident, offered to the nearest unit by the server. At least one SOS
 * must stay, as the API requires; the button says so before the server has to.
 *
 * Both only exist on an open incident (the detail hides them otherwise), and a refusal is said
 * in the page language next to the action (lib/dispatch-types.ts `refusal`).
 */
import { band } from "./dispatch-priority";
import { type Picking, element } from "./dispatch-rows";
import type { SosStore } from "./dispatch-store";
import { unitsOn } from "./dispatch-queue";
import { type Ctx, type Incident, type IncidentDetail, km, metres, refusal } from "./dispatch-types";
import { formatTime } from "./i18n";
import { api } from "./staff";

export interface MergeHost {
  ctx: Ctx;
  store: SosStore;
  unitNames: Map<string, string>;
  /** The selected incident as last read, or null. */
  detail(): IncidentDetail | null;
  /** The open incidents of the queue. */
  incidents(): Incident[];
  score(incident: Incident): number;
  /** Re-read the queue and the detail after a change (the stream also announces it). */
  changed(): Promise<void>;
  redraw(): void;
  select(id: string): Promise<void>;
  /** Draw the link from the target to the ticked incidents on the map (none: clear it). */
  showOnMap(target: Incident | null, picked: Incident[]): void;
}

export class MergeSplit implements Picking {
  private readonly sources = new Set<string>();
  private confirming = false;
  private shownCandidates = "";
  private splitting = false;
  private readonly chosen = new Set<string>();

  constructor(private readonly host: MergeHost) {
    const { $ } = host.ctx;
    $<HTMLButtonElement>('[data-action="merge"]').addEventListener("click", () => this.toggleMerge());
    $<HTMLButtonElement>('[data-action="merge-cancel"]').addEventListener("click", () => this.closeMerge());
    $<HTMLFormElement>('[data-form="merge"]').addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submitMerge();
    });
    $<HTMLButtonElement>('[data-action="split"]').addEventListener("click", () => this.toggleSplit());
    $<HTMLButtonElement>('[data-action="split-cancel"]').addEventListener("click", () => this.closeSplit());
    $<HTMLButtonElement>("[data-split-submit]").addEventListener("click", () => void this.submitSplit());
  }

  /** Another incident picked, or this one closed: nothing chosen carries over. */
  reset(): void {
    this.closeMerge();
    this.closeSplit();
    this.host.ctx.say("split-done", "");
    this.host.ctx.$<HTMLElement>("[data-split-open]").hidden = true;
  }

  /** The boxes on the SOS rows, while splitting. */
  picking(): Picking | null {
    return this.splitting ? this : null;
  }

  has(id: string): boolean {
    return this.chosen.has(id);
  }

  set(ids: string[], on: boolean): void {
    for (const id of ids) if (on) this.chosen.add(id); else this.chosen.delete(id);
    this.host.ctx.say("split", "");
    this.host.redraw();
  }

  /** After each redraw: follow SOS and incidents that moved or went away. */
  refresh(): void {
    const detail = this.host.detail();
    if (this.splitting && detail) {
      for (const id of [...this.chosen]) {
        if (this.host.store.get(id)?.incident !== detail.id) this.chosen.delete(id);
      }
      this.drawSplitBar(detail);
    }
    if (this.isMerging()) this.drawPicker(false);
  }

  // --- merge --------------------------------------------------------------------------------

  private isMerging(): boolean {
    return !this.host.ctx.$<HTMLFormElement>('[data-form="merge"]').hidden;
  }

  private toggleMerge(): void {
    if (this.isMerging()) { this.closeMerge(); return; }
    this.closeSplit();
    const { $ } = this.host.ctx;
    $<HTMLFormElement>('[data-form="merge"]').hidden = false;
    $<HTMLButtonElement>('[data-action="merge"]').setAttribute("aria-expanded", "true");
    $<HTMLElement>("[data-detail]").classList.add("is-merging");
    this.host.ctx.say("detail", "");
    this.drawPicker(true);
  }

  private closeMerge(): void {
    const { $, say } = this.host.ctx;
    this.sources.clear();
    this.confirming = false;
    this.shownCandidates = "";
    $<HTMLFormElement>('[data-form="merge"]').hidden = true;
    $<HTMLButtonElement>('[data-action="merge"]').setAttribute("aria-expanded", "false");
    $<HTMLElement>("[data-detail]").classList.remove("is-merging");
    say("merge", "");
    this.host.showOnMap(null, []);
  }

  private drawOnMap(): void {
    const picked = this.host.incidents().filter((i) => this.sources.has(i.id));
    this.host.showOnMap(this.host.detail(), picked);
  }

  private candidates(target: IncidentDetail): { incident: Incident; distance: number }[] {
    return this.host.incidents().filter((i) => i.id !== target.id && i.status === "open")
      .map((incident) => ({ incident,
        distance: metres(target.lat, target.lon, incident.lat, incident.lon) }))
      .sort((a, b) => a.distance - b.distance);
  }

  private drawPicker(force: boolean): void {
    const { t, $ } = this.host.ctx;
    const target = this.host.detail();
    if (!target) return;
    const found = this.candidates(target);
    const open = new Set(found.map((c) => c.incident.id));
    const before = this.sources.size;
    for (const id of [...this.sources]) if (!open.has(id)) this.sources.delete(id);
    if (this.sources.size !== before) this.drawOnMap();
    // Rebuilt only when the candidates change, so a box being ticked keeps its focus.
    const shape = found.map((c) => `${c.incident.id}:${c.incident.sos_count}`).join(",");
    if (force || shape !== this.shownCandidates) {
      this.shownCandidates = shape;
      const list = $<HTMLUListElement>("[data-merge-list]");
      list.replaceChildren(...(found.length === 0
        ? [element("li", t("dispatch.merge_none"), "merge-none")]
        : found.map(({ incident, distance }) => this.candidate(incident, distance))));
    }
    this.drawMergeButton();
  }

  private candidate(incident: Incident, distance: number): HTMLElement {
    const { t } = this.host.ctx;
    const score = this.host.score(incident);
    const item = element("li", "", `merge-item band-${band(score)}`);
    item.dataset.candidateId = incident.id;
    const label = element("label", "", "pick-label");
    const input = element("input");
    input.type = "checkbox";
    input.checked = this.sources.has(incident.id);
    input.addEventListener("change", () => {
      if (input.checked) this.sources.add(incident.id); else this.sources.delete(incident.id);
      this.confirming = false;
      this.host.ctx.say("merge", "");
      this.drawMergeButton();
      this.drawOnMap();
    });
    const what = element("span", "", "merge-what");
    what.append(
      element("strong", `${km(distance)} · P${band(score)} · ` +
        `${t(`dispatch.situation.${incident.situation}`)} · ${incident.sos_count} SOS`),
      element("span", `${t("dispatch.opened")} ${formatTime(new Date(incident.opened_at))} · ` +
        unitsOn(incident, this.host.unitNames, t), "merge-line"),
    );
    label.append(input, what);
    item.append(label);
    return item;
  }

  private drawMergeButton(): void {
    const { t, $ } = this.host.ctx;
    const submit = $<HTMLButtonElement>("[data-merge-submit]");
    const confirm = $<HTMLElement>("[data-merge-confirm]");
    submit.disabled = this.sources.size === 0;
    if (this.confirming && this.sources.size > 0) {
      const sos = this.host.incidents().filter((i) => this.sources.has(i.id))
        .reduce((n, i) => n + i.sos_count, 0);
      confirm.textContent = t(this.sources.size === 1 ? "dispatch.merge_confirm_one"
        : "dispatch.merge_confirm_many").replace("{n}", String(this.sources.size))
        .replace("{sos}", String(sos));
      confirm.hidden = false;
      submit.textContent = t("dispatch.merge_do");
    } else {
      this.confirming = false;
      confirm.hidden = true;
      submit.textContent = t("dispatch.merge_submit").replace("{n}", String(this.sources.size));
    }
  }

  private async submitMerge(): Promise<void> {
    const { t, say } = this.host.ctx;
    const target = this.host.detail();
    if (!target || this.sources.size === 0) return;
    if (!this.confirming) {
      this.confirming = true;
      this.drawMergeButton();
      return;
    }
    try {
      const merged = await api<Incident>("/api/v1/dispatch/incidents/merge", {
        method: "POST",
        body: JSON.stringify({ target_id: target.id, source_ids: [...this.sources] }),
      });
      this.closeMerge();
      say("detail", t("dispatch.merge_done").replace("{sos}", String(merged.sos_count)));
    } catch (error) {
      this.confirming = false;
      say("merge", refusal(error, t, "merge"));
    }
    await this.host.changed().catch(() => undefined);
  }

  // --- split --------------------------------------------------------------------------------

  private toggleSplit(): void {
    if (this.splitting) { this.closeSplit(); return; }
    this.closeMerge();
    this.splitting = true;
    const { $ } = this.host.ctx;
    $<HTMLElement>("[data-split-bar]").hidden = false;
    $<HTMLButtonElement>('[data-action="split"]').setAttribute("aria-pressed", "true");
    $<HTMLElement>("[data-detail]").classList.add("is-splitting");
    this.host.ctx.say("detail", "");
    this.host.ctx.say("split-done", "");
    $<HTMLElement>("[data-split-open]").hidden = true;
    const detail = this.host.detail();
    if (detail) this.drawSplitBar(detail);
    this.host.redraw();
  }

  private closeSplit(): void {
    const { $, say } = this.host.ctx;
    const was = this.splitting;
    this.splitting = false;
    this.chosen.clear();
    $<HTMLElement>("[data-split-bar]").hidden = true;
    $<HTMLButtonElement>('[data-action="split"]').setAttribute("aria-pressed", "false");
    $<HTMLElement>("[data-detail]").classList.remove("is-splitting");
    say("split", "");
    if (was) this.host.redraw();
  }

  private drawSplitBar(detail: IncidentDetail): void {
    const { t, $ } = this.host.ctx;
    const n = this.chosen.size;
    const total = this.host.store.of(detail.id).length;
    $<HTMLElement>("[data-split-count]").textContent = n === 0 ? t("dispatch.split_count_none")
      : t(n === 1 ? "dispatch.split_count_one" : "dispatch.split_count_many").replace("{n}", String(n));
    const all = n > 0 && n >= total;
    $<HTMLElement>("[data-split-keep]").hidden = !all;
    $<HTMLButtonElement>("[data-split-submit]").disabled = n === 0 || all;
  }

  private async submitSplit(): Promise<void> {
    const { t, $, say } = this.host.ctx;
    const detail = this.host.detail();
    if (!detail || this.chosen.size === 0) return;
    try {
      const made = await api<Incident>(`/api/v1/dispatch/incidents/${detail.id}/split`, {
        method: "POST", body: JSON.stringify({ sos_ids: [...this.chosen] }),
      });
      this.closeSplit();
      say("split-done", t("dispatch.split_done").replace("{n}", String(made.sos_count)));
      const go = $<HTMLButtonElement>("[data-split-open]");
      go.hidden = false;
      go.onclick = () => void this.host.select(made.id);
    } catch (error) {
      say("split", refusal(error, t, "split"));
    }
    await this.host.changed().catch(() => undefined);
  }
}
