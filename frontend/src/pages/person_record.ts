/**
 * One missing person's record (`/persons/record?id=…`): the person, the notes of every record
 * linked to it as the same person (oldest first), the status history, the last known location
 * (a small map when the text holds a position), the photo.
 *
 * Public data only (the view API returns no contact details). A reviewer signed in in this tab
 * (moderator, authority, admin: the roles the duplicate routes admit) also sees the proposed
 * duplicates with merge / different-people buttons and can unlink a linked record; the server
 * checks the role again on every call.
 */
import "leaflet/dist/leaflet.css";
import "../styles/base.css";
import "../styles/persons.css";
import * as L from "leaflet";
import { addBaseMap } from "../lib/basemap";
import { messagesFrom, pageLang } from "../lib/i18n";
import { mapText } from "../lib/map-text";
import { api, currentRole, currentToken } from "../lib/staff";

interface RecordPerson {
  person_record_id: string;
  full_name: string;
  description: string | null;
  sex: string | null;
  date_of_birth: string | null;
  age: string | null;
  home_city: string | null;
  source_name: string | null;
  source_date: string;
}

interface RecordNote {
  note_record_id: string;
  person_record_id: string;
  linked_person_record_id: string | null;
  author_name: string | null;
  source_date: string;
  status: string | null;
  last_known_location: string | null;
  text: string;
}

interface RecordView {
  person: RecordPerson;
  linked: RecordPerson[];
  notes: RecordNote[];
  status_history: { status: string; source_date: string; author_name: string | null }[];
  last_known: { text: string; source_date: string; lat: number | null; lon: number | null } | null;
  photo_path: string | null;
}

interface Duplicate {
  id: number;
  person_record_id: string;
  other_record_id: string;
  other_name: string;
  person_name: string;
  score: number;
}

const REVIEWERS = ["moderator", "authority", "admin"];
const app = document.querySelector<HTMLElement>("[data-record-app]");

function need<T extends Element>(root: HTMLElement, selector: string): T {
  const el = root.querySelector<T>(selector);
  if (el === null) throw new Error(`missing ${selector}`);
  return el;
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(pageLang() === "en" ? "en-GB" : "fr-FR", {
    dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Paris",
  });
}

function recordLink(id: string, text: string): HTMLAnchorElement {
  const a = document.createElement("a");
  a.href = `/persons/record?${new URLSearchParams({ id })}`;
  a.textContent = text;
  return a;
}

