/**
 * The cyber desk. Analysts: reports (opening one is audited, with a reason), indicators
 * (confirm, false positive, TLP), advisories (draft, review by a second analyst, publish,
 * revise). Organisations: their reports and their subscriptions to advisories.
 */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/cyber.css";
import { el, fieldError, say, selected } from "../lib/cyber";
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
  indicator_ids: number[];
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
/** The indicator ids of the report open in the detail box (marked again after a refresh). */
let linked: number[] = [];

/** The server's refusals an analyst meets in normal work, said in the page language. */
const KNOWN: Record<number, string> = { 403: "cyber.second_analyst", 409: "cyber.four_eyes" };

function fail(error: unknown, known: Record<number, string> = {}): void {
  const key = error instanceof ApiFailure ? known[error.error.status] : undefined;
  say(status(), key ? t(key)
    : `${t("cyber.error")}: ${error instanceof ApiFailure ? error.message : String(error)}`, false);
}

function button(text: string, style: string, action: () => Promise<unknown>): HTMLButtonElement {
  const b = el("button", `btn ${style}`, text);
  b.type = "button";
  b.addEventListener("click", () => {
    void action().then(refresh, (e: unknown) => fail(e, KNOWN));
  });
  return b;
}

function row(body: HTMLTableSectionElement, cells: (string | Node)[]): HTMLTableRowElement {
  const tr = body.insertRow();
  // Each cell carries its column's name: on a phone the rows become cards that say it.
  const heads = Array.from(body.parentElement?.querySelectorAll("thead th") ?? []);
  cells.forEach((c, i) => {
    const td = tr.insertCell();
    if (cells.length > 1 && heads[i]?.textContent) td.dataset.label = heads[i].textContent ?? "";
    td.append(c);
  });
  return tr;
}

function show(view: "analyst" | "organisation"): void {
  $<HTMLElement>('[data-view="analyst"]').hidden = view !== "analyst";
  $<HTMLElement>('[data-view="organisation"]').hidden = view !== "organisation";
}

/** Mark the indicators a report names in the indicators table; return their rows. */
function markLinked(ids: number[]): HTMLTableRowElement[] {
  const rows: HTMLTableRowElement[] = [];
  for (const tr of root.querySelectorAll<HTMLTableRowElement>('[data-table="indicators"] tr')) {
    const linked = ids.includes(Number(tr.dataset.indicatorId));
    tr.classList.toggle("is-linked", linked);
    if (linked) rows.push(tr);
  }
  return rows;
}

let detailAsked = 0; // the latest report read's ticket
let listAsked = 0; // the latest read of the report list's ticket

async function openIncident(incident: Incident, reasonInput: HTMLInputElement): Promise<void> {
  // The reason is audited with the read: ask for it here rather than let the API refuse it.
  const reason = reasonInput.value.trim();
  if (reason.length < 3) {
    fieldError(reasonInput, t("cyber.reason_needed"));
    reasonInput.focus();
    return;
  }
  const ticket = (detailAsked += 1);
  const d = await api<IncidentDetail>(
    `${API}/incidents/${incident.id}?reason=${encodeURIComponent(reason)}`);
  // Another report opened meanwhile: it is the one in view (and its indicators the ones marked).
  if (ticket !== detailAsked) return;
  const box = $<HTMLElement>('[data-detail="incident"]');
  const contact = d.contact ? [d.contact.name, d.contact.email, d.contact.phone]
    .filter(Boolean).join(" · ") : (d.reporter ?? "");
  box.replaceChildren(el("h3", "", `${t(`cyber.type.${d.incident_type}`)} · ${t(`cyber.region.${d.region}`)}`),
    el("p", "", contact), el("p", "", d.description ?? ""));
  if (d.evidence_files.length) {
    const list = el("ul");
    for (const f of d.evidence_files) list.append(el("li", "", `${f.filename} (${f.media_type}, ${f.size} o)`));
    box.append(el("p", "", t("cyber.evidence")), list);
  }
  // The report's indicators: each a link to its row (confirm or dismiss it there).
  linked = d.indicator_ids;
  const rows = markLinked(linked);
  box.append(el("p", "", `${t("cyber.linked_indicators")} (${d.indicator_ids.length})`));
  const links = el("ul", "cyber-links");
  links.dataset.list = "linked";
  for (const tr of rows) {
    const go = el("button", "btn btn-secondary btn-small", tr.dataset.indicator ?? "");
    go.type = "button";
    go.addEventListener("click", () => {
      tr.scrollIntoView({ block: "center" });
      tr.querySelector<HTMLButtonElement>("button")?.focus({ preventScroll: true });
    });
    const li = el("li");
    li.append(go);
    links.append(li);
  }
  if (!rows.length) links.append(el("li", "", t("cyber.no_linked")));
  box.append(links);
  box.dataset.openIncident = d.id;
  box.hidden = false;
}

