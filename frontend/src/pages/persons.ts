/**
 * Missing-persons page: search (forgiving spelling), report a person, add information.
 *
 * Everything goes through the public API; results show only public fields. Contact details
 * typed in the forms go to the server, which seals them; they are never displayed back here.
 */
import "../styles/base.css";
import "../styles/persons.css";
import { errorText, formJson, postJson } from "../lib/form-json";
import { messagesFrom } from "../lib/i18n";

interface Result {
  person_record_id: string;
  full_name: string;
  score: number;
  home_city: string | null;
  age: string | null;
  latest_status: string | null;
}

const app = document.querySelector<HTMLElement>("[data-persons-app]");

function need<T extends Element>(selector: string): T {
  const el = app?.querySelector<T>(selector);
  if (el === null || el === undefined) throw new Error(`missing ${selector}`);
  return el;
}

function start(root: HTMLElement): void {
  const t = messagesFrom(root);
  const searchForm = need<HTMLFormElement>('[data-form="search"]');
  const results = need<HTMLOListElement>("[data-results]");
  const searchMessage = need<HTMLElement>('[data-message="search"]');
  const info = need<HTMLElement>("[data-info]");
  const noteForm = need<HTMLFormElement>('[data-form="note"]');
  const personForm = need<HTMLFormElement>('[data-form="person"]');

  function showResults(found: Result[]): void {
    results.replaceChildren();
    searchMessage.textContent = found.length === 0 ? t("persons.no_results") : "";
    for (const r of found) {
      const item = document.createElement("li");
      item.className = "result";
      const name = document.createElement("strong");
      name.className = "result-name";
      name.textContent = r.full_name;
      const meta = document.createElement("span");
      meta.className = "result-meta";
      const parts = [`${t("persons.score")} ${Math.round(r.score * 100)} %`];
      if (r.age) parts.push(`${t("persons.age")} ${r.age}`);
      if (r.home_city) parts.push(`${t("persons.city")} ${r.home_city}`);
      if (r.latest_status) parts.push(t(`persons.status.${r.latest_status}`));
      meta.textContent = parts.join(" · ");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-secondary";
      button.textContent = t("persons.inform");
      button.addEventListener("click", () => openInfo(r));
      const view = document.createElement("a");
      view.className = "btn btn-secondary";
      view.href = `/persons/record?${new URLSearchParams({ id: r.person_record_id })}`;
      view.textContent = t("persons.view");
      item.append(name, meta, view, button);
      results.append(item);
    }
  }

  function openInfo(r: Result): void {
    info.hidden = false;
    need<HTMLElement>("[data-info-name]").textContent = r.full_name;
    const hidden = noteForm.elements.namedItem("person_record_id") as HTMLInputElement;
    hidden.value = r.person_record_id;
    need<HTMLElement>('[data-message="note"]').textContent = "";
    info.scrollIntoView({ block: "start" });
    need<HTMLTextAreaElement>("#note-text").focus();
  }

  let asked = 0; // the latest search's ticket

  async function search(q: string): Promise<void> {
    searchMessage.textContent = t("persons.searching");
    const url = `/api/v1/persons/search?${new URLSearchParams({ q, limit: "20" })}`;
    const ticket = (asked += 1);
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    // A later search was typed meanwhile: its results are the ones asked for, not this name's.
    if (ticket !== asked) return;
    if (!response.ok) {
      searchMessage.textContent = `${t("persons.error")} ${await errorText(response)}`;
      return;
    }
    const body = (await response.json()) as { results: Result[] };
    if (ticket !== asked) return;
    showResults(body.results);
  }

  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = (searchForm.elements.namedItem("q") as HTMLInputElement).value.trim();
    if (q !== "") void search(q);
  });

  noteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = need<HTMLElement>('[data-message="note"]');
    void (async () => {
      const response = await postJson("/api/v1/persons/notes", formJson(noteForm));
      if (response.ok) {
        message.textContent = t("persons.note_posted");
        noteForm.reset();
      } else {
        message.textContent = `${t("persons.error")} ${await errorText(response)}`;
      }
    })();
  });

  personForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = need<HTMLElement>('[data-message="person"]');
    void (async () => {
      const body = formJson(personForm);
      const file = (personForm.elements.namedItem("photo_file") as HTMLInputElement).files?.[0];
      if (file !== undefined) {
        const data = new FormData();
        data.append("photo", file);
        const uploaded = await fetch("/api/v1/persons/photos", { method: "POST", body: data });
        if (!uploaded.ok) {
          message.textContent = `${t("persons.error")} ${await errorText(uploaded)}`;
          return;
        }
        body.photo_url = ((await uploaded.json()) as { photo_url: string }).photo_url;
      }
      const response = await postJson("/api/v1/persons", body);
      if (response.ok) {
        const created = (await response.json()) as { person_record_id: string };
        message.textContent = `${t("persons.posted")} ${created.person_record_id}`;
        personForm.reset();
      } else {
        message.textContent = `${t("persons.error")} ${await errorText(response)}`;
      }
    })();
  });
}

if (app !== null) start(app);