function start(root: HTMLElement): void {
  const t = messagesFrom(root);
  const id = new URLSearchParams(window.location.search).get("id") ?? "";
  const message = need<HTMLElement>(root, '[data-message="record"]');
  let map: L.Map | null = null;

  function facts(p: RecordPerson): string {
    const parts: string[] = [];
    if (p.age) parts.push(`${t("persons.age")} ${p.age}`);
    if (p.date_of_birth) parts.push(`${t("record.born")} ${p.date_of_birth}`);
    if (p.sex) parts.push(t(`record.sex.${p.sex}`));
    if (p.home_city) parts.push(`${t("persons.city")} ${p.home_city}`);
    if (p.source_name) parts.push(`${t("record.source")} ${p.source_name}`);
    return parts.join(" · ");
  }

  function showNotes(view: RecordView): void {
    const list = need<HTMLOListElement>(root, "[data-notes]");
    list.replaceChildren();
    const names = new Map([view.person, ...view.linked].map((p) => [p.person_record_id, p]));
    for (const n of view.notes) {
      const item = document.createElement("li");
      item.className = "record-note";
      const head = document.createElement("p");
      head.className = "record-note-head";
      const parts = [when(n.source_date)];
      if (n.author_name) parts.push(`${t("record.note_by")} ${n.author_name}`);
      if (n.person_record_id !== view.person.person_record_id) {
        parts.push(`(${names.get(n.person_record_id)?.full_name ?? n.person_record_id})`);
      }
      head.textContent = parts.join(" ");
      if (n.status) {
        const badge = document.createElement("span");
        badge.className = `record-status status-${n.status}`;
        badge.textContent = t(`persons.status.${n.status}`);
        head.append(" ", badge);
      }
      const body = document.createElement("p");
      body.className = "record-note-text";
      body.textContent = n.text;
      item.append(head, body);
      if (n.last_known_location) {
        const where = document.createElement("p");
        where.className = "record-note-where";
        where.textContent = `${t("record.where")} ${n.last_known_location}`;
        item.append(where);
      }
      list.append(item);
    }
    if (view.notes.length === 0) {
      const empty = document.createElement("li");
      empty.textContent = t("record.no_notes");
      list.append(empty);
    }
  }

  function showHistory(view: RecordView): void {
    const list = need<HTMLOListElement>(root, "[data-history]");
    list.replaceChildren();
    for (const h of view.status_history) {
      const item = document.createElement("li");
      const badge = document.createElement("span");
      badge.className = `record-status status-${h.status}`;
      badge.textContent = t(`persons.status.${h.status}`);
      item.append(badge, ` ${when(h.source_date)}`);
      list.append(item);
    }
    if (view.status_history.length === 0) {
      const empty = document.createElement("li");
      empty.textContent = t("record.no_status");
      list.append(empty);
    }
  }

  function showLocation(view: RecordView): void {
    const text = need<HTMLElement>(root, "[data-location]");
    const box = need<HTMLElement>(root, "[data-map]");
    const last = view.last_known;
    text.textContent = last ? `${last.text} (${when(last.source_date)})` : t("record.no_location");
    if (last === null || last.lat === null || last.lon === null) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    map?.remove();
    map = L.map(box, { attributionControl: false, zoomControl: true }).setView(
      [last.lat, last.lon], 15);
    addBaseMap(map, root.dataset.tilesUrl ?? "");
    L.circleMarker([last.lat, last.lon], { radius: 8, className: "record-marker" })
      .bindTooltip(mapText(last.text), { permanent: true, direction: "top" })
      .addTo(map);
  }

  function showLinked(view: RecordView, reviewer: boolean): void {
    const panel = need<HTMLElement>(root, "[data-linked-panel]");
    const list = need<HTMLUListElement>(root, "[data-linked]");
    list.replaceChildren();
    panel.hidden = view.linked.length === 0;
    for (const p of view.linked) {
      const item = document.createElement("li");
      item.append(`${t("record.linked_one")} `, recordLink(p.person_record_id, p.full_name));
      const detail = facts(p);
      if (detail) item.append(` — ${detail}`);
      if (reviewer) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-secondary";
        button.textContent = t("record.unlink");
        button.addEventListener("click", () => {
          void act("/api/v1/persons/unlink", JSON.stringify({
            person_record_id: view.person.person_record_id,
            other_record_id: p.person_record_id,
          }));
        });
        item.append(" ", button);
      }
      list.append(item);
    }
  }

  async function showDuplicates(): Promise<void> {
    const panel = need<HTMLElement>(root, "[data-review]");
    const list = need<HTMLUListElement>(root, "[data-duplicates]");
    const found = await api<Duplicate[]>(
      `/api/v1/persons/duplicates?${new URLSearchParams({ record_id: id })}`);
    panel.hidden = false;
    list.replaceChildren();
    for (const d of found) {
      const other = d.other_record_id === id ? d.person_record_id : d.other_record_id;
      const name = d.other_record_id === id ? d.person_name : d.other_name;
      const item = document.createElement("li");
      item.append(recordLink(other, name),
        ` — ${t("record.score")} ${Math.round(d.score * 100)} % `);
      for (const [action, label] of [["link", "record.link"], ["dismiss", "record.dismiss"]] as const) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = action === "link" ? "btn" : "btn btn-secondary";
        button.textContent = t(label);
        button.addEventListener("click", () => {
          void act(`/api/v1/persons/duplicates/${d.id}/${action}`, "{}");
        });
        item.append(button, " ");
      }
      list.append(item);
    }
    if (found.length === 0) {
      const empty = document.createElement("li");
      empty.textContent = t("record.no_duplicates");
      list.append(empty);
    }
  }

  async function act(path: string, body: string): Promise<void> {
    const out = need<HTMLElement>(root, '[data-message="review"]');
    try {
      await api(path, { method: "POST", body });
      out.textContent = t("record.done");
      await load();
    } catch (error) {
      out.textContent = `${t("persons.error")} ${(error as Error).message}`;
    }
  }

  async function load(): Promise<void> {
    const response = await fetch(`/api/v1/persons/view/${id.split("/").map(encodeURIComponent).join("/")}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      message.textContent = t("record.not_found");
      need<HTMLElement>(root, "[data-name]").textContent = "—";
      return;
    }
    const view = (await response.json()) as RecordView;
    need<HTMLElement>(root, "[data-name]").textContent = view.person.full_name;
    need<HTMLElement>(root, "[data-facts]").textContent = facts(view.person);
    need<HTMLElement>(root, "[data-description]").textContent = view.person.description ?? "";
    const photoPanel = need<HTMLElement>(root, "[data-photo-panel]");
    photoPanel.hidden = view.photo_path === null;
    if (view.photo_path !== null) {
      const img = need<HTMLImageElement>(root, "[data-photo]");
      img.src = view.photo_path;
      img.alt = view.person.full_name;
    }
    need<HTMLElement>(root, "[data-record]").hidden = false;
    const reviewer = currentToken() !== null && REVIEWERS.includes(currentRole() ?? "");
    showNotes(view);
    showHistory(view);
    showLocation(view);
    showLinked(view, reviewer);
    if (reviewer) await showDuplicates();
  }

  if (id === "") {
    message.textContent = t("record.not_found");
    return;
  }
  void load();
}

if (app !== null) start(app);
