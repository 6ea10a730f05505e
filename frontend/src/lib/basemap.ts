/**
 * The base layer of every map of the platform (issue 20), in one place.
 *
 * With TOCSIN_MAP_TILES_URL set, the deployment's tile server is used and nothing else. Without
 * it (the default), an embedded base map that needs no network at all: Paris and its inner
 * suburbs drawn from the files of frontend/public/basemap/ (communes, arrondissements, the Seine
 * and canals, every named street of Paris, stations; another département's streets when the build
 * had them, loaded once the view reaches it), on a canvas (thousands of streets as SVG
 * paths would make panning sluggish on a phone), with street and place labels placed by
 * importance and never on top of each other.
 *
 * Two palettes: "night" for the dark SOS page (no bright surface at night, a discreet screen),
 * "day" elsewhere, muted greys that neither dazzle in a dark control room nor hide the pages'
 * own coloured overlays (alert areas, SOS, units), which are drawn above it.
 */
import L from "leaflet";
import "../styles/basemap.css";
import { type BaseData, type LatLon, type Street, loadBaseData, loadPart } from "./geo-data";
import { pageLang } from "./i18n";

export type Theme = "day" | "night";

/** The sources' credit line, shown on the map as their licences ask. */
export function attribution(): string {
  return pageLang() === "en"
    ? "Base map: BAN, IGN (Licence Ouverte) · Ville de Paris, IDFM, © OpenStreetMap contributors (ODbL)"
    : "Fond : BAN, IGN (Licence Ouverte) · Ville de Paris, IDFM, © contributeurs d'OpenStreetMap (ODbL)";
}

interface Palette {
  background: string;
  water: string;
  arrondissement: string;
  arrondissementLine: string;
  commune: string;
  communeLine: string;
  park: string;
  streets: [string, string, string];
}

const PALETTES: Record<Theme, Palette> = {
  day: {
    background: "#e4e2dc",
    water: "#9cc0dd",
    arrondissement: "#eeece7",
    arrondissementLine: "#8a8f99",
    commune: "#e4e2dc",
    communeLine: "#9a9ea6",
    park: "#c8dfb9",
    streets: ["#ffffff", "#fbfaf7", "#f6f4ef"],
  },
  night: {
    background: "#101418",
    water: "#163a57",
    arrondissement: "#161c22",
    arrondissementLine: "#4d5866",
    commune: "#121619",
    communeLine: "#3f4853",
    park: "#18301f",
    streets: ["#6f7a88", "#56606c", "#434b55"],
  },
};

/** Lowest zoom at which each street class (major, street, lane) is drawn, then labelled. */
const DRAW_FROM = [12, 14, 15];
const LABEL_FROM = [14, 15, 17];
const MAX_LABELS = 220;
const SQUARE = /^(Place |Rond-Point|Carrefour )/;

/**
 * Give `map` its base layer: the deployment's tiles when `tilesUrl` is set, else the embedded
 * map. Returns at once; the embedded map appears when its files are loaded (a few hundred kB,
 * cached by the browser afterwards).
 */