/** The next steps of a report's triage: new -> triaged -> closed, and closed can be reopened. */
const NEXT: Record<string, [string, string][]> = {
  new: [["triaged", "cyber.triage"], ["closed", "cyber.close"]],
  triaged: [["closed", "cyber.close"]],
  closed: [["new", "cyber.reopen"]],
};

async function loadIncidents(): Promise<void> {
  const only = $<HTMLSelectElement>('[data-filter="incident-status"]').value;
  const ticket = (listAsked += 1);
  const rows = await api<Incident[]>(`${API}/incidents${only ? `?status=${only}` : ""}`);
  // The filter changed (or a refresh was asked) meanwhile: the later list is the one to show.
  if (ticket !== listAsked) return;
  const body = $<HTMLTableSectionElement>('[data-table="incidents"]');
  body.replaceChildren();
  if (!rows.length) row(body, [t("cyber.no_incidents")]);
  for (const r of rows) {
    const reason = el("input");
    reason.name = `reason-${r.id}`;
    reason.minLength = 3;
    reason.placeholder = t("cyber.reason_prompt");
    reason.setAttribute("aria-label", t("cyber.reason_prompt"));
    reason.maxLength = 300;
    const open = el("button", "btn btn-secondary", t("cyber.open"));
    open.type = "button";
    open.addEventListener("click", () => {
      void openIncident(r, reason).catch((e: unknown) => fail(e));
    });
    const opening = el("div", "cyber-open");
    opening.append(reason, open);
    const actions = el("div", "cyber-actions");
    actions.append(opening);
    for (const [next, label] of NEXT[r.status] ?? []) {
      const step = button(t(label), "btn-secondary btn-small", () => api(`${API}/incidents/${r.id}`, {
        method: "PATCH", body: JSON.stringify({ status: next }),
      }));
      step.dataset.status = next;
      actions.append(step);
    }
    const tr = row(body, [dateFormat.format(new Date(r.created_at)), t(`cyber.type.${r.incident_type}`),
      t(`cyber.sector.${r.sector}`), t(`cyber.region.${r.region}`), r.reporter ?? t("cyber.anonymous"),
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
    const tr = row(body, [t(`cyber.kind.${r.kind}`), el("code", "", r.value), `${r.count}×`,
      el("span", `tlp tlp-${r.tlp}`, `TLP:${r.tlp.toUpperCase()}`), t(`cyber.status.${r.status}`),
      actions]);
    tr.dataset.indicator = r.value;
    tr.dataset.indicatorId = String(r.id);
  }
  const opened = $<HTMLElement>('[data-detail="incident"]');
  if (!opened.hidden) markLinked(linked);
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
    `${s.sectors.map((x) => t(`cyber.sector.${x}`)).join(", ") || "*"} · ${s.regions.map((x) => t(`cyber.region.${x}`)).join(", ") || "*"}`)));
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
  $<HTMLElement>("[data-whoami]").textContent =
    `${t("cyber.signed_in")} ${currentUser() ?? ""} · ${t(`cyber.role.${role ?? ""}`)}`;
}

$<HTMLButtonElement>('[data-action="refresh"]').addEventListener("click", () => {
  void refresh().catch((e: unknown) => fail(e));
});
$<HTMLSelectElement>('[data-filter="incident-status"]').addEventListener("change", () => {
  void loadIncidents().catch((e: unknown) => fail(e));
});

$<HTMLFormElement>('[data-form="indicator"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const data = new FormData(form);
  const share = String(data.get("share_with") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const value = form.elements.namedItem("value") as HTMLInputElement;
  const partners = form.elements.namedItem("share_with") as HTMLInputElement;
  void api(`${API}/indicators`, { method: "POST", body: JSON.stringify({
    value: data.get("value"), tlp: data.get("tlp"), share_with: share,
  }) }).then(() => { form.reset(); say(status(), t("cyber.saved"), true); return refresh(); },
  (error: unknown) => {
    // A refused value or partner is said next to its own field, in the page language.
    if (error instanceof ApiFailure && error.error.status === 422) {
      const partner = error.message.startsWith("not partner accounts");
      fieldError(partner ? partners : value, partner
        ? `${t("cyber.bad_partners")} ${error.message.split(":").slice(1).join(":").trim()}`
        : t("cyber.bad_indicator"));
      say(status(), "", true);
    } else {
      fail(error);
    }
  });
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
  }, (e: unknown) => fail(e));
});

$<HTMLFormElement>('[data-form="subscribe"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const body = { sectors: selected($("#sub-sectors")), regions: selected($("#sub-regions")),
    email: (form.elements.namedItem("email") as HTMLInputElement).value };
  void api(`${API}/subscriptions`, { method: "POST", body: JSON.stringify(body) }).then(() => {
    say(status(), t("cyber.subscribed"), true);
    return refresh();
  }, (e: unknown) => fail(e));
});

const staff = mountStaffLogin({
  root, roles: ["analyst", "organisation"],
  onSignedIn: () => refresh().catch((error: unknown) => staff.showLogin(
    error instanceof ApiFailure ? error.message : String(error))),
});
