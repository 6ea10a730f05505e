/**
 * Offline address search and reverse geocoding over the embedded base map's data (issue 20):
 * the index and its matching, without any page element (the search box is geo-search.ts).
 *
 * The index is the street list of streets.json (every named street of Paris, from the BAN) and
 * of the départements' streets-XX.json when the build had them (a suburb's street is labelled
 * with its commune: "Rue de Paris, Montreuil", and found by it: "rue de paris montreuil"), the
 * stations, parks and area names of places.json; house numbers come from numbers(-XX).json,
 * fetched only when a query starts with a number. Matching ignores case, accents, apostrophes and
 * hyphens ("place d italie" finds "Place d'Italie"), every word of the query must start a word
 * of the name, and common abbreviations are expanded ("bd", "av", "st"…).
 */
import {
  type LatLon,
  type Street,
  allStreets,
  houseNumber,
  loadBaseData,
  loadPart,
  metres,
  partHolds,
} from "./geo-data";
import { pageLang } from "./i18n";

export interface GeoHit {
  label: string;
  detail: string;
  kind: string;
  lat: number;
  lon: number;
}

const ABBREVIATIONS: Record<string, string> = {
  bd: "boulevard",
  bld: "boulevard",
  boul: "boulevard",
  av: "avenue",
  ave: "avenue",
  pl: "place",
  r: "rue",
  st: "saint",
  ste: "sainte",
  fg: "faubourg",
  sq: "square",
  imp: "impasse",
  pas: "passage",
  pt: "pont",
  gal: "general",
  mal: "marechal",
};

/** Lower case, no accents, apostrophes and hyphens as spaces: how names are compared. */
export function normalize(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/œ/g, "oe")
    .replace(/æ/g, "ae")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

function words(text: string): string[] {
  return normalize(text)
    .split(" ")
    .filter((w) => w !== "")
    .map((w) => ABBREVIATIONS[w] ?? w);
}

interface Entry {
  words: string[];
  joined: string;
  street: Street | null;
  hit: GeoHit;
}

let index: Promise<Entry[]> | null = null;

function areaLabel(area: string): string {
  return /^\d+(er|e)$/.test(area) ? `Paris ${area}` : area;
}

/** The département of a suburb street: its label already names the commune. */
const DEPARTMENTS: Record<string, string> = {
  "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne",
};

const KIND_LABEL: Record<string, [string, string]> = {
  metro: ["station de métro", "metro station"],
  rer: ["gare RER", "RER station"],
  train: ["gare", "railway station"],
  tramway: ["station de tramway", "tram stop"],
  val: ["station", "station"],
  commune: ["commune", "municipality"],
  arrondissement: ["arrondissement", "arrondissement"],
  park: ["parc, jardin", "park, garden"],
};

function loadIndex(): Promise<Entry[]> {
  index ??= Promise.all([loadBaseData(), allStreets()]).then(([data, streets]) => {
    const en = pageLang() === "en" ? 1 : 0;
    const entries: Entry[] = streets.map((street) => {
      // Outside Paris a street's name says little alone ("Rue de Paris" is in many communes):
      // its label and its words carry the commune.
      const suburb = street.part !== "";
      const w = words(suburb ? `${street.name} ${street.area}` : street.name);
      return {
        words: w,
        joined: w.join(" "),
        street,
        hit: { label: suburb ? `${street.name}, ${street.area}` : street.name,
          detail: suburb ? (DEPARTMENTS[street.part] ?? street.part) : areaLabel(street.area),
          kind: "street", lat: street.point[0], lon: street.point[1] },
      };
    });
    for (const place of data.places) {
      const w = words(place.name);
      entries.push({
        words: w,
        joined: w.join(" "),
        street: null,
        hit: { label: place.name, detail: KIND_LABEL[place.kind]?.[en] ?? place.kind, kind: place.kind,
          lat: place.point[0], lon: place.point[1] },
      });
    }
    return entries;
  });
  index.catch(() => {
    index = null;
  });
  return index;
}

