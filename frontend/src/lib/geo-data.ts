/**
 * The embedded base map's data (frontend/public/basemap/, built by tools/basemap_build.py):
 * fetched once per page from /static/basemap/ and shared by the map drawing (basemap.ts) and the
 * address search (geo-search.ts). Nothing here reaches outside the platform's own origin.
 *
 * Paris' streets come with every map; another département's (streets-XX.json, listed with its
 * box in places.json's `parts`) only when a map's view reaches its box or a search runs, and
 * house numbers only when a search names one: a page that draws central Paris stays light.
 *
 * Coordinates come as integers in 1e-5 degree, each line delta-encoded (see the build script).
 */

export type LatLon = [number, number];

export interface Street {
  /** Position in its file, where its house numbers are found too. */
  index: number;
  /** "" for Paris (streets.json), else the département ("93": streets-93.json). */
  part: string;
  name: string;
  /** Arrondissement ("13e") in Paris, the commune's name ("Montreuil") elsewhere. */
  area: string;
  /** 0 major (boulevard, avenue, quay, square), 1 street, 2 lane or passage. */
  cls: number;
  point: LatLon;
  lines: LatLon[][];
}

export interface Place {
  name: string;
  /** "metro", "rer", "train", "tramway", "val", "commune", "arrondissement", "park". */
  kind: string;
  point: LatLon;
}

export interface Area {
  kind: "commune" | "arrondissement" | "water" | "park";
  name: string;
  rings: LatLon[][];
}

/** A département's street files and the box its streets fill (south, west, north, east). */
export interface Part {
  dept: string;
  streets: string;
  numbers: string;
  count: number;
  bbox: [number, number, number, number];
}

export interface BaseData {
  /** Paris' streets; a département's are added by `loadPart`. */
  streets: Street[];
  places: Place[];
  areas: Area[];
  parts: Part[];
}

const BASE = "/static/basemap/";

function decode(flat: readonly number[], scale: number): LatLon[] {
  const out: LatLon[] = [];
  let lat = 0;
  let lon = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    lat += flat[i] as number;
    lon += flat[i + 1] as number;
    out.push([lat / scale, lon / scale]);
  }
  return out;
}

async function getJson<T>(name: string): Promise<T> {
  const response = await fetch(BASE + name);
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

type RawStreet = [string, string, number, number[], number[][]];
interface RawStreets {
  scale: number;
  streets: RawStreet[];
}
interface RawAreas {
  scale: number;
  areas: { k: Area["kind"]; n: string; r: number[][] }[];
}
interface RawPlaces {
  places: [string, string, number, number][];
  parts?: Part[];
}

function streetsOf(raw: RawStreets, part: string): Street[] {
  return raw.streets.map(([name, area, cls, point, lines], index) => ({
    index,
    part,
    name,
    area,
    cls,
    point: decode(point, raw.scale)[0] as LatLon,
    lines: lines.map((line) => decode(line, raw.scale)),
  }));
}

let loading: Promise<BaseData> | null = null;

/** The base map's data; one download per page, whatever the number of maps. */
export function loadBaseData(): Promise<BaseData> {
  loading ??= Promise.all([
    getJson<RawStreets>("streets.json"),
    getJson<RawPlaces>("places.json"),
    getJson<RawAreas>("areas.json"),
  ]).then(([s, p, a]) => ({
    streets: streetsOf(s, ""),
    parts: p.parts ?? [],
    places: p.places.map(([name, kind, lat, lon]) => ({ name, kind, point: [lat, lon] as LatLon })),
    areas: a.areas.map((area) => ({
      kind: area.k,
      name: area.n,
      rings: area.r.map((ring) => decode(ring, a.scale)),
    })),
  }));
  loading.catch(() => {
    loading = null; // a failed download may be tried again by the next map
  });
  return loading;
}

const partLoading = new Map<string, Promise<Street[]>>();

/** A département's streets (fetched once per page), whatever the number of maps asking. */
export function loadPart(part: Part): Promise<Street[]> {
  let loading = partLoading.get(part.dept);
  if (loading === undefined) {
    loading = getJson<RawStreets>(part.streets).then((raw) => streetsOf(raw, part.dept));
    loading.catch(() => partLoading.delete(part.dept)); // tried again by the next caller
    partLoading.set(part.dept, loading);
  }
  return loading;
}

/** Whether a département's box holds `point`, give or take `margin` degrees. */
export function partHolds(part: Part, point: LatLon, margin = 0): boolean {
  const [south, west, north, east] = part.bbox;
  return point[0] >= south - margin && point[0] <= north + margin
    && point[1] >= west - margin && point[1] <= east + margin;
}

/** Every street of the embedded data, the départements' included (the address search's list). */
export async function allStreets(): Promise<Street[]> {
  const data = await loadBaseData();
  const parts = await Promise.all(data.parts.map((part) => loadPart(part)));
  return [...data.streets, ...parts.flat()];
}

interface RawNumbers {
  scale: number;
  numbers: (number | string)[][];
}

const numbersLoading = new Map<string, Promise<RawNumbers>>();

function numbersFile(street: Street): Promise<RawNumbers> {
  const name = street.part === "" ? "numbers.json" : `numbers-${street.part}.json`;
  let loading = numbersLoading.get(name);
  if (loading === undefined) {
    loading = getJson<RawNumbers>(name);
    loading.catch(() => numbersLoading.delete(name));
    numbersLoading.set(name, loading);
  }
  return loading;
}

/**
 * The point of house number `label` ("12", "12bis") in `street`, or null when the BAN has none.
 * A numbers file (1.6 MB for Paris) is fetched only the first time a search names a number there.
 */
export async function houseNumber(street: Street, label: string): Promise<LatLon | null> {
  const data = await numbersFile(street);
  const flat = data.numbers[street.index] ?? [];
  const wanted = label.toLowerCase();
  for (let i = 0; i + 2 < flat.length; i += 3) {
    if (String(flat[i]).toLowerCase() === wanted) {
      return [
        street.point[0] + (flat[i + 1] as number) / data.scale,
        street.point[1] + (flat[i + 2] as number) / data.scale,
      ];
    }
  }
  return null;
}

/** Distance in metres (equirectangular: exact enough within a city). */
export function metres(a: LatLon, b: LatLon): number {
  const k = Math.cos(((a[0] + b[0]) / 2) * (Math.PI / 180));
  return Math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * k);
}
