/**
 * The cyber desk. Analysts: reports (opening one is audited, with a reason), indicators
 * (confirm, false positive, TLP), advisories (draft, review by a second analyst, publish,
 * revise). Organisations: their reports and their subscriptions to advisories.
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/cyber.css";
import { el, say, selected } from "../lib/cyber";
import { messagesFrom, pageLang } from "../lib/i18n";
import { ApiFailure, api, currentRole, currentUser, mountStaffLogin } from "../lib/staff";

interface Incident {
  id: string; incident_type: string; sector: string; region: string; impact: string;
  status: string; anonymous: boolean; reporter: string | null; created_at: string;
  evidence: number;
}
interface IncidentDetail extends Incident {
  description: string | null;
  contact: { name?: string; email?: string; phone?: string } | null;
  evidence_files: { id: number; filename: string; media_type: string; size: number }[];
}
interface Indicator {
  id: number; kind: string; value: string; count: number; status: string; tlp: string;
  last_seen_at: string; share_with: string[];
}
interface Version { version: number; title: string; author: string; severity: string; tlp: string }
interface Advisory {
  id: string; state: string; in_review: boolean; published_version: number | null;
  draft_version: number | null; current: Version; draft: Version | null;
}
interface Subscription { id: string; sectors: string[]; regions: string[] }

const API = "/api/v1/cyber";
const root = document.getElementById("cyber-app") as HTMLElement;
const t = messagesFrom(root);
const $ = <E extends Element>(selector: string): E => root.querySelector(selector) as E;
const dateFormat = new Intl.DateTimeFormat(pageLang() === "en" ? "en-GB" : "fr-FR", {
  dateStyle: "short", timeStyle: "short",
});
const status = (): HTMLElement => $('[data-message="console"]');

function fail(error: unknown): void {
  say(status(), `${t("cyber.error")}: ${error instanceof ApiFailure ? error.message : String(error)}`,
    false);
}

function button(text: string, style: string, action: () => Promise<unknown>): HTMLButtonElement {
  const b = el("button", `btn ${style}`, text);
  b.type = "button";
  b.addEventListener("click", () => { void action().then(refresh, fail); });
  return b;
}

function row(body: HTMLTableSectionElement, cells: (string | Node)[]): HTMLTableRowElement {
  const tr = body.insertRow();
  for (const c of cells) tr.insertCell().append(c);
  return tr;
}

function show(view: "analyst" | "organisation"): void {
  $<HTMLElement>('[data-view="analyst"]').hidden = view !== "analyst";
  $<HTMLElement>('[data-view="organisation"]').hidden = view !== "organisation";
}

async function openIncident(incident: Incident, reason: string): Promise<void> {
  const d = await api<IncidentDetail>(
    `${API}/incidents/${incident.id}?reason=${encodeURIComponent(reason)}`);
  const box = $<HTMLElement>('[data-detail="incident"]');
  const contact = d.contact ? [d.contact.name, d.contact.email, d.contact.phone]
    .filter(Boolean).join(" · ") : (d.reporter ?? "");
  box.replaceChildren(el("h3", "", `${t(`cyber.type.${d.incident_type}`)} · ${d.region}`),
    el("p", "", contact), el("p", "", d.description ?? ""));
  if (d.evidence_files.length) {
    const list = el("ul");
    for (const f of d.evidence_files) list.append(el("li", "", `${f.filename} (${f.media_type}, ${f.size} o)`));
    box.append(el("p", "", t("cyber.evidence")), list);
  }
  box.hidden = false;
}

async function loadIncidents(): Promise<void> {
  const rows = await api<Incident[]>(`${API}/incidents`);
  const body = $<HTMLTableSectionElement>('[data-table="incidents"]');
  body.replaceChildren();
  if (!rows.length) row(body, [t("cyber.no_incidents")]);
  for (const r of rows) {
    const reason = el("input");
    reason.placeholder = t("cyber.reason_prompt");
    reason.setAttribute("aria-label", t("cyber.reason_prompt"));
    reason.maxLength = 300;
    const open = el("button", "btn btn-secondary", t("cyber.open"));
    open.type = "button";
    open.addEventListener("click", () => {
      void openIncident(r, reason.value.trim() || "").catch(fail);
    });
    const actions = el("div", "cyber-actions");
    actions.append(reason, open);
    const tr = row(body, [dateFormat.format(new Date(r.created_at)), t(`cyber.type.${r.incident_type}`),
      t(`cyber.sector.${r.sector}`), r.region, r.reporter ?? t("cyber.anonymous"),
      t(`cyber.status.${r.status}`), actions]);
    tr.dataset.incident = r.id;
  }
}

async function loadIndicators(): Promise<void> {
  const rows = await api<Indicator[]>(`${API}/indicators`);
  const body = $<HTMLTableSectionElement>('[data-table="indicators"]');
  body.replaceChildren();
  if (!rows.length) row(body, [t("cyber.no_indicators")]);
  for (const r of rows) {
    const actions = el("div", "cyber-actions");
    const patch = (change: Record<string, unknown>) => () =>
      api(`${API}/indicators/${r.id}`, { method: "PATCH", body: JSON.stringify(change) });
    if (r.status !== "confirmed") actions.append(button(t("cyber.confirm"), "", patch({ status: "confirmed" })));
    if (r.status !== "false_positive") {
      actions.append(button(t("cyber.false_positive"), "btn-danger", patch({ status: "false_positive" })));
    }
    const tr = row(body, [r.kind, el("code", "", r.value), `${t("cyber.seen")} ${r.count}×`,
      el("span", `tlp tlp-${r.tlp}`, `TLP:${r.tlp.toUpperCase()}`), t(`cyber.status.${r.status}`),
      actions]);
    tr.dataset.indicator = r.value;
  }
}

function advisoryCard(a: Advisory): HTMLElement {
  const card = el("article", "panel cyber-advisory");
  card.dataset.advisory = a.id;
  const v = a.draft ?? a.current;
  const state = a.in_review ? t("cyber.in_review")
    : a.draft && a.published_version ? t("cyber.draft_pending") : t(`cyber.state.${a.state}`);
  card.append(el("h3", "", v.title), el("p", "cyber-meta", `${state} · v${v.version} · ${v.author}`));
  const actions = el("div", "cyber-actions");
  const post = (path: string) => () => api(`${API}/advisories/${a.id}/${path}`, {
    method: "POST", body: JSON.stringify({}),
  });
  if (a.draft && !a.in_review) actions.append(button(t("cyber.submit_review"), "", post("submit")));
  if (a.in_review) {
    actions.append(button(t("cyber.approve"), "", post("approve")),
      button(t("cyber.send_back"), "btn-secondary", post("send-back")));
  }
  card.append(actions);
  return card;
}

async function loadAdvisories(): Promise<void> {
  const rows = await api<Advisory[]>(`${API}/advisories`);
  const list = $<HTMLElement>('[data-list="advisories"]');
  list.replaceChildren(...(rows.length ? rows.map(advisoryCard) : [el("p", "", t("cyber.no_advisories"))]));
}

async function loadOrganisation(): Promise<void> {
  const mine = await api<Incident[]>(`${API}/incidents/mine`);
  const body = $<HTMLTableSectionElement>('[data-table="mine"]');
  body.replaceChildren();
  if (!mine.length) row(body, [t("cyber.no_reports")]);
  for (const r of mine) {
    row(body, [dateFormat.format(new Date(r.created_at)), t(`cyber.type.${r.incident_type}`),
      t(`cyber.status.${r.status}`), r.id]);
  }
  const subs = await api<Subscription[]>(`${API}/subscriptions`);
  $<HTMLElement>('[data-list="subscriptions"]').replaceChildren(...subs.map((s) => el("li", "",
    `${s.sectors.map((x) => t(`cyber.sector.${x}`)).join(", ") || "*"} · ${s.regions.join(", ") || "*"}`)));
}

async function refresh(): Promise<void> {
  const role = currentRole();
  if (role === "analyst") {
    show("analyst");
    await Promise.all([loadIncidents(), loadIndicators(), loadAdvisories()]);
  } else if (role === "organisation") {
    show("organisation");
    await loadOrganisation();
  }
  $<HTMLElement>("[data-whoami]").textContent = currentUser() ?? "";
}

$<HTMLButtonElement>('[data-action="refresh"]').addEventListener("click", () => { void refresh().catch(fail); });

$<HTMLFormElement>('[data-form="indicator"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const data = new FormData(form);
  const share = String(data.get("share_with") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  void api(`${API}/indicators`, { method: "POST", body: JSON.stringify({
    value: data.get("value"), tlp: data.get("tlp"), share_with: share,
  }) }).then(() => { form.reset(); say(status(), t("cyber.saved"), true); return refresh(); }, fail);
});

$<HTMLFormElement>('[data-form="advisory"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const data = new FormData(form);
  const body = {
    title: data.get("title"), summary: data.get("summary"), exposed: data.get("exposed"),
    actions: data.get("actions"), severity: data.get("severity"), tlp: data.get("tlp"),
    sectors: selected($("#adv-sectors")), regions: selected($("#adv-regions")),
  };
  void api(`${API}/advisories`, { method: "POST", body: JSON.stringify(body) }).then(() => {
    form.reset();
    say(status(), t("cyber.saved"), true);
    return refresh();
  }, fail);
});

$<HTMLFormElement>('[data-form="subscribe"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const body = { sectors: selected($("#sub-sectors")), regions: selected($("#sub-regions")),
    email: (form.elements.namedItem("email") as HTMLInputElement).value };
  void api(`${API}/subscriptions`, { method: "POST", body: JSON.stringify(body) }).then(() => {
    say(status(), t("cyber.subscribed"), true);
    return refresh();
  }, fail);
});

const staff = mountStaffLogin({
  root, roles: ["analyst", "organisation"],
  onSignedIn: () => refresh().catch((error: unknown) => staff.showLogin(
    error instanceof ApiFailure ? error.message : String(error))),
});
