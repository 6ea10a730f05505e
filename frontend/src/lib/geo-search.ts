/**
 * The address search box of the pages where someone places something (SOS, authority area,
 * safety check, shelter): the found point is shown on the map (marker and label) and used only
 * when the person confirms it. The search itself, offline, is geo-index.ts (re-exported here).
 */
import L from "leaflet";
import { type GeoHit, searchAddress } from "./geo-index";
import { pageLang } from "./i18n";
import { mapText } from "./map-text";

export { type GeoHit, type NearestStreet, nearestStreet, normalize, searchAddress } from "./geo-index";

const TEXT = {
  fr: {
    // Not "adresse": the pages' own "Adresse" fields keep a label of their own.
    label: "Chercher une rue, un numéro, une gare",
    placeholder: "ex. 12 rue de Rivoli, place d'Italie",
    search: "Trouver", // not "Chercher": the shelter page's own search button has that name
    none: "Aucune adresse trouvée dans la carte embarquée (Paris).",
    found: "Trouvé :",
    use: "Utiliser ce point",
    failed: "La recherche d'adresse n'est pas disponible.",
  },
  en: {
    label: "Find a street, a number, a station",
    placeholder: "e.g. 12 rue de Rivoli, place d'Italie",
    search: "Find",
    none: "No address found in the embedded map (Paris).",
    found: "Found:",
    use: "Use this point",
    failed: "Address search is unavailable.",
  },
};

export interface AddressSearch {
  element: HTMLElement;
  clear(): void;
}

/**
 * An address search box for `map`, inserted just before `anchor` (usually the map's element).
 * A chosen result is shown on the map with its name; `onConfirm` runs only when the person
 * presses "Use this point". Not a <form>: the map may sit inside a page's own form.
 */
export function attachAddressSearch(map: L.Map, anchor: HTMLElement, onConfirm: (hit: GeoHit) => void,
  options: { zoom?: number } = {}): AddressSearch {
  const text = TEXT[pageLang()];
  const form = document.createElement("div");
  form.className = "geo-search";
  form.setAttribute("role", "search");
  form.dataset.geoSearch = "";
  const id = `geo-q-${Math.random().toString(36).slice(2, 8)}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = text.label;
  const row = document.createElement("div");
  row.className = "geo-search-row";
  const input = document.createElement("input");
  input.type = "search";
  input.id = id;
  input.autocomplete = "off";
  input.placeholder = text.placeholder;
  input.dataset.geoQuery = "";
  const go = document.createElement("button");
  go.type = "button";
  go.textContent = text.search;
  row.append(input, go);
  const results = document.createElement("ul");
  results.className = "geo-results";
  results.dataset.geoResults = "";
  results.setAttribute("aria-live", "polite");
  const found = document.createElement("p");
  found.className = "geo-found";
  found.dataset.geoFound = "";
  found.setAttribute("role", "status"); // a screen reader says what was found before it is used
  found.hidden = true;
  const foundText = document.createElement("span");
  const use = document.createElement("button");
  use.type = "button";
  use.textContent = text.use;
  use.dataset.geoConfirm = "";
  found.append(foundText, use);
  form.append(label, row, results, found);
  anchor.before(form);

  let pin: L.CircleMarker | null = null;
  let chosen: GeoHit | null = null;
  let last: GeoHit[] = [];
  let timer = 0;
  let asked = 0; // the latest search's ticket: an older answer is dropped

  const show = (hit: GeoHit): void => {
    chosen = hit;
    const at: L.LatLngTuple = [hit.lat, hit.lon];
    pin?.remove();
    pin = L.circleMarker(at, { radius: 9, color: "#b34000", weight: 3, fillColor: "#ffb000",
      fillOpacity: 0.9, className: "geo-pin" })
      .bindTooltip(mapText(hit.label), { permanent: true, direction: "top", offset: [0, -8],
        className: "geo-pin-label" })
      .addTo(map);
    map.setView(at, Math.max(map.getZoom(), options.zoom ?? 16));
    foundText.textContent = `${text.found} ${hit.label} (${hit.detail})`;
    found.dataset.lat = hit.lat.toFixed(5); // what "use this point" will send, for a reader
    found.dataset.lon = hit.lon.toFixed(5);
    found.hidden = false;
    // A search still waiting (typed just before this pick) must not bring the list back.
    window.clearTimeout(timer);
    asked += 1;
    results.replaceChildren();
    use.focus();
  };

  const list = (hits: GeoHit[]): void => {
    last = hits;
    if (hits.length === 0) {
      const empty = document.createElement("li");
      empty.className = "geo-empty";
      empty.textContent = text.none;
      results.replaceChildren(empty);
      return;
    }
    results.replaceChildren(
      ...hits.map((hit) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        const name = document.createElement("span");
        name.textContent = hit.label;
        const detail = document.createElement("span");
        detail.className = "geo-result-detail";
        detail.textContent = ` · ${hit.detail}`;
        button.append(name, detail);
        button.addEventListener("click", () => show(hit));
        item.append(button);
        return item;
      }),
    );
  };

  const run = (pick: boolean): void => {
    const query = input.value;
    const ticket = (asked += 1);
    searchAddress(query)
      .then((hits) => {
        if (ticket !== asked) return; // a newer query is on its way
        if (query.trim() === "") {
          results.replaceChildren();
          return;
        }
        if (pick && hits[0] !== undefined) show(hits[0]);
        else list(hits);
      })
      .catch(() => {
        results.replaceChildren();
        const item = document.createElement("li");
        item.className = "geo-empty";
        item.textContent = text.failed;
        results.append(item);
      });
  };
  input.addEventListener("input", () => {
    found.hidden = true;
    last = [];
    window.clearTimeout(timer);
    timer = window.setTimeout(() => run(false), 150);
  });
  // Enter (or the button) shows the first result on the map, still to be confirmed.
  const pickFirst = (): void => {
    window.clearTimeout(timer);
    if (last[0] !== undefined && results.querySelector("button") !== null) show(last[0]);
    else run(true);
  };
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // never submits a form the map sits in
    pickFirst();
  });
  go.addEventListener("click", pickFirst);
  use.addEventListener("click", () => {
    if (chosen === null) return;
    found.hidden = true;
    pin?.remove();
    pin = null;
    onConfirm(chosen);
  });

  return {
    element: form,
    clear: () => {
      pin?.remove();
      pin = null;
      chosen = null;
      found.hidden = true;
      results.replaceChildren();
      input.value = "";
    },
  };
}
