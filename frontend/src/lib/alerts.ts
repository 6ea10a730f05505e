/**
 * Shared by the citizen alerts page and the authority console: the alert shape the API
 * returns, a Leaflet map (no base layer unless the deployment names a tile server), and the
 * drawing of an alert's areas (CAP polygons and circles).
 */
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { addBaseMap } from "./basemap";
import { mapText } from "./map-text";

export interface Info {
  language: string | null;
  event: string;
  headline: string | null;
  description: string | null;
  instruction: string | null;
  web: string | null;
  categories: string[];
  urgency: string;
  severity: string;
  certainty: string;
  onset: string | null;
  expires: string | null;
}

export interface Area {
  desc: string;
  polygons: [number, number][][];
  circles: { lat: number; lon: number; radius_km: number }[];
}

export interface Alert {
  id: string;
  identifier: string;
  status: string;
  msg_type: string;
  state: string;
  author: string;
  approver: string | null;
  parent_id: string | null;
  created_at: string | null;
  published_at: string | null;
  expires_at: string | null;
  note: string | null;
  infos: Info[];
  areas: Area[];
  cap_url: string | null;
}

export const PARIS: L.LatLngTuple = [48.8566, 2.3522];

/** Create a map in `el`: the deployment's tiles (TOCSIN_MAP_TILES_URL) or the embedded map. */
export function createMap(el: HTMLElement, tiles: string): L.Map {
  const map = L.map(el, { center: PARIS, zoom: 12, zoomControl: true });
  addBaseMap(map, tiles);
  return map;
}

const COLOURS: Record<string, string> = {
  Extreme: "#c9191e",
  Severe: "#b34000",
  Moderate: "#000091",
  Minor: "#18753c",
};

/** Draw an alert's areas into `layer`; return their bounds (if any). */
export function drawAreas(layer: L.LayerGroup, alert: Alert): L.LatLngBounds | null {
  const colour = COLOURS[alert.infos[0]?.severity ?? ""] ?? "#3a3a3a";
  let bounds: L.LatLngBounds | null = null;
  const add = (shape: L.Polygon | L.Circle): void => {
    shape.addTo(layer);
    bounds = bounds ? bounds.extend(shape.getBounds()) : shape.getBounds();
  };
  for (const area of alert.areas) {
    for (const ring of area.polygons) {
      add(
        L.polygon(ring, { color: colour, weight: 2, fillOpacity: 0.2 }).bindTooltip(mapText(area.desc)),
      );
    }
    for (const c of area.circles) {
      add(
        L.circle([c.lat, c.lon], { radius: c.radius_km * 1000, color: colour, fillOpacity: 0.2 })
          .bindTooltip(mapText(area.desc)),
      );
    }
  }
  return bounds;
}

/** Pick the `<info>` in the page language, else the first. */
export function infoFor(alert: Alert, lang: string): Info | undefined {
  return alert.infos.find((i) => (i.language ?? "").startsWith(lang)) ?? alert.infos[0];
}

/** Append an element with text (never HTML: texts come from the API). */
export function el<K extends keyof HTMLElementTagNameMap>(
  parent: HTMLElement,
  tag: K,
  text = "",
  className = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  parent.appendChild(node);
  return node;
}

export function formatDate(iso: string | null, lang: string): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", {
    dateStyle: "short",
    timeStyle: "short",
  }).format(new Date(iso));
}

/** The CAP fields whose code values are shown in words (see tocsin/web/cap_labels.py). */
export type CapField = "status" | "msgtype" | "category" | "urgency" | "severity" | "certainty" | "response";

/** A CAP value in the page language (« Réel » for Actual); the value itself when unknown. */
export function capWord(t: (key: string) => string, field: CapField, value: string): string {
  const key = `cap.${field}.${value.toLowerCase()}`;
  const word = t(key);
  return word === key ? value : word;
}

/**
 * A badge with the CAP value in words and, in small type beside it, the code the feed carries
 * (« Réel Actual »): the author reads what people get and what the CAP message says.
 */
export function capBadge(
  parent: HTMLElement,
  t: (key: string) => string,
  field: CapField,
  value: string,
): HTMLElement {
  const badge = el(parent, "span", "", "alert-badge");
  badge.dataset.cap = field;
  const word = capWord(t, field, value);
  el(badge, "span", word);
  if (word !== value) {
    const code = el(badge, "small", value, "alert-cap-code");
    code.title = t("authority.cap_value");
  }
  return badge;
}

/** `key_one` or `key_other` by the page language's plural rule, with {n} filled in. */
export function plural(t: (key: string) => string, key: string, n: number, lang: string): string {
  const form = new Intl.PluralRules(lang === "en" ? "en-GB" : "fr-FR").select(n) === "one" ? "one" : "other";
  return t(`${key}_${form}`).replace("{n}", String(n));
}

/**
 * Fit `bounds` in a small map now and whenever its box changes size: a card drawn while the
 * console is still hidden (at sign-in) or still being laid out has no size yet, and Leaflet
 * would keep the zoom it computed for that.
 */
export function fitWhenSized(map: L.Map, box: HTMLElement, bounds: L.LatLngBounds, maxZoom: number): void {
  const fit = (): void => {
    if (box.clientWidth === 0 || box.clientHeight === 0) return;
    map.invalidateSize();
    map.fitBounds(bounds, { maxZoom });
  };
  fit();
  new ResizeObserver(fit).observe(box);
}
