/**
 * The embedded base map's data (frontend/public/basemap/, built by tools/basemap_build.py):
 * fetched once per page from /static/basemap/ and shared by the map drawing (basemap.ts) and the
 * address search (geo-search.ts). Nothing here reaches outside the platform's own origin.
 *
 * Coordinates come as integers in 1e-5 degree, each line delta-encoded (see the build script).
 */

export type LatLon = [number, number];

export interface Street {
  index: number;
  name: string;
  /** Arrondissement ("13e") or commune INSEE code. */
  area: string;
  /** 0 major (boulevard, avenue, quay, square), 1 street, 2 lane or passage. */
  cls: number;
  point: LatLon;
  lines: LatLon[][];
}

export interface Place {
  name: string;
  /** "metro", "rer", "train", "tramway", "val", "commune", "arrondissement". */
  kind: string;
  point: LatLon;
}

export interface Area {
  kind: "commune" | "arrondissement" | "water";
  name: string;
  rings: LatLon[][];
}

export interface BaseData {
  streets: Street[];
  places: Place[];
  areas: Area[];
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
}

let loading: Promise<BaseData> | null = null;

/** The base map's data; one download per page, whatever the number of maps. */
export function loadBaseData(): Promise<BaseData> {
  loading ??= Promise.all([
    getJson<RawStreets>("streets.json"),
    getJson<RawPlaces>("places.json"),
    getJson<RawAreas>("areas.json"),
  ]).then(([s, p, a]) => ({
    streets: s.streets.map(([name, area, cls, point, lines], index) => ({
      index,
      name,
      area,
      cls,
      point: decode(point, s.scale)[0] as LatLon,
      lines: lines.map((line) => decode(line, s.scale)),
    })),
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

interface RawNumbers {
  scale: number;
  numbers: (number | string)[][];
}

let numbersLoading: Promise<RawNumbers> | null = null;

/**
 * The point of house number `label` ("12", "12bis") in `street`, or null when the BAN has none.
 * The numbers file (1.6 MB) is fetched only the first time a search names a number.
 */
export async function houseNumber(street: Street, label: string): Promise<LatLon | null> {
  numbersLoading ??= getJson<RawNumbers>("numbers.json");
  numbersLoading.catch(() => {
    numbersLoading = null;
  });
  const data = await numbersLoading;
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