/** Score of `entry` for the query words, or -1 when a word matches nothing. */
function score(entry: Entry, query: string[], joined: string): number {
  for (const q of query) {
    if (!entry.words.some((w) => w.startsWith(q))) return -1;
  }
  let s = 0;
  if (entry.joined === joined) s += 100;
  else if (entry.joined.startsWith(joined)) s += 50;
  else if (entry.joined.includes(joined)) s += 25;
  // Streets before stations of the same name (an address is what is asked), then majors, then
  // the shorter name (fewer words left unmatched).
  if (entry.street !== null) s += 10 - entry.street.cls * 2;
  return s - entry.words.length;
}

/**
 * The best matches for `query` (at most `limit`). "12 rue de rivoli" gives the house's own point
 * when the BAN has that number, else the street's.
 */
export async function searchAddress(query: string, limit = 8): Promise<GeoHit[]> {
  const match = /^\s*(\d+)\s*(bis|ter|quater|[a-d])?\b[\s,]*(.*)$/i.exec(query);
  const number = match ? `${match[1]}${(match[2] ?? "").toLowerCase()}` : null;
  const rest = match ? (match[3] ?? "") : query;
  const q = words(rest);
  if (q.length === 0 || q.join("").length < 2) return [];
  const entries = await loadIndex();
  const joined = q.join(" ");
  const ranked = entries
    .map((entry) => ({ entry, s: score(entry, q, joined) }))
    .filter((r) => r.s >= 0)
    .sort((a, b) => b.s - a.s || a.entry.hit.label.localeCompare(b.entry.hit.label, "fr"))
    .slice(0, limit);
  const hits: GeoHit[] = [];
  for (const { entry } of ranked) {
    if (number !== null && entry.street !== null) {
      const at = await houseNumber(entry.street, number);
      if (at !== null) {
        hits.push({ ...entry.hit, label: `${number} ${entry.hit.label}`, kind: "address", lat: at[0],
          lon: at[1] });
        continue;
      }
    }
    hits.push(entry.hit);
  }
  return hits;
}

function segmentMetres(p: LatLon, a: LatLon, b: LatLon): number {
  const k = Math.cos((p[0] * Math.PI) / 180) * 111_320;
  const ax = (a[1] - p[1]) * k;
  const ay = (a[0] - p[0]) * 111_320;
  const bx = (b[1] - p[1]) * k;
  const by = (b[0] - p[0]) * 111_320;
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

export interface NearestStreet {
  name: string;
  area: string;
  metres: number;
}

/** The named street nearest to a point (within `maxMetres`), for "where is this?" lines. */
export async function nearestStreet(lat: number, lon: number, maxMetres = 250): Promise<NearestStreet | null> {
  const data = await loadBaseData();
  const p: LatLon = [lat, lon];
  // The départements whose box holds the point (with ~3 km to spare) are loaded and searched too.
  const near = data.parts.filter((part) => partHolds(part, p, 0.03));
  const streets = [...data.streets, ...(await Promise.all(near.map((part) => loadPart(part)))).flat()];
  let best: NearestStreet | null = null;
  for (const street of streets) {
    // Cheap rejection first: a street whose point is far cannot be near (the longest streets
    // of Paris are split by arrondissement in the BAN, none spans more than ~3 km).
    if (metres(p, street.point) > 3500) continue;
    let d = metres(p, street.point);
    for (const line of street.lines) {
      for (let i = 1; i < line.length; i += 1) {
        d = Math.min(d, segmentMetres(p, line[i - 1] as LatLon, line[i] as LatLon));
      }
    }
    if (d <= maxMetres && (best === null || d < best.metres)) {
      best = { name: street.name, area: areaLabel(street.area), metres: Math.round(d) };
    }
  }
  return best;
}
