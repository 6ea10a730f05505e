/**
 * The observatory's words for where and when: a place a reader understands for an H3 cell
 * (« zone près de 48,863 N, 2,371 E », from the hexagons the map API returned), and the start of
 * a period that fits the data.
 */

/** The centre of each hexagon met in a map answer, to name a place instead of a cell id. */
export class Places {
  private readonly centres = new Map<string, [number, number]>();
  private readonly coord: Intl.NumberFormat;

  /** `near` holds `{lat}` and `{lon}`; `unknown` is said for a cell not met yet. */
  constructor(private readonly near: string, private readonly unknown: string, lang: string) {
    this.coord = new Intl.NumberFormat(lang === "en" ? "en-GB" : "fr-FR",
      { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  }

  /** Keep the centre (the mean of the corners) of each hexagon of a map answer. */
  remember(geo: GeoJSON.FeatureCollection): void {
    for (const feature of geo.features) {
      const cell = String(feature.properties?.cell ?? "");
      if (!cell || feature.geometry.type !== "Polygon") continue;
      const ring = feature.geometry.coordinates[0] ?? [];
      const corners = ring.slice(0, Math.max(1, ring.length - 1));
      const lon = corners.reduce((sum, p) => sum + (p[0] ?? 0), 0) / corners.length;
      const lat = corners.reduce((sum, p) => sum + (p[1] ?? 0), 0) / corners.length;
      this.centres.set(cell, [lat, lon]);
    }
  }

  has(cell: string): boolean {
    return this.centres.has(cell);
  }

  name(cell: string): string {
    const centre = this.centres.get(cell);
    if (!centre) return this.unknown;
    return this.near.replace("{lat}", this.coord.format(centre[0]))
      .replace("{lon}", this.coord.format(centre[1]));
  }
}

/** Seconds of the first bucket with anything counted between two dates at a grain, or null. */
export type Probe = (from: Date, to: Date, grain: string) => Promise<number | null>;

/**
 * The start of a period that fits the data up to `end`: the first activity of the last 30 days,
 * found by day, then by hour within that day, then by minute within that hour, less a margin
 * of 5% of the span (5 minutes at least). Null when nothing was counted.
 */
export async function fittedStart(probe: Probe, end: Date): Promise<Date | null> {
  const before = (seconds: number, ms: number): Date => new Date(Math.min(seconds * 1000 + ms, end.getTime()));
  let first = await probe(new Date(end.getTime() - 30 * 86400000), end, "d");
  if (first === null) return null;
  first = (await probe(new Date(first * 1000), before(first, 86400000), "h")) ?? first;
  first = (await probe(new Date(first * 1000), before(first, 3600000), "m")) ?? first;
  const span = end.getTime() - first * 1000;
  const start = new Date(first * 1000 - Math.max(5 * 60000, span * 0.05));
  start.setSeconds(0, 0);
  return start;
}