export function addBaseMap(map: L.Map, tilesUrl = "", theme: Theme = "day"): void {
  followSize(map);
  if (tilesUrl !== "") {
    L.tileLayer(tilesUrl, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
    return;
  }
  const container = map.getContainer();
  const palette = PALETTES[theme];
  container.classList.add("basemap", `basemap-${theme}`);
  container.style.background = palette.background;
  container.dataset.basemap = "loading";
  // ODbL asks the sources to be credited on the map itself, also where a page hid Leaflet's.
  const control = map.attributionControl ?? L.control.attribution({ prefix: false }).addTo(map);
  control.addAttribution(attribution());
  const pane = map.createPane("basemap");
  pane.style.zIndex = "150";
  pane.style.pointerEvents = "none";
  const labelPane = map.createPane("basemap-labels");
  labelPane.style.zIndex = "350";
  labelPane.style.pointerEvents = "none";
  loadBaseData()
    .then((data) => {
      const streets = draw(map, data, palette);
      const labels = new Labels(map, data, labelPane);
      labels.update();
      followParts(map, data, (more) => {
        streets(more);
        labels.add(more);
      });
      container.dataset.basemap = "ready";
    })
    .catch(() => {
      container.dataset.basemap = "failed";
    });
}

/**
 * Keep the map's idea of its size right. Leaflet measures its box once, at creation: a map made
 * in a folded panel, a hidden tab or a card still being laid out kept that size (often zero) and
 * drew its base map in a corner of the box, grey elsewhere. Every map of the platform gets its
 * base layer here, so one observer per map fixes them all: when the box changes size (shown,
 * unfolded, rotated phone, resized window), Leaflet is told, on the next frame (never inside the
 * observer's own callback, which would loop).
 */
function followSize(map: L.Map): void {
  if (typeof ResizeObserver === "undefined") return;
  const box = map.getContainer();
  let last = "";
  let frame = 0;
  let removed = false;
  const observer = new ResizeObserver(() => {
    const size = `${box.clientWidth}x${box.clientHeight}`;
    if (size === last) return;
    last = size;
    if (box.clientWidth === 0 || box.clientHeight === 0) return; // hidden: wait until shown
    window.cancelAnimationFrame(frame);
    frame = window.requestAnimationFrame(() => {
      if (!removed) map.invalidateSize(); // a map removed meanwhile has nothing left to resize
    });
  });
  observer.observe(box);
  map.on("unload", () => {
    removed = true;
    window.cancelAnimationFrame(frame);
    observer.disconnect();
  });
}

/**
 * Load a département's streets (streets-XX.json) the first time the view, close enough to read
 * streets, reaches its box; hand them to `add`. Paris' streets come with the first download.
 */
function followParts(map: L.Map, data: BaseData, add: (streets: Street[]) => void): void {
  const pending = new Set(data.parts);
  const check = (): void => {
    if (pending.size === 0 || map.getZoom() < (DRAW_FROM[0] ?? 12)) return;
    const view = map.getBounds();
    for (const part of [...pending]) {
      const [south, west, north, east] = part.bbox;
      if (!view.intersects(L.latLngBounds([south, west], [north, east]))) continue;
      pending.delete(part);
      map.getContainer().dataset.basemapParts = "loading";
      loadPart(part)
        .then((streets) => {
          add(streets);
          const box = map.getContainer();
          box.dataset.basemapLoaded = [box.dataset.basemapLoaded, part.dept].filter(Boolean).join(" ");
          box.dataset.basemapParts = pending.size === 0 ? "all" : "some";
        })
        .catch(() => pending.add(part)); // tried again at the next move
    }
  };
  map.on("moveend", check);
  check();
}

/** Draw the areas and Paris' streets; returns how to draw more streets (a département's). */
function draw(map: L.Map, data: BaseData, palette: Palette): (streets: Street[]) => void {
  const renderer = L.canvas({ pane: "basemap", padding: 0.5 });
  const base = { renderer, interactive: false } as const;
  const areas = L.layerGroup();
  // Communes and arrondissements first, parks and water over them, streets on top.
  for (const area of data.areas.filter((a) => a.kind === "commune" || a.kind === "arrondissement")) {
    const paris = area.kind === "arrondissement";
    L.polygon(area.rings, {
      ...base,
      fillColor: paris ? palette.arrondissement : palette.commune,
      fillOpacity: 1,
      color: paris ? palette.arrondissementLine : palette.communeLine,
      weight: 1,
      dashArray: paris ? "6 4" : "2 4",
    }).addTo(areas);
  }
  // Parks (when the build had a green-space file: frontend/public/basemap/README.md).
  for (const area of data.areas.filter((a) => a.kind === "park")) {
    L.polygon(area.rings, { ...base, fillColor: palette.park, fillOpacity: 1, stroke: false })
      .addTo(areas);
  }
  for (const area of data.areas.filter((a) => a.kind === "water")) {
    L.polygon(area.rings, { ...base, fillColor: palette.water, fillOpacity: 1, stroke: false })
      .addTo(areas);
  }
  areas.addTo(map);

  const groups = [0, 1, 2].map(() => L.featureGroup());
  const addStreets = (streets: Street[]): void => {
    for (const street of streets) {
      if (street.lines.length === 0) continue;
      L.polyline(street.lines, { ...base, color: palette.streets[street.cls] ?? palette.streets[1],
        lineCap: "round", lineJoin: "round" }).addTo(groups[street.cls] ?? (groups[1] as L.FeatureGroup));
    }
  };
  addStreets(data.streets);
  const restyle = (): void => {
    const zoom = map.getZoom();
    groups.forEach((group, cls) => {
      const shown = zoom >= (DRAW_FROM[cls] ?? 14);
      if (shown && !map.hasLayer(group)) group.addTo(map);
      if (!shown && map.hasLayer(group)) group.remove();
      // Width grows with the zoom, majors wider: the street grid reads at a glance.
      const width = Math.max(1, (zoom - 11) * (cls === 0 ? 1.6 : cls === 1 ? 1.1 : 0.7));
      group.setStyle({ weight: width });
    });
  };
  map.on("zoomend", restyle);
  restyle();
  return (streets) => {
    addStreets(streets);
    restyle(); // the new lines take the current zoom's width
  };
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The space a label takes: a flat one is its box; a rotated one, a row of small squares along
 * its slant (one box around a long slanted name would cover a whole block and crowd out every
 * other name there).
 */
function footprint(c: Candidate): Box[] {
  const pad = 3;
  if (c.angle === 0) {
    return [{ x0: c.at.x - c.width / 2 - pad, y0: c.at.y - c.height / 2 - pad,
      x1: c.at.x + c.width / 2 + pad, y1: c.at.y + c.height / 2 + pad }];
  }
  const rad = (c.angle * Math.PI) / 180;
  const steps = Math.max(1, Math.ceil(c.width / c.height));
  const half = c.height / 2 + pad;
  const boxes: Box[] = [];
  for (let i = 0; i < steps; i += 1) {
    const along = -c.width / 2 + (c.width * (i + 0.5)) / steps;
    const x = c.at.x + along * Math.cos(rad);
    const y = c.at.y + along * Math.sin(rad);
    boxes.push({ x0: x - half, y0: y - half, x1: x + half, y1: y + half });
  }
  return boxes;
}

interface Candidate {
  text: string;
  kind: string;
  at: L.Point;
  angle: number;
  width: number;
  height: number;
}

/** Street and place labels as DOM text (crisp, selectable by tests), placed without overlap. */
class Labels {
  private readonly measure = document.createElement("canvas").getContext("2d");
  /** Paris' streets, then each département's as it is loaded. */
  private readonly streets: Street[];

  constructor(
    private readonly map: L.Map,
    private readonly data: BaseData,
    private readonly pane: HTMLElement,
  ) {
    this.streets = [...data.streets];
    map.on("moveend zoomend resize", () => this.update());
    map.on("zoomstart", () => pane.classList.add("basemap-labels-moving"));
  }

  add(streets: Street[]): void {
    this.streets.push(...streets);
    this.update();
  }

  private textWidth(text: string, px: number): number {
    if (this.measure === null) return text.length * px * 0.6;
    this.measure.font = `600 ${px}px system-ui, sans-serif`;
    return this.measure.measureText(text).width;
  }

  update(): void {
    const map = this.map;
    const zoom = map.getZoom();
    const view = map.getBounds().pad(0.05);
    const candidates: Candidate[] = [];
    // Area names while the whole city is in view; then streets take over.
    if (zoom <= 14) {
      for (const place of this.data.places) {
        if (place.kind !== "arrondissement" && place.kind !== "commune") continue;
        if (!view.contains(place.point)) continue;
        const px = place.kind === "arrondissement" ? 13 : 12;
        if (place.kind === "commune" && zoom < 12) continue;
        const text = place.kind === "arrondissement" ? place.name.split(" ")[0] ?? place.name : place.name;
        candidates.push(this.flat(zoom >= 13 ? place.name : text, place.kind, place.point, px));
      }
    }
    const streets: Street[] = [];
    for (const street of this.streets) {
      if (zoom < (LABEL_FROM[street.cls] ?? 15)) continue;
      if (!view.contains(street.point)) continue;
      streets.push(street);
    }
    const placed: { candidate: Candidate; length: number; cls: number }[] = [];
    for (const street of streets) {
      const c = this.alongStreet(street, zoom);
      if (c !== null) placed.push({ candidate: c.candidate, length: c.length, cls: street.cls });
    }
    placed.sort((a, b) => a.cls - b.cls || b.length - a.length);
    candidates.push(...placed.map((p) => p.candidate));
    // Park names from zoom 14, before the streets' (a park is a landmark people name).
    if (zoom >= 14) {
      const parks = this.data.places.filter((p) => p.kind === "park" && view.contains(p.point))
        .map((p) => this.flat(p.name, "park", p.point, 11));
      candidates.unshift(...parks);
    }
    if (zoom >= 15) {
      for (const place of this.data.places) {
        if (place.kind === "arrondissement" || place.kind === "commune" || place.kind === "park") continue;
        if (view.contains(place.point)) candidates.push(this.flat(place.name, "station", place.point, 11));
      }
    }
    this.render(candidates);
  }

  private flat(text: string, kind: string, point: LatLon, px: number): Candidate {
    return { text, kind, at: this.map.latLngToLayerPoint(point), angle: 0,
      width: this.textWidth(text, px) + 6, height: px + 4 };
  }

  /** A label along the street's longest line, at its middle, when the line is long enough. */
  private alongStreet(street: Street, zoom: number): { candidate: Candidate; length: number } | null {
    const px = street.cls === 0 ? 12 : 11;
    const width = this.textWidth(street.name, px) + 4;
    if (SQUARE.test(street.name)) {
      // A square has no line of its own (see tools/basemap_build.py): its name, flat, at its point.
      return { candidate: this.flat(street.name, "street", street.point, px), length: 0 };
    }
    if (street.lines.length === 0) {
      // A short lane known by one point: named only close in.
      if (zoom < 17) return null;
      return { candidate: this.flat(street.name, "street", street.point, px), length: 0 };
    }
    let best: L.Point[] = [];
    let bestLength = 0;
    for (const line of street.lines) {
      const points = line.map((p) => this.map.latLngToLayerPoint(p));
      let length = 0;
      for (let i = 1; i < points.length; i += 1) length += (points[i] as L.Point).distanceTo(points[i - 1] as L.Point);
      if (length > bestLength) {
        best = points;
        bestLength = length;
      }
    }
    if (bestLength < width * 0.9 || best.length < 2) return null;
    // The segment holding the line's midpoint gives the position and the angle.
    let walked = 0;
    for (let i = 1; i < best.length; i += 1) {
      const a = best[i - 1] as L.Point;
      const b = best[i] as L.Point;
      const step = a.distanceTo(b);
      if (walked + step >= bestLength / 2 || i === best.length - 1) {
        const t = step === 0 ? 0 : (bestLength / 2 - walked) / step;
        const at = L.point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
        let angle = (Math.atan2(b.y - a.y, b.x - a.x) * 180) / Math.PI;
        if (angle > 90) angle -= 180; // never upside down
        if (angle < -90) angle += 180;
        return { candidate: { text: street.name, kind: street.cls === 0 ? "major" : "street", at, angle,
          width, height: px + 4 }, length: bestLength };
      }
      walked += step;
    }
    return null;
  }

  private render(candidates: Candidate[]): void {
    const taken: Box[] = [];
    const nodes: HTMLElement[] = [];
    for (const c of candidates) {
      if (nodes.length >= MAX_LABELS) break;
      const boxes = footprint(c);
      if (boxes.some((b) => taken.some((t) => b.x0 < t.x1 && b.x1 > t.x0 && b.y0 < t.y1 && b.y1 > t.y0))) {
        continue;
      }
      taken.push(...boxes);
      const node = document.createElement("div");
      node.className = `basemap-label basemap-label-${c.kind}`;
      node.textContent = c.text;
      node.style.transform =
        `translate(${Math.round(c.at.x)}px, ${Math.round(c.at.y)}px) translate(-50%, -50%) rotate(${c.angle.toFixed(1)}deg)`;
      nodes.push(node);
    }
    this.pane.replaceChildren(...nodes);
    this.pane.classList.remove("basemap-labels-moving");
  }
}
